/**
 * The timing harness: warm up, then run whole batches until the time box is spent,
 * reading `process.hrtime.bigint()` only between batches so the clock costs nothing
 * per operation. Batches double until one lasts ≥ 20 ms, so a slow judge (Cedar at
 * 1,000 policies) still completes whole operations and a fast one runs millions.
 * The budget is split into rounds and the best round is reported: on a shared
 * machine, other work only ever slows a round down.
 */
import type { BenchFlow } from './generate.js';

/** One timed run: the best of its rounds (interference only ever slows a round down). */
export interface Measurement {
  ops: number;
  seconds: number;
  /** Best round's rate. */
  opsPerSec: number;
  /** Median round's rate. */
  medianOpsPerSec: number;
  /** Every round's rate, in order. */
  rounds: number[];
  /** Verdicts that came out allow (kept so the work cannot be optimised away). */
  allowed: number;
}

/** Time boxes of one measurement. */
export interface MeasureOptions {
  warmupMs: number;
  /** Total timed budget, split evenly over the rounds. */
  runMs: number;
  /** Rounds; the best is reported. Default 5. */
  rounds?: number;
}

interface Round {
  ops: number;
  seconds: number;
  allowed: number;
}

type Loop = (
  fn: (f: BenchFlow) => boolean,
  pool: readonly BenchFlow[],
  n: number,
  start: number,
) => number;

/**
 * A fresh copy of the hot loop per measured function: V8 keeps type feedback per
 * function, so one shared loop would turn megamorphic after the first few judges and
 * tax every later one. `new Function` gives each judge its own monomorphic loop.
 */
function freshLoop(): Loop {
  return new Function(
    'fn',
    'pool',
    'n',
    'start',
    'let ok = 0; let i = start; const len = pool.length;' +
      'for (let k = 0; k < n; k++) { if (fn(pool[i])) ok++; if (++i === len) i = 0; }' +
      'return ok;',
  ) as Loop;
}

function runFor(
  loop: Loop,
  fn: (f: BenchFlow) => boolean,
  pool: readonly BenchFlow[],
  ms: number,
): Round {
  const budget = BigInt(Math.round(ms * 1e6));
  let batch = 1;
  let ops = 0;
  let allowed = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < budget) {
    const b0 = process.hrtime.bigint();
    allowed += loop(fn, pool, batch, ops % pool.length);
    const b1 = process.hrtime.bigint();
    ops += batch;
    elapsed = b1 - t0;
    if (b1 - b0 < 20_000_000n) batch *= 2;
  }
  return { ops, seconds: Number(elapsed) / 1e9, allowed };
}

/**
 * Warm-up: at least `warmupMs`, and at least one full pass over the pool (so caches a
 * judge fills lazily — vnp's per-identity tables, Cedar's parsed policies — are warm
 * for every flow), but never longer than 4 × `warmupMs`.
 */
function warmUp(
  loop: Loop,
  fn: (f: BenchFlow) => boolean,
  pool: readonly BenchFlow[],
  ms: number,
): void {
  const t0 = process.hrtime.bigint();
  const min = BigInt(Math.round(ms * 1e6));
  const max = 4n * min;
  let done = 0;
  let batch = 1;
  for (;;) {
    loop(fn, pool, batch, done % pool.length);
    done += batch;
    const elapsed = process.hrtime.bigint() - t0;
    if (elapsed >= max || (elapsed >= min && done >= pool.length)) return;
    batch = Math.min(batch * 2, pool.length);
  }
}

function summarize(rounds: readonly Round[]): Measurement {
  const rates = rounds.map((r) => r.ops / r.seconds);
  return {
    ops: rounds.reduce((a, r) => a + r.ops, 0),
    seconds: rounds.reduce((a, r) => a + r.seconds, 0),
    opsPerSec: Math.max(...rates),
    medianOpsPerSec: percentile(rates, 50),
    rounds: rates,
    allowed: rounds.reduce((a, r) => a + r.allowed, 0),
  };
}

/**
 * Measures verdicts per second of `fn` over the flow pool (cycling through it).
 *
 * @example
 *   const m = measure((f) => judge.allows(f), model.flows, { warmupMs: 300, runMs: 1500 });
 *   m.opsPerSec // 6.1e6
 */
export function measure(
  fn: (f: BenchFlow) => boolean,
  pool: readonly BenchFlow[],
  opts: MeasureOptions,
): Measurement {
  const loop = freshLoop();
  warmUp(loop, fn, pool, opts.warmupMs);
  const n = opts.rounds ?? 5;
  return summarize(Array.from({ length: n }, () => runFor(loop, fn, pool, opts.runMs / n)));
}

/**
 * Milliseconds one untimed-by-the-harness pass over the whole pool takes: the cold
 * cost of a judge that builds state lazily (vnp's per-identity tables).
 *
 * @example
 *   firstPassMs((f) => judge.allows(f), model.flows) // 850.2
 */
export function firstPassMs(fn: (f: BenchFlow) => boolean, pool: readonly BenchFlow[]): number {
  const t0 = process.hrtime.bigint();
  for (const f of pool) fn(f);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * The p-th percentile (0..100) of samples, nearest-rank.
 *
 * @example
 *   percentile([1, 2, 3, 4], 50) // 2
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
