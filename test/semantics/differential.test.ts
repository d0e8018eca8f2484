/**
 * Differential test: the compiled Engine against the §2 oracle on
 * thousands of random models and flows, fresh and after incremental changes.
 *
 * Reproduce a failure with the seed it prints:
 *   VNP_DIFF_SEED=<seed> VNP_DIFF_MODELS=1 npx vitest run test/semantics/differential.test.ts
 * Hunt longer with VNP_DIFF_MODELS=5000 (and another VNP_DIFF_SEED).
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import {
  differentialFresh,
  differentialIncremental,
  differentialPolicyForTags,
} from './differential-harness.js';

const BASE_SEED = Number(process.env.VNP_DIFF_SEED ?? 20261124);
const MODELS = Number(process.env.VNP_DIFF_MODELS ?? 1000);
/** Models per test case: long synchronous tests starve vitest's worker RPC. */
const CHUNK = 50;
const make = (): Engine => new Engine();
/**
 * No grace period: an identity orphaned by a change is released in the same batch and
 * its number reused by the next new identity (nothing cached under it may survive).
 */
const makeNoGrace = (): Engine => new Engine({ identityGraceMs: 0 });

const chunks = Array.from({ length: Math.ceil(MODELS / CHUNK) }, (_, i) => ({
  from: i * CHUNK,
  models: Math.min(CHUNK, MODELS - i * CHUNK),
}));

describe('differential: compiled engine vs §2 oracle', () => {
  it.each(chunks)(
    'agrees on freshly loaded random models (seed offset $from, $models models)',
    ({ from, models }) => {
      const run = differentialFresh(make, { baseSeed: BASE_SEED + from, models });
      if (run.failure) expect.fail(run.failure);
      expect(run.compared).toBe(models * 40);
    },
  );

  it.each(chunks.map((c, i) => ({ ...c, grace: i % 2 === 0 })))(
    'agrees after incremental changes (seed offset $from, $models models, grace $grace)',
    ({ from, models, grace }) => {
      const run = differentialIncremental(grace ? make : makeNoGrace, {
        baseSeed: BASE_SEED + 1_000_000 + from,
        models,
      });
      if (run.failure) expect.fail(run.failure);
      expect(run.compared).toBe(models * 6 * 15);
      expect(run.rechecked).toBeGreaterThan(0);
    },
  );

  it.each(chunks)(
    'agrees on getPolicyForTags (seed offset $from, $models models)',
    ({ from, models }) => {
      const run = differentialPolicyForTags(make, {
        baseSeed: BASE_SEED + 2_000_000 + from,
        models: Math.ceil(models / 2),
      });
      if (run.failure) expect.fail(run.failure);
      expect(run.compared).toBeGreaterThan(0);
    },
  );

  it('agrees on large models (big subnets, many overlapping policies)', () => {
    const sizes = { records: 300, policies: 60, partitions: 5 };
    const fresh = differentialFresh(make, {
      baseSeed: BASE_SEED + 3_000_000,
      models: 3,
      flowsPerModel: 400,
      sizes,
    });
    if (fresh.failure) expect.fail(fresh.failure);
    const inc = differentialIncremental(make, {
      baseSeed: BASE_SEED + 4_000_000,
      models: 2,
      changesPerModel: 20,
      flowsPerChange: 40,
      sizes,
    });
    if (inc.failure) expect.fail(inc.failure);
  });
});
