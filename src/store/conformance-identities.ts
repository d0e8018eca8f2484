/**
 * Store conformance: the identity table (claims, one manager and several sharing a database).
 */
import { expect, it } from 'vitest';
import type { IdentityClaim } from './types.js';
import type { Fresh, Open } from './conformance-support.js';

const web = { id: 256, key: '{"app":"web"}' };
const db = { id: 257, key: '{"app":"db"}' };
const api = { id: 258, key: '{"app":"api"}' };

function claim(revision: number, over: Partial<IdentityClaim> = {}): IdentityClaim {
  return {
    revision,
    base: `f${revision - 1}`,
    fingerprint: `f${revision}`,
    upsert: [],
    remove: [],
    ...over,
  };
}

export function describeIdentities(fresh: Fresh): void {
  it('identities: a full claim replaces the table; a claim on its base writes only its rows', async () => {
    const { store } = await fresh();
    expect(await store.loadIdentities()).toEqual({ revision: 0, identities: [] });
    // A fresh table holds no known fingerprint: only a claim with every row is taken.
    expect(await store.claimIdentities(claim(1, { upsert: [web] }))).toEqual({
      claimed: false,
      revision: 0,
      fingerprint: null,
    });
    expect(await store.claimIdentities(claim(1, { upsert: [web], all: [web, db] }))).toEqual({
      claimed: true,
      revision: 1,
      fingerprint: 'f1',
    });
    expect(await store.loadIdentities()).toEqual({
      revision: 1,
      fingerprint: 'f1',
      identities: [web, db],
    });
    const grace = { ...web, releasedAt: 1700000000000 };
    expect(
      (await store.claimIdentities(claim(2, { upsert: [grace, api], remove: [db.id] }))).claimed,
    ).toBe(true);
    expect(await store.loadIdentities()).toEqual({
      revision: 2,
      fingerprint: 'f2',
      identities: [grace, api],
    });
    // Re-keyed in place; a revision without changes moves only the revision.
    const rekeyed = { id: api.id, key: '{"app":"api2"}' };
    expect((await store.claimIdentities(claim(3, { upsert: [rekeyed] }))).claimed).toBe(true);
    expect((await store.claimIdentities(claim(5, { base: 'f3' }))).claimed).toBe(true);
    expect(await store.loadIdentities()).toEqual({
      revision: 5,
      fingerprint: 'f5',
      identities: [grace, rekeyed],
    });
  });

  it('identities: refuses a claim at or below the table revision, or on another base, and writes nothing', async () => {
    const { store } = await fresh();
    await store.claimIdentities(claim(3, { all: [web] }));
    for (const c of [
      claim(3, { all: [db] }),
      claim(2, { all: [db] }),
      claim(4, { base: 'other', upsert: [db] }),
    ])
      expect(await store.claimIdentities(c)).toEqual({
        claimed: false,
        revision: 3,
        fingerprint: 'f3',
      });
    expect(await store.loadIdentities()).toEqual({
      revision: 3,
      fingerprint: 'f3',
      identities: [web],
    });
    // On another base with every row: the table is replaced.
    expect((await store.claimIdentities(claim(4, { base: 'other', all: [db] }))).claimed).toBe(
      true,
    );
    expect(await store.loadIdentities()).toEqual({
      revision: 4,
      fingerprint: 'f4',
      identities: [db],
    });
  });
}

export function describeSharedIdentities(fresh: Fresh, open: Open): void {
  it('identities: of concurrent claims of one revision exactly one is recorded', async () => {
    const { store: a, location } = await fresh();
    const b = await open(location);
    await a.claimIdentities(claim(1, { all: [web] }));
    for (let rev = 2; rev <= 11; rev++) {
      const mine = claim(rev, { upsert: [{ id: 300 + rev, key: `a${rev}` }] });
      const theirs = claim(rev, { upsert: [{ id: 300 + rev, key: `b${rev}` }] });
      const [x, y] = await Promise.all([a.claimIdentities(mine), b.claimIdentities(theirs)]);
      expect([x.claimed, y.claimed].filter(Boolean)).toHaveLength(1);
      const winner = x.claimed ? mine : theirs;
      expect((x.claimed ? y : x).revision).toBe(rev);
      const table = await b.loadIdentities();
      expect(table.identities.find((r) => r.id === 300 + rev)).toEqual(winner.upsert[0]);
    }
  });
}
