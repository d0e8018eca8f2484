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
  differentialFresh,
  differentialIncremental,
  differentialPolicyForTags,
} from './differential-harness.js';

const BASE_SEED = Number(process.env.VNP_DIFF_SEED ?? 20261124);
const MODELS = Number(process.env.VNP_DIFF_MODELS ?? 250);
const make = (): Engine => new Engine();
// Long hunts (VNP_DIFF_MODELS in the thousands) need room beyond the default budget.
const TIMEOUT = Math.max(120_000, MODELS * 400);

describe('differential: compiled engine vs reference evaluator', () => {
  it(
    'agrees on freshly loaded random models',
    () => {
      const run = differentialFresh(make, { baseSeed: BASE_SEED, models: MODELS });
      if (run.failure) expect.fail(run.failure);
      expect(run.compared).toBe(MODELS * 40);
    },
    TIMEOUT,
  );

  it(
    'agrees after incremental changes (engine.apply)',
    () => {
      const run = differentialIncremental(make, {
        baseSeed: BASE_SEED + 1_000_000,
        models: MODELS,
      });
      if (run.failure) expect.fail(run.failure);
      expect(run.compared).toBe(MODELS * 6 * 15);
    },
    TIMEOUT,
  );

  it(
    'agrees on getPolicyForTags (order, actions, modes, shadowing)',
    () => {
      const run = differentialPolicyForTags(make, {
        baseSeed: BASE_SEED + 2_000_000,
        models: Math.ceil(MODELS / 2),
      });
      if (run.failure) expect.fail(run.failure);
      expect(run.compared).toBeGreaterThan(0);
    },
    TIMEOUT,
  );
});
