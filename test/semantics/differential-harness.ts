/**
 * The differential runs, parameterized by the engine under test so the harness
 * itself can be tested against deliberately broken engines.
 */
import { oracleCheck, oracleGetPolicyForTags } from '../support/oracle/oracle-evaluator.js';
import type { OracleModel } from '../support/oracle/oracle-model.js';
import { oracleModelToDocuments } from '../support/oracle/oracle-model.js';
import type { Change, CheckRequest, CheckResult, ResolvedPolicy } from '../../src/engine/index.js';
import { modelToYaml } from '../support/model-yaml.js';
import {
  randomChange,
  randomFlows,
  randomModel,
  randomTags,
  type RandomModelOptions,
} from '../support/random-model.js';
import type { EngineLike } from '../support/oracle/oracle-engine.js';
import { makeRng, type Rng } from '../support/rng.js';
import { shrinkModel } from '../support/shrink-model.js';
import { compareResults } from './compare-results.js';

export interface DifferentialOptions {
  baseSeed: number;
  models: number;
  flowsPerModel?: number;
  changesPerModel?: number;
  flowsPerChange?: number;
  /** Fixed model sizes instead of the default mix (e.g. big models on BIG_SUBNETS). */
  sizes?: RandomModelOptions;
}

/**
 * Result of a run: how many flows were compared, and the first failure's report.
 * `rechecked` counts the previous step's flows compared again after a change (the
 * same identity pairs across writes: what catches a stale fast-path pair table).
 */
export interface DifferentialRun {
  compared: number;
  rechecked?: number;
  failure?: string;
}

/**
 * Fresh loads: each seed's random model is loaded, then random flows compared.
 *
 * @example const run = differentialFresh(() => new Engine(), { baseSeed: 1, models: 100 });
 */
export function differentialFresh(make: () => EngineLike, o: DifferentialOptions): DifferentialRun {
  let compared = 0;
  for (let i = 0; i < o.models; i++) {
    const seed = o.baseSeed + i;
    const rng = makeRng(seed);
    const model = randomModel(rng, o.sizes ?? sizes(rng));
    const engine = loaded(make, model);
    for (const flow of randomFlows(rng, model, o.flowsPerModel ?? 40)) {
      compared++;
      const failure = compareOne(engine, model, flow);
      if (failure)
        return { compared, failure: report(make, { seed, model, flow, failure, shrink: true }) };
    }
  }
  return { compared };
}

/**
 * Incremental: after each random change applied with `engine.apply`, random flows
 * are compared against the reference on the new model, and so are the previous
 * step's flows whose endpoints still exist (they hit pairs cached before the change).
 *
 * @example const run = differentialIncremental(() => new Engine(), { baseSeed: 1, models: 100 });
 */
export function differentialIncremental(
  make: () => EngineLike,
  o: DifferentialOptions,
): DifferentialRun {
  let compared = 0;
  let rechecked = 0;
  for (let i = 0; i < o.models; i++) {
    const seed = o.baseSeed + i;
    const rng = makeRng(seed);
    let model = randomModel(rng, o.sizes ?? sizes(rng));
    const engine = loaded(make, model);
    // Judged right after the load, so the fast path has cached their pairs before step 1.
    let previous = randomFlows(rng, model, o.flowsPerChange ?? 15);
    for (const flow of previous) {
      const failure = compareOne(engine, model, flow);
      if (failure)
        return { compared, failure: report(make, { seed, model, flow, failure, shrink: true }) };
    }
    for (let step = 1; step <= (o.changesPerModel ?? 6); step++) {
      const before = model;
      // Mostly one change per batch, sometimes several applied as one.
      const changes: Change[] = [];
      // A batch names each resource at most once (the engine refuses duplicates).
      const touched = new Set<string>();
      for (let k = rng.chance(0.25) ? rng.int(2, 4) : 1; k > 0; k--) {
        const next = randomChange(rng, model);
        const id =
          next.change.op === 'put'
            ? `${next.change.doc.kind}/${next.change.doc.name}`
            : `${next.change.kind}/${next.change.name}`;
        if (touched.has(id)) continue;
        touched.add(id);
        model = next.model;
        changes.push(next.change);
      }
      engine.apply(changes, step);
      const fresh = randomFlows(rng, model, o.flowsPerChange ?? 15);
      const again = previous.filter((f) => endpointsExist(model, f));
      previous = fresh;
      for (const [k, flow] of [...fresh, ...again].entries()) {
        if (k < fresh.length) compared++;
        else rechecked++;
        const failure = compareOne(engine, model, flow);
        if (!failure) continue;
        // A fresh load of the same model tells an incremental bug from a semantic one.
        const freshFailure = compareOne(loaded(make, model), model, flow);
        const detail = {
          seed,
          model,
          flow,
          failure,
          step,
          changes,
          before,
          freshAgrees: !freshFailure,
        };
        return {
          compared,
          rechecked,
          failure: report(make, { ...detail, shrink: freshFailure !== undefined }),
        };
      }
    }
  }
  return { compared, rechecked };
}

/** A flow's endpoints are addresses or records of the model (a deleted record is unknown). */
function endpointsExist(model: OracleModel, flow: CheckRequest): boolean {
  const known = (e: string): boolean =>
    e.includes('.') || e.includes(':') || model.interfaces.some((r) => r.name === e);
  return known(flow.src) && known(flow.dst);
}

/**
 * getPolicyForTags for every record's tags: same policies, partitions, and per
 * direction the same rules in the same order with the same shadowed flags.
 *
 * @example const run = differentialPolicyForTags(() => new Engine(), { baseSeed: 1, models: 50 });
 */
export function differentialPolicyForTags(
  make: () => EngineLike,
  o: DifferentialOptions,
): DifferentialRun {
  let compared = 0;
  for (let i = 0; i < o.models; i++) {
    const seed = o.baseSeed + i;
    const rng = makeRng(seed);
    const model = randomModel(rng, o.sizes ?? sizes(rng));
    const engine = loaded(make, model);
    // Every record's tags, and tag sets no record carries.
    const tagSets = [...model.interfaces.map((r) => r.tags), randomTags(rng), randomTags(rng), {}];
    for (const tags of tagSets) {
      compared++;
      const want = summarize(oracleGetPolicyForTags(model, tags));
      const got = summarize(engine.getPolicyForTags(tags));
      if (JSON.stringify(want) !== JSON.stringify(got)) {
        const failure =
          `seed ${seed}: getPolicyForTags(${JSON.stringify(tags)}) differs\n` +
          `reference: ${JSON.stringify(want, null, 1)}\nengine: ${JSON.stringify(got, null, 1)}\n` +
          `model:\n${modelToYaml(model)}`;
        return { compared, failure };
      }
    }
  }
  return { compared };
}

/** Mostly small models (readable failures), some bigger ones. */
function sizes(rng: Rng): RandomModelOptions {
  if (rng.chance(0.1)) return { records: rng.int(10, 25), policies: rng.int(8, 20), partitions: 4 };
  return { records: rng.int(1, 10), policies: rng.int(0, 8), partitions: 3 };
}

function loaded(make: () => EngineLike, model: OracleModel): EngineLike {
  const engine = make();
  engine.load(oracleModelToDocuments(model), 0);
  return engine;
}

interface Failure {
  diffs: string[];
  reference: CheckResult;
  engine: CheckResult | string;
}

function compareOne(
  engine: EngineLike,
  model: OracleModel,
  flow: CheckRequest,
): Failure | undefined {
  const reference = oracleCheck(model, flow);
  let result: CheckResult;
  try {
    result = engine.check(flow);
  } catch (e) {
    return { diffs: [`engine threw: ${String(e)}`], reference, engine: String(e) };
  }
  const diffs = compareResults(reference, result);
  const fast = fastVerdict(engine, flow);
  const want = reference.verdict === 'allow';
  if (fast !== undefined && fast !== want)
    diffs.push(
      `fast path (verdict): reference ${reference.verdict}, engine ${typeof fast === 'string' ? fast : fast ? 'allow' : 'deny'}`,
    );
  return diffs.length > 0 ? { diffs, reference, engine: result } : undefined;
}

/** The engine's fast path on a flow (a thrown error as its text; undefined: no fast path). */
function fastVerdict(engine: EngineLike, flow: CheckRequest): boolean | string | undefined {
  if (!engine.verdict) return undefined;
  try {
    return engine.verdict(flow.src, flow.dst, flow.protocol ?? 'tcp', flow.port ?? 0);
  } catch (e) {
    return `threw: ${String(e)}`;
  }
}

function report(
  make: () => EngineLike,
  r: {
    seed: number;
    model: OracleModel;
    flow: CheckRequest;
    failure: Failure;
    shrink: boolean;
    step?: number;
    changes?: Change[];
    before?: OracleModel;
    freshAgrees?: boolean;
  },
): string {
  const stillFails = (m: OracleModel): boolean =>
    compareOne(loaded(make, m), m, r.flow) !== undefined;
  const shown = r.shrink ? shrinkModel(r.model, r.flow, stillFails) : (r.before ?? r.model);
  // Show the disagreement as it is on the model printed (the shrunken one when shrunk).
  const failure =
    (r.shrink ? compareOne(loaded(make, shown), shown, r.flow) : undefined) ?? r.failure;
  const lines = [
    `engine and reference disagree (seed ${r.seed}${r.step ? `, after change ${r.step}` : ''})`,
    `flow: ${JSON.stringify(r.flow)}`,
    ...failure.diffs.map((d) => `  ${d}`),
  ];
  if (r.changes) {
    lines.push(`changes (one batch): ${JSON.stringify(r.changes)}`);
    lines.push(
      r.freshAgrees
        ? 'a fresh load of the new model agrees: the incremental path is wrong. Model BEFORE the change:'
        : 'a fresh load disagrees too. Minimal model:',
    );
  } else {
    lines.push('minimal model:');
  }
  lines.push(modelToYaml(shown));
  lines.push(`reference: ${JSON.stringify(failure.reference, null, 1)}`);
  lines.push(
    `engine: ${typeof failure.engine === 'string' ? failure.engine : JSON.stringify(failure.engine, null, 1)}`,
  );
  return lines.join('\n');
}

function summarize(p: ResolvedPolicy): unknown {
  const rule = (r: ResolvedPolicy['egress'][number]): string =>
    `${r.policy}/${r.rule} ${r.action} ${r.mode} p${r.priority}${r.shadowed ? ' shadowed' : ''}`;
  return {
    policies: [...p.policies].sort(),
    partitions: [...p.partitions].sort(),
    ingress: p.ingress.map(rule),
    egress: p.egress.map(rule),
  };
}
