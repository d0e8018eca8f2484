/**
 * The timing harness and the table helpers: what they compute, not how fast.
 */
import { describe, expect, it } from 'vitest';
import type { BenchFlow } from './generate.js';
import { firstPassMs, measure, percentile } from './measure.js';
import { formatNs, formatRate, formatRatio, formatTable } from './table.js';

const pool: BenchFlow[] = [1, 2, 3, 4].map((port) => ({
  src: 'a',
  dst: 'b',
  protocol: 'tcp',
  port,
}));

describe('measure', () => {
  it('cycles through the pool, counts allowed verdicts and reports rounds', () => {
    const seen = new Set<number>();
    const m = measure((f) => (seen.add(f.port), f.port % 2 === 0), pool, {
      warmupMs: 5,
      runMs: 30,
      rounds: 3,
    });
    expect([...seen].sort()).toEqual([1, 2, 3, 4]);
    expect(m.rounds).toHaveLength(3);
    expect(m.opsPerSec).toBe(Math.max(...m.rounds));
    expect(m.allowed).toBeGreaterThan(0);
    expect(m.allowed).toBeLessThan(m.ops);
  });

  it('times one full pass', () => {
    let calls = 0;
    expect(firstPassMs(() => (calls++, true), pool)).toBeGreaterThanOrEqual(0);
    expect(calls).toBe(pool.length);
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([4, 1, 3, 2], 50)).toBe(2);
    expect(percentile([4, 1, 3, 2], 99)).toBe(4);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('table', () => {
  it('formats rates, ratios and durations', () => {
    expect(formatRate(6_100_000)).toBe('6.10 M');
    expect(formatRatio(1234.5)).toBe('1,235×');
    expect(formatRatio(1.234)).toBe('1.23×');
    expect(formatNs(1_485_549)).toBe('1.49 ms');
  });

  it('aligns columns, numbers to the right', () => {
    const t = formatTable(
      ['judge', 'rate'],
      [
        ['vnp', '6.10 M'],
        ['Cedar (wasm)', '781'],
      ],
    ).split('\n');
    expect(t[2]).toBe('vnp           6.10 M');
    expect(t[3]).toBe('Cedar (wasm)     781');
  });
});
