/**
 * Python for the traffic probes, resolved once. `python3` on PATH may be a shim
 * (pyenv: a shell script and a second interpreter, about 0.4 s of CPU per start)
 * and every probe is one process: its real path, started with `-S` (no site
 * packages to scan), costs a fraction. And a bounded pool for the probes: dozens
 * of interpreters started at once on a small machine only wait for each other.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

let resolved: string | undefined;

/**
 * The real path of the `python3` on PATH (asked once per process).
 *
 * @example spawn('ip', ['netns', 'exec', ns, python(), '-S', '-c', CODE])
 */
export function python(): string {
  if (resolved !== undefined) return resolved;
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const path = r.stdout?.trim();
  if (r.status !== 0 || !path)
    throw new Error(`python3 is needed by the traffic probes: ${r.error?.message ?? r.stderr}`);
  resolved = path;
  return path;
}

/**
 * Run at most `limit` tasks at once.
 *
 * @example const limited = limiter(4); await Promise.all(flows.map((f) => limited(() => probeOne(f))));
 */
export function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    while (running >= limit) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/**
 * The probes' shared pool: eight per core. A probe spends its life waiting for an
 * answer (a deny waits out its whole timeout), and the resolved interpreter starts in
 * tens of milliseconds, so the bound is on start-up CPU, not on waiting probes.
 */
export const probeSlots = limiter(8 * availableParallelism());
