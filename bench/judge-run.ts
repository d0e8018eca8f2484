/**
 * One judge's whole measurement: build it, record its verdicts on the agreement
 * sample, (vnp) one cold pass, then the timed rounds. Runs in-process, or in a fresh
 * process through bench/judge-child.ts — which is how `npm run bench` runs it, so
 * that no judge inherits another's JIT state (see docs/benchmarks.md, Isolation).
 */
import type { BenchModel } from './generate.js';
import { buildJudge, type JudgeId } from './judges.js';
import { firstPassMs, measure, type Measurement, type MeasureOptions } from './measure.js';

/** What one judge's run needs. */
export interface JudgeRunOptions {
  timing: MeasureOptions;
  /** Verdicts recorded on the first `flows` flows, within `ms` (at least 16; the reference: all). */
  sample: { flows: number; ms: number };
}

/** What one judge's run reports. */
export interface JudgeRun {
  id: JudgeId;
  /** The judge's display name. */
  judge: string;
  vnp: boolean;
  buildMs: number;
  /** Verdicts on the first flows of the pool, in order (a prefix of the sample). */
  sample: boolean[];
  /** vnp only: one cold pass over the whole pool (its lazily built tables), before timing. */
  firstPassMs?: number;
  measurement: Measurement;
}

function sampleOf(
  allows: (f: BenchModel['flows'][number]) => boolean,
  model: BenchModel,
  id: JudgeId,
  opts: JudgeRunOptions,
): boolean[] {
  const deadline = process.hrtime.bigint() + BigInt(opts.sample.ms) * 1_000_000n;
  const out: boolean[] = [];
  for (const flow of model.flows.slice(0, opts.sample.flows)) {
    // The reference is the oracle: it always answers the whole sample.
    if (id !== 'reference' && out.length >= 16 && process.hrtime.bigint() > deadline) break;
    out.push(allows(flow));
  }
  return out;
}

/**
 * Builds and measures one judge on the model.
 *
 * @example
 *   const run = await runJudge('seed', generateModel({ policies: 10, records: 100 }), FULL_RUN);
 *   run.measurement.opsPerSec
 */
export async function runJudge(
  id: JudgeId,
  model: BenchModel,
  opts: JudgeRunOptions,
): Promise<JudgeRun> {
  const t0 = process.hrtime.bigint();
  const { judge, vnp } = await buildJudge(id, model.documents);
  const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const fn = judge.allows.bind(judge);
  const sample = sampleOf(fn, model, id, opts);
  const cold = vnp ? { firstPassMs: firstPassMs(fn, model.flows) } : {};
  const measurement = measure(fn, model.flows, opts.timing);
  return { id, judge: judge.name, vnp, buildMs, sample, ...cold, measurement };
}
