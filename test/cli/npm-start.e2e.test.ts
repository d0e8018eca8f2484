/**
 * `npm start` as an operator runs it: SIGTERM to npm's pid stops the manager too.
 * npm 11 forwards the signal to its child only; the start script `exec`s node, so
 * that child is the manager itself and not a `sh -c` that dies and leaves the
 * manager running (issue 16).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnManager, waitReady } from './harness.js';

/** Every live descendant of `pid` (from /proc: the fourth field of stat is the parent). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while the table was read.
    }
  }
  const found: number[] = [];
  const walk = (p: number): void => {
    for (const [child, parent] of parentOf)
      if (parent === p) {
        found.push(child);
        walk(child);
      }
  };
  walk(pid);
  return found;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start', { timeout: 180_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vnp-npm-start-'));
  const leftovers: number[] = [];
  afterAll(() => {
    for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops the manager when npm gets SIGTERM', async () => {
    const { child: npm, url } = await spawnManager(['npm', 'start'], dataDir);
    await waitReady(url, npm, () => npm.log, 150_000);
    const manager = descendants(npm.pid!);
    leftovers.push(npm.pid!, ...manager);
    expect(manager.length).toBeGreaterThan(0);

    npm.kill('SIGTERM');
    const deadline = Date.now() + 20_000;
    while (manager.some(alive) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(manager.filter(alive), `still running after npm got SIGTERM:\n${npm.log}`).toEqual([]);
  });
});
