/**
 * The core suite wired end to end at a toy scale: every judge produces a row, the slow
 * baselines are skipped above the limit, nobody disagrees, and the compile child runs
 * in its own process and reports. Catches drift between the bench and the engine API.
 */
import { describe, expect, it } from 'vitest';
import { runCore, type CoreOptions } from './core.js';
import type { JudgeRun } from './judge-run.js';
import { spawnJson } from './spawn-child.js';

const TOY: CoreOptions = {
  sizes: [4, 8],
  records: 24,
  flows: 32,
  timing: { warmupMs: 5, runMs: 20 },
  agreement: { flows: 32, ms: 500 },
  slowBaselinesUpTo: 4,
  isolate: false,
  compile: { records: 200, policies: 20, changes: 5 },
};

describe('core suite', () => {
  it('measures every judge at every size and runs the compile child', async () => {
    const lines: string[] = [];
    const r = await runCore(TOY, (l) => lines.push(l));
    expect(r.compileError).toBeUndefined();
    const at = (n: number): string[] =>
      r.verdicts.filter((v) => v.policies === n).map((v) => v.judge);
    expect(at(4)).toEqual([
      'vnp engine.check',
      'vnp engine.verdict (fast path)',
      'reference evaluator (§2 scan)',
      'seed get_policy_for_traffic',
      'Cedar (wasm)',
      'Casbin',
    ]);
    expect(
      r.verdicts.filter((v) => v.skipped !== undefined).map((v) => `${v.judge}@${v.policies}`),
    ).toEqual(['Cedar (wasm)@8', 'Casbin@8']);
    for (const v of r.verdicts.filter((x) => x.skipped === undefined)) {
      expect(v.disagreements, v.judge).toBe(0);
      expect(v.opsPerSec, v.judge).toBeGreaterThan(0);
    }
    expect(lines.some((l) => l.includes('!!!'))).toBe(false);
    expect(r.compile).toMatchObject({ records: 200, policies: 20, changes: 5 });
    expect(r.compile!.loadMs).toBeGreaterThan(0);
    expect(r.compile!.peakRss).toBeGreaterThan(r.compile!.rssBeforeLoad / 2);
  });

  it('measures one judge in a child process', () => {
    const args = ['--judge', 'seed', '--policies', '4', '--records', '24', '--flows', '32'];
    const timing = ['--warmup-ms', '5', '--run-ms', '20', '--sample', '32', '--sample-ms', '500'];
    const run = spawnJson<JudgeRun>('judge-child.ts', [...args, ...timing]);
    expect(run).toMatchObject({ id: 'seed', vnp: false });
    expect(run.sample).toHaveLength(32);
    expect(run.measurement.opsPerSec).toBeGreaterThan(0);
  });
});
