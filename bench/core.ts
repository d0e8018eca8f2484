/**
 * The policy-core suite (design.md §6): flow verdicts per second of vnp and the four
 * baselines at several policy counts, full compile time and memory at scale, and
 * tag change → deltas ready. Everything in one run, so the ratios compare like with
 * like on this machine.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CasbinJudge } from './baselines/casbin.js';
import { CedarJudge } from './baselines/cedar.js';
import type { FlowJudge } from './baselines/judge.js';
import { ReferenceJudge } from './baselines/reference.js';
import { SeedJudge } from './baselines/seed.js';
import type { CompileChildResult } from './compile-child.js';
import { generateModel, type BenchFlow, type BenchModel } from './generate.js';
import { firstPassMs, measureInterleaved, type MeasureOptions } from './measure.js';
import { loadVnp } from './vnp.js';

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

interface BuiltJudge {
  judge: FlowJudge;
  vnp: boolean;
  buildMs: number;
}

function timed<T>(build: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const value = build();
  return [value, Number(process.hrtime.bigint() - t0) / 1e6];
}

async function timedAsync<T>(build: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const value = await build();
  return [value, Number(process.hrtime.bigint() - t0) / 1e6];
}

/** vnp first (the cleanest heap), then the baselines; Cedar and Casbin only up to the limit. */
async function buildJudges(model: BenchModel, withSlow: boolean): Promise<BuiltJudge[]> {
  const [vnp, vnpMs] = timed(() => loadVnp(model.documents));
  const [ref, refMs] = timed(() => new ReferenceJudge(model.documents));
  const [seed, seedMs] = timed(() => new SeedJudge(model.documents));
  const built: BuiltJudge[] = [
    ...vnp.judges.map((judge) => ({ judge, vnp: true, buildMs: vnpMs })),
    { judge: ref, vnp: false, buildMs: refMs },
    { judge: seed, vnp: false, buildMs: seedMs },
  ];
  if (!withSlow) return built;
  const [cedar, cedarMs] = timed(() => new CedarJudge(model.documents));
  const [casbin, casbinMs] = await timedAsync(() => CasbinJudge.create(model.documents));
  built.push(
    { judge: cedar, vnp: false, buildMs: cedarMs },
    { judge: casbin, vnp: false, buildMs: casbinMs },
  );
  return built;
}

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

/** Compares a judge with the oracle's verdicts on up to `flows` flows within the time box. */
function agreement(
  judge: FlowJudge,
  sample: readonly BenchFlow[],
  oracle: readonly boolean[],
  ms: number,
): { compared: number; examples: string[]; disagreements: number } {
  const deadline = process.hrtime.bigint() + BigInt(ms) * 1_000_000n;
  const examples: string[] = [];
  let compared = 0;
  let disagreements = 0;
  for (let i = 0; i < sample.length; i++) {
    if (compared >= 16 && process.hrtime.bigint() > deadline) break;
    const flow = sample[i]!;
    const got = judge.allows(flow);
    compared++;
    if (got !== oracle[i]) {
      disagreements++;
      if (examples.length < 3)
        examples.push(`${JSON.stringify(flow)}: reference ${oracle[i]}, got ${got}`);
    }
  }
  return { compared, examples, disagreements };
}

function rate(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

type Agreement = ReturnType<typeof agreement>;

function checked(
  built: BuiltJudge,
  policies: number,
  oracle: readonly boolean[],
  model: BenchModel,
  opts: CoreOptions,
  log: Log,
): Agreement {
  const name = built.judge.name;
  const agree = agreement(
    built.judge,
    model.flows.slice(0, oracle.length),
    oracle,
    opts.agreement.ms,
  );
  if (agree.disagreements > 0) {
    log(`!!! DISAGREEMENT: ${name} @${policies} policies differs from the reference on`);
    log(`!!!   ${agree.disagreements}/${agree.compared} flows, e.g. ${agree.examples[0]}`);
  }
  return agree;
}

/**
 * Agreement with the reference first, then vnp's cold pass (its per-identity tables
 * are built lazily: paid once, outside the timed rounds, and reported), then every
 * judge's rounds interleaved so load drift hits them all alike.
 */
async function verdictRows(policies: number, opts: CoreOptions, log: Log): Promise<VerdictRow[]> {
  const model = generateModel({ policies, records: opts.records, flows: opts.flows });
  const withSlow = policies <= opts.slowBaselinesUpTo;
  const judges = await buildJudges(model, withSlow);
  const reference = judges.find((j) => j.judge instanceof ReferenceJudge)!.judge;
  const oracle = model.flows.slice(0, opts.agreement.flows).map((f) => reference.allows(f));
  const genMiss = oracle.filter((v, i) => v !== model.expected[i]).length;
  if (genMiss > 0)
    log(`!!! the generator's expectation differs from the reference on ${genMiss} flows`);
  const agreements = judges.map((b) => checked(b, policies, oracle, model, opts, log));
  const fns = judges.map((b) => b.judge.allows.bind(b.judge));
  const cold = judges.map((b, i) =>
    b.vnp ? { firstPassMs: firstPassMs(fns[i]!, model.flows) } : {},
  );
  const measured = measureInterleaved(fns, model.flows, opts.timing);
  const rows = judges.map((b, i): VerdictRow => {
    const m = measured[i]!;
    log(
      `  ${policies} policies  ${b.judge.name}: ${rate(m.opsPerSec)} verdicts/s best round, ${rate(m.medianOpsPerSec)} median`,
    );
    return {
      policies,
      judge: b.judge.name,
      vnp: b.vnp,
      buildMs: b.buildMs,
      ...m,
      ...agreements[i]!,
      ...cold[i]!,
    };
  });
  return withSlow ? rows : [...rows, ...skippedRows(policies, opts.slowBaselinesUpTo)];
}

/** Runs bench/compile-child.ts in a fresh Node process and parses its JSON line. */
function runCompileChild(c: NonNullable<CoreOptions['compile']>): CompileChildResult {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const child = fileURLToPath(new URL('./compile-child.ts', import.meta.url));
  const args = [
    '--records',
    String(c.records),
    '--policies',
    String(c.policies),
    '--changes',
    String(c.changes),
  ];
  const out = spawnSync(process.execPath, ['--import', 'tsx', child, ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (out.status !== 0) {
    throw new Error(`compile child failed (status ${out.status}): ${out.stderr.slice(-2000)}`);
  }
  const last = out.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as CompileChildResult;
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
