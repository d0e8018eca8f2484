/**
 * An in-process CPU profile of a window of a benchmark (node:inspector), written as a
 * `.cpuprofile` (Chrome DevTools / speedscope). Benchmarks profile only their measured
 * rounds, not setup, when `VNP_BENCH_PROFILE=DIR` is set.
 */
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';

/**
 * Start profiling; the returned function stops and writes the profile to `path`.
 *
 * @example const stop = await startCpuProfile(); …; await stop('/tmp/x.cpuprofile');
 */
export async function startCpuProfile(
  samplingIntervalUs = 200,
): Promise<(path: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
  await session.post('Profiler.start');
  return async (path: string) => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await writeFile(path, JSON.stringify(profile));
  };
}
