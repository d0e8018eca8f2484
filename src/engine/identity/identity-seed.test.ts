/**
 * Seeded loads: an engine loaded from documents plus another engine's persisted
 * allocations numbers every record like that engine (the multi-manager identity guarantee
 * at load; see the note below for what follows).
 */
import { describe, expect, it } from 'vitest';
import { randomChange, randomModel } from '../../../test/support/random-model.js';
import { makeRng } from '../../../test/support/rng.js';
import { Engine } from '../engine.js';
import { IdentityAllocator } from './identity-allocator.js';
import { oracleModelToDocuments } from '../../../test/support/oracle/oracle-model.js';

describe('IdentityAllocator.seed', () => {
  it('gives seeded keys their ids, fills gaps lowest first, and keeps unused seeds in grace', () => {
    const a = new IdentityAllocator({ graceMs: 100 });
    a.seed(
      [
        { id: 300, key: 'web' },
        { id: 258, key: 'db' },
        { id: 260, key: 'old', releasedAt: 50 },
      ],
      1000,
    );
    expect(a.retain('web').id).toBe(300);
    expect(a.retain('db').id).toBe(258);
    expect(a.retain('new').id).toBe(256);
    expect(a.retain('new2').id).toBe(257);
    expect(a.retain('new3').id).toBe(259);
    expect(a.sweep(151)).toEqual([260]);
    expect(a.retain('new4').id).toBe(260);
    expect(a.entries().map((e) => e.id)).toEqual([256, 257, 258, 259, 260, 300]);
    expect(() => a.seed([], 0)).toThrow();
  });
});

describe('Engine.load with persisted identities', () => {
  // Known limit (docs/adr/0007-distribution.md): a seeded engine and the engine it was
  // seeded from may still number differently after a later change of the
  // identity-relevant key set (renumbering there depends on history). The manager
  // therefore compares with the database after every revision and reloads seeded
  // from it when they differ; this test covers the load itself.
  it.each([50, 0])(
    'numbers every record like the engine it was seeded from (grace %i ms)',
    (grace) => {
      for (let seed = 1; seed <= 30; seed++) {
        const rng = makeRng(seed);
        let model = randomModel(rng, { records: 12, policies: 4 });
        const a = new Engine({ identityGraceMs: grace });
        a.load(oracleModelToDocuments(model), 0);
        let t = 0;
        for (let i = 0; i < 30; i++) {
          const { change, model: next } = randomChange(rng, model);
          try {
            a.apply([change], (t += 20));
            model = next;
          } catch {
            /* invalid random change */
          }
        }
        const b = new Engine({ identityGraceMs: grace });
        b.load(oracleModelToDocuments(model), t, { identities: a.identityAllocations() });
        const ids = (e: Engine) => model.interfaces.map((r) => [r.name, e.recordIdentity(r.name)]);
        expect(ids(b), `seed ${seed}`).toEqual(ids(a));
        expect(b.identityAllocations(), `seed ${seed}`).toEqual(a.identityAllocations());
      }
    },
  );
});
