/**
 * The policy-core suite (design.md §6): flow verdicts per second of vnp and the four
 * baselines at several policy counts, full compile time and memory at scale, and
 * tag change → deltas ready. Everything in one run, so the ratios compare like with
 * like on this machine.
 */
import type { CompileChildResult } from './compile-child.js';
import { generateModel, type BenchModel } from './generate.js';
import { runJudge, type JudgeRun, type JudgeRunOptions } from './judge-run.js';
import { JUDGE_IDS, SLOW_JUDGES, type JudgeId } from './judges.js';
import type { MeasureOptions } from './measure.js';
import { spawnJson } from './spawn-child.js';

/** Knobs of one core run. */
export interface CoreOptions {
  /** Policy counts of the verdict rows. */
  sizes: number[];
  /** Records of the verdict models (the same at every size, so only the policy count varies). */
  records: number;
  /** Size of the flow pool. */
  flows: number;
  timing: MeasureOptions;
  /** Flows compared against the reference before timing, and the time box per judge. */
  agreement: { flows: number; ms: number };
  /**
   * Cedar and Casbin are built only up to this many policies: their build and
   * per-verdict costs grow so fast (minutes at 10,000) that one run could not finish;
   * the §6 ratios only need them at 1,000. `--exhaustive` lifts the limit.
   */
  slowBaselinesUpTo: number;
  /**
   * Measure each judge in a fresh process (the default). In one shared process the
   * judges pollute each other's JIT state: vnp's fast path ran 3–5× slower after
   * `engine.check` and the baselines had run. In-process is for the toy-scale test.
   */
  isolate: boolean;
  /** Scale of the compile / tag-change child; absent: skipped. */
  compile?: { records: number; policies: number; changes: number };
}

/** The scale design.md §6 states its targets at. */
export const FULL_CORE: CoreOptions = {
  sizes: [10, 1_000, 10_000],
  records: 10_000,
  flows: 4096,
  timing: { warmupMs: 300, runMs: 1500 },
  agreement: { flows: 128, ms: 3000 },
  slowBaselinesUpTo: 1_000,
  isolate: true,
  compile: { records: 100_000, policies: 10_000, changes: 200 },
};

/** A fast run for development (not at the targets' scale). */
export const QUICK_CORE: CoreOptions = {
  sizes: [10, 100, 1_000],
  records: 2_000,
  flows: 1024,
  timing: { warmupMs: 100, runMs: 300 },
  agreement: { flows: 64, ms: 1000 },
  slowBaselinesUpTo: 1_000,
  isolate: true,
  compile: { records: 10_000, policies: 1_000, changes: 50 },
};

/** One verdict row. */
export interface VerdictRow {
  policies: number;
  judge: string;
  /** True for vnp's own rows. */
  vnp: boolean;
  buildMs: number;
  opsPerSec: number;
  ops: number;
  seconds: number;
  /** Timed verdicts that came out allow. */
  allowed: number;
  /** Flows compared with the reference before timing, and how many disagreed. */
  compared: number;
  disagreements: number;
  /** The first few disagreements, for the report. */
  examples: string[];
  /** Why the row was not measured (figures are NaN then). */
  skipped?: string;
  /** Median round's rate (the table shows the best round). */
  medianOpsPerSec: number;
  rounds: number[];
  /** vnp only: one cold pass over the whole pool (lazy tables built), before timing. */
  firstPassMs?: number;
}

/** Everything one core run measured. */
export interface CoreResults {
  options: CoreOptions;
  verdicts: VerdictRow[];
  compile?: CompileChildResult;
  /** Why the compile child produced no result (its stderr tail). */
  compileError?: string;
}

type Log = (line: string) => void;

function skippedRows(policies: number, limit: number): VerdictRow[] {
  const skipped = `not built above ${limit} policies (minutes to build; --exhaustive runs it)`;
  return ['Cedar (wasm)', 'Casbin'].map((judge) => ({
    policies,
    judge,
    vnp: false,
    buildMs: NaN,
    opsPerSec: NaN,
    ops: 0,
    seconds: 0,
    allowed: 0,
    medianOpsPerSec: NaN,
    rounds: [],
    compared: 0,
    disagreements: 0,
    examples: [],
    skipped,
  }));
}

function rate(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function runOptions(opts: CoreOptions): JudgeRunOptions {
  return { timing: opts.timing, sample: opts.agreement };
}

function childArgs(id: JudgeId, policies: number, opts: CoreOptions): string[] {
  const a = {
    judge: id,
    policies,
    records: opts.records,
    flows: opts.flows,
    'warmup-ms': opts.timing.warmupMs,
    'run-ms': opts.timing.runMs,
    sample: opts.agreement.flows,
    'sample-ms': opts.agreement.ms,
  };
  return Object.entries(a).flatMap(([k, v]) => [`--${k}`, String(v)]);
}

/** Each judge in turn, each in its own process unless `isolate` is off. */
async function judgeRuns(
  policies: number,
  ids: readonly JudgeId[],
  model: BenchModel,
  opts: CoreOptions,
  log: Log,
): Promise<JudgeRun[]> {
  const runs: JudgeRun[] = [];
  for (const id of ids) {
    const run = opts.isolate
      ? spawnJson<JudgeRun>('judge-child.ts', childArgs(id, policies, opts))
      : await runJudge(id, model, runOptions(opts));
    const m = run.measurement;
    log(
      `  ${policies} policies  ${run.judge}: ${rate(m.opsPerSec)} verdicts/s best round, ${rate(m.medianOpsPerSec)} median`,
    );
    runs.push(run);
  }
  return runs;
}

/** A run's sample against the reference's, loudly. */
function rowOf(
  run: JudgeRun,
  policies: number,
  oracle: readonly boolean[],
  model: BenchModel,
  log: Log,
): VerdictRow {
  const examples: string[] = [];
  let disagreements = 0;
  run.sample.forEach((got, i) => {
    if (got === oracle[i]) return;
    disagreements++;
    if (examples.length < 3)
      examples.push(`${JSON.stringify(model.flows[i])}: reference ${oracle[i]}, got ${got}`);
  });
  if (disagreements > 0) {
    log(`!!! DISAGREEMENT: ${run.judge} @${policies} policies differs from the reference on`);
    log(`!!!   ${disagreements}/${run.sample.length} flows, e.g. ${examples[0]}`);
  }
  const { measurement, firstPassMs } = run;
  return {
    policies,
    judge: run.judge,
    vnp: run.vnp,
    buildMs: run.buildMs,
    ...measurement,
    compared: run.sample.length,
    disagreements,
    examples,
    ...(firstPassMs !== undefined ? { firstPassMs } : {}),
  };
}

async function verdictRows(policies: number, opts: CoreOptions, log: Log): Promise<VerdictRow[]> {
  const model = generateModel({ policies, records: opts.records, flows: opts.flows });
  const withSlow = policies <= opts.slowBaselinesUpTo;
  const ids = JUDGE_IDS.filter((id) => withSlow || !SLOW_JUDGES.includes(id));
  const runs = await judgeRuns(policies, ids, model, opts, log);
  const oracle = runs.find((r) => r.id === 'reference')!.sample;
  const genMiss = oracle.filter((v, i) => v !== model.expected[i]).length;
  if (genMiss > 0)
    log(`!!! the generator's expectation differs from the reference on ${genMiss} flows`);
  const rows = runs.map((run) => rowOf(run, policies, oracle, model, log));
  return withSlow ? rows : [...rows, ...skippedRows(policies, opts.slowBaselinesUpTo)];
}

/** Runs bench/compile-child.ts in a fresh Node process. */
function runCompileChild(c: NonNullable<CoreOptions['compile']>): CompileChildResult {
  const args = { records: c.records, policies: c.policies, changes: c.changes };
  return spawnJson<CompileChildResult>(
    'compile-child.ts',
    Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)]),
  );
}

/**
 * Runs the core suite, logging progress lines as it goes.
 *
 * @example
 *   const results = await runCore(FULL_CORE, console.log);
 */
export async function runCore(opts: CoreOptions, log: Log): Promise<CoreResults> {
  const verdicts: VerdictRow[] = [];
  for (const policies of opts.sizes) {
    log(`verdicts at ${policies} policies, ${opts.records} records ...`);
    verdicts.push(...(await verdictRows(policies, opts, log)));
  }
  if (!opts.compile) return { options: opts, verdicts };
  log(
    `full compile at ${opts.compile.records} records, ${opts.compile.policies} policies (fresh process) ...`,
  );
  try {
    return { options: opts, verdicts, compile: runCompileChild(opts.compile) };
  } catch (e) {
    // The verdict rows are still worth printing; the compile targets show as failed.
    const compileError = e instanceof Error ? e.message : String(e);
    log(`!!! ${compileError}`);
    return { options: opts, verdicts, compileError };
  }
}
