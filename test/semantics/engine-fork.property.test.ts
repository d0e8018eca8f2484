/**
 * `Engine.fork()` copies the compiled state instead of recompiling it (ADR 0049). For
 * random models with a random history (identities released and in grace, policies
 * replaced, partitions and settings changed), and random changes after the fork:
 * - the fork behaves exactly as the engine it copies, and after the same changes exactly
 *   as a twin engine that went through them (host states, deltas, identity allocations,
 *   `check`): same numbers, same tables;
 * - the engine forked from never sees the fork's changes;
 * - the impact preview on forks equals the preview on full recompiles (the fork of
 *   before the copying fork), up to identity numbers, which a recompile assigns anew.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Engine,
  previewImpact,
  type Change,
  type CheckRequest,
  type ImpactPreview,
} from '../../src/engine/index.js';
import { oracleModelToDocuments, type OracleModel } from '../support/oracle/oracle-model.js';
import { attachToHosts, HOSTS } from '../support/random-hosts.js';
import { randomChange, randomFlows, randomModel } from '../support/random-model.js';
import { makeRng, type Rng } from '../support/rng.js';

const GRACE_MS = 2_000;

/** A model, its documents attached to hosts, and `n` random changes after it (with the models they lead to). */
function randomHistory(
  rng: Rng,
  n: number,
): { docs: ReturnType<typeof attachToHosts>; changes: Change[]; model: OracleModel } {
  let model = randomModel(rng, {
    records: rng.int(2, 10),
    policies: rng.int(1, 6),
    rulesPerSide: rng.int(1, 4),
  });
  const docs = attachToHosts(oracleModelToDocuments(model), rng);
  const changes: Change[] = [];
  for (let i = 0; i < n; i++) {
    const next = randomChange(rng, model);
    changes.push(next.change);
    model = next.model;
  }
  return { docs, changes, model };
}

/**
 * Applies each change at its own time (a second apart: some identities leave grace);
 * refused ones are skipped. Returns the deltas. (Not `hostDelta`: which identities it
 * lists is a superset that depends on what the engine's host view listed before —
 * history a fork does not copy, since nobody distributes a fork; ADR 0049.)
 */
function play(engine: Engine, changes: readonly Change[], t0: number): unknown[] {
  return changes.map((change, i) => {
    try {
      return engine.apply([change], t0 + i * 1_000);
    } catch (err) {
      return { refused: (err as Error).message };
    }
  });
}

/** What an engine shows: host states, allocations, identities and verdicts of `flows`. */
function observe(engine: Engine, flows: readonly CheckRequest[]): unknown {
  const checks = flows.map((flow) => {
    try {
      return engine.check(flow);
    } catch (err) {
      return (err as Error).message;
    }
  });
  return {
    hosts: HOSTS.map((host) => engine.hostState(host, 1)),
    allocations: engine.identityAllocations(),
    identities: engine.liveIdentities().map((id) => engine.identityInfo(id)),
    steering: engine.steering(),
    checks,
  };
}

function loaded(docs: ReturnType<typeof attachToHosts>, history: readonly Change[]): Engine {
  const engine = new Engine({ identityGraceMs: GRACE_MS });
  engine.load(docs, 0);
  play(engine, history, 1_000);
  return engine;
}

/** Rows with identities replaced by their tags (numbers differ between a copy and a recompile), sorted. */
function normalized(preview: ImpactPreview): unknown {
  const rows = preview.rows.map((row) => {
    // A tag set is a set: which record's object first named it (and so its key order)
    // depends on the history, not on the verdicts.
    const end = ({ identity: _identity, tags, ...rest }: (typeof row)['src']) => ({
      ...rest,
      tags: Object.fromEntries(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : 1))),
    });
    return JSON.stringify({ ...row, src: end(row.src), dst: end(row.dst) });
  });
  return { total: preview.total, pairs: preview.pairs, rows: rows.sort() };
}

describe('Engine.fork copies the compiled state', () => {
  it('behaves as the engine it copies, before and after the same changes, and leaves it alone', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const rng = makeRng(seed);
        const { docs, changes, model } = randomHistory(rng, rng.int(0, 8));
        const original = loaded(docs, changes);
        const twin = loaded(docs, changes);
        const flows = randomFlows(rng, model, 40);
        const seen = observe(original, flows);
        const fork = original.fork();
        expect(observe(fork, flows), `seed ${seed}: fresh fork`).toEqual(seen);
        let after = model;
        const more: Change[] = [];
        for (let i = 0, n = rng.int(1, 6); i < n; i++) {
          const next = randomChange(rng, after);
          more.push(next.change);
          after = next.model;
        }
        const t0 = 1_000 * (changes.length + 2);
        expect(play(fork, more, t0), `seed ${seed}: deltas`).toEqual(play(twin, more, t0));
        const laterFlows = randomFlows(rng, after, 40);
        expect(observe(fork, laterFlows), `seed ${seed}: after changes`).toEqual(
          observe(twin, laterFlows),
        );
        expect(observe(original, flows), `seed ${seed}: original untouched`).toEqual(seen);
      }),
      { numRuns: 60 },
    );
  });

  it('previews the same impact as forks that recompile', () => {
    let rows = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const rng = makeRng(seed);
        const { docs, changes, model } = randomHistory(rng, rng.int(0, 6));
        const engine = loaded(docs, changes);
        const batch: Change[] = [];
        let after = model;
        for (let i = 0, n = rng.int(1, 4); i < n; i++) {
          const next = randomChange(rng, after);
          batch.push(next.change);
          after = next.model;
        }
        const now = 1_000 * (changes.length + 2);
        const recompiled = () => {
          const e = new Engine({ identityGraceMs: GRACE_MS });
          e.load(engine.allDocuments(), now);
          return e;
        };
        const copyAfter = engine.fork();
        const oldAfter = recompiled();
        try {
          oldAfter.apply(batch, now);
        } catch {
          expect(() => copyAfter.apply(batch, now), `seed ${seed}: refused alike`).toThrow();
          return;
        }
        copyAfter.apply(batch, now);
        const opts = { limit: 100_000, examples: 100 };
        const fast = previewImpact(engine.fork(), copyAfter, opts);
        const old = previewImpact(recompiled(), oldAfter, opts);
        rows += old.total;
        expect(normalized(fast), `seed ${seed}`).toEqual(normalized(old));
      }),
      { numRuns: 60 },
    );
    expect(rows).toBeGreaterThan(100); // not vacuous: the changes flip flows
  });
});
