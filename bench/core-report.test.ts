/**
 * The report's arithmetic: ratios, target verdicts and the loud marking of
 * disagreements, on hand-made results (no timing involved).
 */
import { describe, expect, it } from 'vitest';
import { formatCoreReport, ratiosOf, targetsOf } from './core-report.js';
import { FULL_CORE, type CoreResults, type VerdictRow } from './core.js';

function row(
  policies: number,
  judge: string,
  opsPerSec: number,
  extra: Partial<VerdictRow> = {},
): VerdictRow {
  return {
    policies,
    judge,
    vnp: judge.startsWith('vnp'),
    buildMs: 1,
    opsPerSec,
    medianOpsPerSec: opsPerSec,
    rounds: [opsPerSec],
    ops: 100,
    seconds: 1,
    allowed: 80,
    compared: 128,
    disagreements: 0,
    examples: [],
    ...extra,
  };
}

function results(vnpAt10k: number, extra: Partial<VerdictRow> = {}): CoreResults {
  return {
    options: FULL_CORE,
    verdicts: [
      row(10, 'vnp engine.check', 1e5),
      row(10, 'vnp engine.verdict (fast path)', 6e6),
      row(10, 'seed get_policy_for_traffic', 1e5),
      row(1000, 'vnp engine.verdict (fast path)', 5.5e6),
      row(1000, 'Cedar (wasm)', 1000, extra),
      row(1000, 'Casbin', 10_000),
      row(10_000, 'vnp engine.verdict (fast path)', vnpAt10k),
    ],
    compile: {
      records: 100_000,
      policies: 10_000,
      documents: 210_005,
      rssBeforeLoad: 1,
      rssAfterLoad: 2,
      peakRss: 2 * 1024 ** 3,
      loadMs: 1500,
      stats: {},
      firstSnapshotMs: 1,
      statsAtChanges: {},
      changes: 200,
      applyP50Ms: 0.1,
      applyP99Ms: 4,
      applyMaxMs: 6,
      meanSides: 1,
    },
  };
}

describe('core report', () => {
  it('computes the §6 ratios from the fastest vnp call', () => {
    const ratios = Object.fromEntries(ratiosOf(results(5e6)).map((r) => [r.what, r.value]));
    expect(ratios['vnp / Cedar @1000 policies']).toBe(5500);
    expect(ratios['vnp / Casbin @1000 policies']).toBe(550);
    expect(ratios['vnp@10 / vnp@10000 (slowdown)']).toBeCloseTo(1.2);
    expect(ratios['vnp / seed @10 policies']).toBe(60);
  });

  it('judges each target, met or not', () => {
    const r = results(3e6);
    const met = Object.fromEntries(
      targetsOf(r, ratiosOf(r)).map((t) => [t.what.split(' (')[0], t.met]),
    );
    expect(met).toMatchObject({
      'flow verdicts, one core': false, // 3 M/s at 10,000 policies
      'vnp / Cedar @1000 policies': true,
      'vnp / Casbin @1000 policies': false, // 550×
      'vnp@10 / vnp@10000': false, // 2×
      'full compile time': true,
      'full compile peak RSS': false, // 2 GiB
      'one tag change → deltas ready': true,
    });
  });

  it('puts a failing row first and marks the judge when verdicts disagree', () => {
    const r = results(6e6, { disagreements: 3 });
    const targets = targetsOf(r, ratiosOf(r));
    expect(targets[0]).toMatchObject({ met: false, what: expect.stringContaining('!!!') });
    expect(formatCoreReport(r)).toContain('!!! DISAGREES');
  });

  it('reports a failed compile child as a miss', () => {
    const r: CoreResults = { ...results(6e6), compile: undefined, compileError: 'boom' };
    const compile = targetsOf(r, ratiosOf(r)).filter((t) => t.what.startsWith('full compile'));
    expect(compile.map((t) => t.met)).toEqual([false, false]);
    expect(formatCoreReport(r)).toContain('compile child failed: boom');
  });
});
