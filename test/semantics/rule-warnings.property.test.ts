/**
 * No false warning (design.md §2.1, docs/semantics.md "Rules that can never decide"):
 * for random models, every rule `engine.ruleWarnings()` reports as shadowed decides no
 * flow in the §2 oracle — over the model's flows, and again after random
 * record changes (new, retagged, readdressed and deleted records), because a shadow is
 * claimed for every record, present or future.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import { oracleCheck } from '../support/oracle/oracle-evaluator.js';
import { oracleModelToDocuments, type OracleModel } from '../support/oracle/oracle-model.js';
import { randomChange, randomFlows, randomModel } from '../support/random-model.js';
import { makeRng, type Rng } from '../support/rng.js';

/** The model after up to `n` random changes that touch records only. */
function withOtherRecords(rng: Rng, model: OracleModel, n: number): OracleModel {
  const fixed = JSON.stringify([model.policies, model.partitions, model.settings]);
  let m = model;
  for (let i = 0; i < n; i++) {
    const next = randomChange(rng, m).model;
    if (JSON.stringify([next.policies, next.partitions, next.settings]) === fixed) m = next;
  }
  return m;
}

describe('rule warnings are never false', () => {
  it('a rule warned as shadowed decides no flow, for these records and others', () => {
    let warned = 0;
    let judged = 0;
    let matchedWarned = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const rng = makeRng(seed);
        const model = randomModel(rng, {
          records: rng.int(2, 10),
          policies: rng.int(1, 8),
          rulesPerSide: rng.int(1, 5),
        });
        const engine = new Engine();
        engine.load(oracleModelToDocuments(model), 0);
        const shadowed = new Set(
          engine
            .ruleWarnings()
            .filter((w) => w.kind === 'shadowed')
            .map((w) => `${w.rule.policy}/${w.rule.rule}`),
        );
        warned += shadowed.size;
        if (shadowed.size === 0) return;
        for (const m of [model, withOtherRecords(rng, model, 12)]) {
          for (const flow of randomFlows(rng, m, 150)) {
            const r = oracleCheck(m, flow);
            for (const side of [r.egress, r.ingress]) {
              for (const o of side.overridden)
                if (shadowed.has(`${o.policy}/${o.rule}`)) matchedWarned++;
              if (!side.rule) continue;
              judged++;
              const name = `${side.rule.policy}/${side.rule.rule}`;
              expect(
                shadowed.has(name),
                `seed ${seed}: ${name} decided ${JSON.stringify(flow)}`,
              ).toBe(false);
            }
          }
        }
      }),
      { numRuns: 150 },
    );
    // Not vacuous: the models do produce shadowed rules and rule-decided flows.
    expect(warned).toBeGreaterThan(50);
    expect(judged).toBeGreaterThan(1000);
    // ...and the flows reach the warned rules (they match, and lose).
    expect(matchedWarned).toBeGreaterThan(100);
  });
});

describe('warnings planned before an apply', () => {
  it('ruleWarningsAfter(batch) equals the warnings of a fork with the batch applied', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rng = makeRng(seed * 104729);
      const model = randomModel(rng, { records: rng.int(2, 8), policies: rng.int(1, 6) });
      const engine = new Engine();
      engine.load(oracleModelToDocuments(model), 0);
      const changes = [randomChange(rng, model).change, randomChange(rng, model).change];
      const fork = engine.fork();
      try {
        fork.apply(changes, 1);
      } catch {
        continue; // two independent changes may conflict (a deleted partition still named)
      }
      const written = new Set(
        changes.flatMap((c) => (c.op === 'put' && c.doc.kind === 'Policy' ? [c.doc.name] : [])),
      );
      for (const opts of [{}, { policies: written }])
        expect(engine.ruleWarningsAfter(changes, opts), `seed ${seed}`).toEqual(
          fork.ruleWarnings(opts),
        );
    }
  });
});
