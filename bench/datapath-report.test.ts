/**
 * The data-plane report's arithmetic on hand-made results: the conservative
 * baseline, target verdicts, skipped rows, and a run whose flows failed is not ok.
 */
import { describe, expect, it } from 'vitest';
import {
  QUICK_DATAPATH,
  type DatapathResults,
  type PairRound,
  type ScenarioResult,
} from './datapath.js';
import { formatDatapathReport } from './datapath-report.js';

function sc(
  kind: ScenarioResult['kind'],
  entries: number,
  gbps: number,
  p50Ms: number,
  extra: Partial<ScenarioResult> = {},
): ScenarioResult {
  return {
    kind,
    entries,
    bps: gbps * 1e9,
    runsBps: [gbps * 1e9],
    retransmits: 0,
    conn: { connections: 100, failures: 0, connPerSec: 1000, p50Ms, p99Ms: p50Ms * 2 },
    ...(kind === 'vnp' || kind === 'linear' ? { deniedBlocked: true } : {}),
    ...extra,
  };
}

function results(scenarios: ScenarioResult[], pairs: PairRound[] = []): DatapathResults {
  return { config: { ...QUICK_DATAPATH, sizes: [10_000, 100_000] }, scenarios, applies: [], pairs };
}

const round = (none: number, conntrack: number, empty: number, vnp: number): PairRound => ({
  noneBps: none * 1e9,
  conntrackBps: conntrack * 1e9,
  emptyBps: empty * 1e9,
  vnpBps: vnp * 1e9,
});

describe('datapath report', () => {
  it('judges throughput by the median of the interleaved rounds, latency by the table', () => {
    const r = results(
      [
        sc('none', 0, 10, 0.1),
        sc('vnp', 0, 9.9, 0.11),
        sc('vnp', 10, 9.8, 0.12),
        sc('vnp', 10_000, 9.6, 0.12),
        sc('vnp', 100_000, 9.5, 0.13),
        sc('linear', 10_000, 9.9, 0.5),
        { kind: 'linear', entries: 100_000, skipped: 'too slow' },
        sc('none', 0, 12, 0.2, { again: true }),
      ],
      // vnp ÷ no policy: 0.9897, 0.5 (a slow spell on one side), 0.9495 → median 0.9495.
      [round(10, 9.5, 9.7, 9.6), round(12, 6, 12, 6), round(10, 9.4, 9.9, 9.4)],
    );
    const { report, targets, references, ok } = formatDatapathReport(r);
    expect(ok).toBe(true);
    expect(targets[0]!.value).toBeCloseTo(9.4 / 9.9);
    expect(targets[0]!.met).toBe(false);
    expect(targets[1]!.value).toBeCloseTo(0.13 / 0.12);
    expect(targets[1]!.met).toBe(true);
    // Informational: vnp ÷ no PEP 0.96, 0.5, 0.94; conntrack ÷ no PEP 0.95, 0.5, 0.94;
    // no policy ÷ conntrack 1.021, 2, 1.053.
    // The agent's targets: undecided without apply timings and an end-to-end figure.
    expect(targets).toHaveLength(5);
    expect(targets.slice(2).every((t) => t.met === undefined)).toBe(true);
    expect(references.map((x) => x.value)).toEqual([
      expect.closeTo(0.94),
      expect.closeTo(0.94),
      expect.closeTo(9.9 / 9.4),
    ]);
    expect(report).toContain('vnp, no policy');
    expect(report).toContain('interleaved rounds');
    expect(report).toContain('skipped: too slow');
    expect(report).toContain('MISSED');
  });

  it('is not ok when the allowed flow failed or a denied port was reachable', () => {
    const failed = sc('vnp', 10, 9, 0.1);
    failed.conn!.failures = 3;
    expect(formatDatapathReport(results([sc('none', 0, 10, 0.1), failed])).ok).toBe(false);
    const open = sc('linear', 10_000, 9, 0.1, { deniedBlocked: false });
    const out = formatDatapathReport(results([sc('none', 0, 10, 0.1), open]));
    expect(out.ok).toBe(false);
    expect(out.report).toContain('a port nothing allows was reachable');
  });

  it('judges the agent: proportional applies and the end-to-end p99', () => {
    const apply = (entries: number, applyP50Ms: number) => ({
      entries,
      changes: 20,
      deltas: 20,
      applyP50Ms,
      applyP99Ms: applyP50Ms * 2,
      nftP50Ms: applyP50Ms / 2,
      nftP99Ms: applyP50Ms,
      sweepP50Ms: 1,
      fullRenderMs: 10,
      fullApplyMs: 10,
    });
    const r: DatapathResults = {
      ...results([sc('none', 0, 10, 0.1)]),
      applies: [apply(10, 8), apply(10_000, 9), apply(100_000, 12)],
      endToEnd: { entries: 10_002, flips: 30, p50Ms: 20, p99Ms: 60, maxMs: 61, missed: 0 },
    };
    const [ratio, p50, endToEnd] = formatDatapathReport(r).targets.slice(2);
    expect(ratio!.value).toBeCloseTo(12 / 8);
    expect(ratio!.met).toBe(false);
    expect(p50!.met).toBe(true);
    expect(endToEnd!.value).toBe(60);
    expect(endToEnd!.met).toBe(false);
    expect(formatDatapathReport(r).report).toContain('p99 60');
  });

  it('leaves a target undecided when its scenarios were not measured', () => {
    const { targets } = formatDatapathReport(results([sc('none', 0, 10, 0.1)]));
    expect(targets.every((t) => t.met === undefined)).toBe(true);
  });
});
