/**
 * Differential test: the compiled Engine against the reference evaluator on
 * thousands of random models and flows, fresh and after incremental changes.
 *
 * Reproduce a failure with the seed it prints:
 *   VNP_DIFF_SEED=<seed> VNP_DIFF_MODELS=1 npx vitest run test/semantics/differential.test.ts
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import {
  referenceCheck,
  referenceGetPolicyForTags,
} from '../../src/engine/reference/reference-evaluator.js';
import type { ReferenceModel } from '../../src/engine/reference/reference-model.js';
import { referenceModelToDocuments } from '../../src/engine/reference/reference-model.js';
import type { Change, CheckRequest, CheckResult, ResolvedPolicy } from '../../src/engine/types.js';
import { modelToYaml } from '../support/model-yaml.js';
import {
  randomChange,
  randomFlows,
  randomModel,
  type RandomModelOptions,
} from '../support/random-model.js';
import { makeRng, type Rng } from '../support/rng.js';
import { shrinkModel } from '../support/shrink-model.js';
import { compareResults } from './compare-results.js';

const BASE_SEED = Number(process.env.VNP_DIFF_SEED ?? 20261124);
const MODELS = Number(process.env.VNP_DIFF_MODELS ?? 250);
const FLOWS_PER_MODEL = 40;
const CHANGES_PER_MODEL = 6;
const FLOWS_PER_CHANGE = 15;

describe('differential: compiled engine vs reference evaluator', () => {
  it('agrees on freshly loaded random models', () => {
    for (let i = 0; i < MODELS; i++) {
      const seed = BASE_SEED + i;
      const rng = makeRng(seed);
      const model = randomModel(rng, sizes(rng));
      const engine = loaded(model);
      for (const flow of randomFlows(rng, model, FLOWS_PER_MODEL)) {
        const failure = compareOne(engine, model, flow);
        if (failure) throw new Error(report({ seed, model, flow, failure, shrink: true }));
      }
    }
  }, 120_000);

  it('agrees after incremental changes (engine.apply)', () => {
    for (let i = 0; i < MODELS; i++) {
      const seed = BASE_SEED + 1_000_000 + i;
      const rng = makeRng(seed);
      let model = randomModel(rng, sizes(rng));
      const engine = loaded(model);
      for (let step = 1; step <= CHANGES_PER_MODEL; step++) {
        const before = model;
        const next = randomChange(rng, model);
        model = next.model;
        engine.apply([next.change], step);
        for (const flow of randomFlows(rng, model, FLOWS_PER_CHANGE)) {
          const failure = compareOne(engine, model, flow);
          if (!failure) continue;
          // A fresh load of the same model tells an incremental bug from a semantic one.
          const fresh = compareOne(loaded(model), model, flow);
          throw new Error(
            report({
              seed,
              model,
              flow,
              failure,
              shrink: fresh !== undefined,
              step,
              change: next.change,
              before,
              freshAgrees: !fresh,
            }),
          );
        }
      }
    }
  }, 120_000);

  it('agrees on getPolicyForTags (order, actions, modes, shadowing)', () => {
    for (let i = 0; i < Math.ceil(MODELS / 2); i++) {
      const seed = BASE_SEED + 2_000_000 + i;
      const rng = makeRng(seed);
      const model = randomModel(rng, sizes(rng));
      const engine = loaded(model);
      for (const record of model.interfaces) {
        const want = summarize(referenceGetPolicyForTags(model, record.tags));
        const got = summarize(engine.getPolicyForTags(record.tags));
        if (JSON.stringify(want) !== JSON.stringify(got)) {
          expect.fail(
            `seed ${seed}: getPolicyForTags(${JSON.stringify(record.tags)}) differs\n` +
              `reference: ${JSON.stringify(want, null, 1)}\nengine: ${JSON.stringify(got, null, 1)}\n` +
              `model:\n${modelToYaml(model)}`,
          );
        }
      }
    }
  }, 120_000);
});

/** Mostly small models (readable failures), some bigger ones. */
function sizes(rng: Rng): RandomModelOptions {
  if (rng.chance(0.1)) return { records: rng.int(10, 25), policies: rng.int(8, 20), partitions: 4 };
  return { records: rng.int(1, 10), policies: rng.int(0, 8), partitions: 3 };
}

function loaded(model: ReferenceModel): Engine {
  const engine = new Engine();
  engine.load(referenceModelToDocuments(model), 0);
  return engine;
}

interface Failure {
  diffs: string[];
  reference: CheckResult;
  engine: CheckResult | string;
}

function compareOne(
  engine: Engine,
  model: ReferenceModel,
  flow: CheckRequest,
): Failure | undefined {
  const reference = referenceCheck(model, flow);
  let result: CheckResult;
  try {
    result = engine.check(flow);
  } catch (e) {
    return { diffs: [`engine threw: ${String(e)}`], reference, engine: String(e) };
  }
  const diffs = compareResults(reference, result);
  return diffs.length > 0 ? { diffs, reference, engine: result } : undefined;
}

function report(r: {
  seed: number;
  model: ReferenceModel;
  flow: CheckRequest;
  failure: Failure;
  shrink: boolean;
  step?: number;
  change?: Change;
  before?: ReferenceModel;
  freshAgrees?: boolean;
}): string {
  const stillFails = (m: ReferenceModel): boolean => compareOne(loaded(m), m, r.flow) !== undefined;
  const shown = r.shrink ? shrinkModel(r.model, r.flow, stillFails) : (r.before ?? r.model);
  const lines = [
    `engine and reference disagree (seed ${r.seed}${r.step ? `, after change ${r.step}` : ''})`,
    `flow: ${JSON.stringify(r.flow)}`,
    ...r.failure.diffs.map((d) => `  ${d}`),
  ];
  if (r.change) {
    lines.push(`change: ${JSON.stringify(r.change)}`);
    lines.push(
      r.freshAgrees
        ? 'a fresh load of the new model agrees: the incremental path is wrong. Model BEFORE the change:'
        : 'a fresh load disagrees too. Minimal model:',
    );
  } else {
    lines.push('minimal model:');
  }
  lines.push(modelToYaml(shown));
  const again = r.shrink ? compareOne(loaded(shown), shown, r.flow) : undefined;
  const failure = again ?? r.failure;
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
