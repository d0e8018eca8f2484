/**
 * Runs a bench script in a fresh Node process (`node --import tsx SCRIPT ARGS`) and
 * returns the JSON of the last line it prints. Fresh processes give each measurement a
 * clean heap and clean JIT state, and an honest RSS.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs `bench/<script>` with the arguments; throws with the tail of stderr on failure.
 *
 * @example
 *   const r = spawnJson<JudgeRun>('judge-child.ts', ['--judge', 'seed', '--policies', '10']);
 */
export function spawnJson<T>(script: string, args: readonly string[]): T {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const file = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const out = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (out.status !== 0) {
    const why = out.error?.message ?? out.stderr.slice(-2000);
    throw new Error(`${script} ${args.join(' ')} failed (status ${out.status}): ${why}`);
  }
  const last = out.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}
