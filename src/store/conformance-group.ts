/**
 * Store conformance, group commit (`Store.commitGroup`): several batches in one
 * transaction, each with its own revision and change-log/audit row, all or nothing.
 */
import { expect, it } from 'vitest';
import { T0, T1, rejection, req, subnet } from './conformance-support.js';
import type { GroupIdentityClaim, IdentityClaim, IdentityClaimResult, Store } from './types.js';

/** What a store holds, to compare before and after a refused group. */
async function contents(store: Store): Promise<string> {
  const all = await store.loadAll();
  return JSON.stringify([all, await store.changesSince(0)]);
}

/**
 * The group-commit tests, registered inside a backend's conformance `describe`.
 *
 * @example describeGroupCommits(fresh);
 */
export function describeGroupCommits(fresh: () => Promise<{ store: Store }>): void {
  it('group commit: one revision, change-log and audit row per batch, in order', async () => {
    const { store } = await fresh();
    await store.commit(req(0, { puts: [subnet('a')] }));
    const heard: number[] = [];
    const off = await store.onCommit((rev) => heard.push(rev));
    const records = await store.commitGroup([
      req(1, { actor: 'alice', action: 'tag a', puts: [subnet('a', '10.0.1.0/24')] }),
      req(2, { actor: 'bob', action: 'audit only' }),
      req(3, { actor: 'carol', action: 'tag a again', at: T1, puts: [subnet('a', '10.0.2.0/24')] }),
      req(4, { actor: 'dave', action: 'drop a', deletes: [{ kind: 'Subnet', name: 'a' }] }),
    ]);
    off();
    expect(records.map((r) => [r.revision, r.actor, r.action])).toEqual([
      [2, 'alice', 'tag a'],
      [3, 'bob', 'audit only'],
      [4, 'carol', 'tag a again'],
      [5, 'dave', 'drop a'],
    ]);
    expect(heard).toEqual([2, 3, 4, 5]);
    // Each batch saw the earlier ones: its before image is the previous after image.
    const [first, , third, fourth] = records;
    expect(first!.changes[0]!.before).toMatchObject({ cidr: '10.0.0.0/24', revision: 1 });
    expect(first!.changes[0]!.after).toMatchObject({ cidr: '10.0.1.0/24', revision: 2 });
    expect(third!.changes[0]!.before).toMatchObject({ cidr: '10.0.1.0/24', revision: 2 });
    expect(third!.changes[0]!.after).toMatchObject({
      cidr: '10.0.2.0/24',
      revision: 4,
      createdAt: T0,
      updatedAt: T1,
    });
    expect(fourth!.changes[0]!.before).toMatchObject({ cidr: '10.0.2.0/24', revision: 4 });
    expect(await store.revision()).toBe(5);
    expect(await store.changesSince(1)).toEqual(records);
    expect((await store.audit({})).map((r) => r.revision)).toEqual([5, 4, 3, 2, 1]);
    expect((await store.loadAll()).documents).toEqual([]);
    expect(await store.commitGroup([])).toEqual([]);
  });

  it('group commit: all or nothing when one batch fails (missing delete, stale base)', async () => {
    const { store } = await fresh();
    await store.commit(req(0, { puts: [subnet('a')] }));
    const before = await contents(store);
    const missing = await rejection(
      store.commitGroup([
        req(1, { puts: [subnet('b')] }),
        req(2, { deletes: [{ kind: 'Subnet', name: 'nope' }] }),
        req(3, { puts: [subnet('c')] }),
      ]),
    );
    expect(missing.code).toBe('VNP_ERR_NOT_FOUND');
    const stale = await rejection(
      store.commitGroup([req(1, { puts: [subnet('b')] }), req(1, { puts: [subnet('c')] })]),
    );
    expect(stale.code).toBe('VNP_ERR_CONFLICT');
    expect(await contents(store)).toBe(before);
    // Nothing half-done: the next commit takes the next revision.
    expect((await store.commitGroup([req(1), req(2)])).map((r) => r.revision)).toEqual([2, 3]);
  });

  it('group commit: batches on distinct resources (one statement) store what one by one would', async () => {
    const batches = [
      req(1, {
        actor: 'alice',
        action: 'put a b',
        puts: [subnet('a', '10.0.1.0/24'), subnet('b')],
      }),
      req(2, { actor: 'bob', action: 'audit only' }),
      req(3, { actor: 'carol', action: 'put c', at: T1, puts: [subnet('c')] }),
    ];
    const grouped = (await fresh()).store;
    const single = (await fresh()).store;
    for (const s of [grouped, single]) await s.commit(req(0, { puts: [subnet('a')] }));
    const records = await grouped.commitGroup(batches);
    for (const b of batches) await single.commit(b);
    expect(records.map((r) => r.revision)).toEqual([2, 3, 4]);
    expect(records[0]!.changes.map((c) => [c.name, c.before?.revision, c.after?.revision])).toEqual(
      [
        ['a', 1, 2],
        ['b', undefined, 2],
      ],
    );
    expect(records[2]!.changes[0]!.after).toMatchObject({ revision: 4, createdAt: T1 });
    expect(await grouped.changesSince(0)).toEqual(await single.changesSince(0));
    expect(await grouped.loadAll()).toEqual(await single.loadAll());
    // The same hash chain.
    expect(await grouped.auditChain(0, 10)).toEqual(await single.auditChain(0, 10));
    // A stale base fails the whole group and writes nothing.
    const before = await contents(grouped);
    const stale = await rejection(
      grouped.commitGroup([req(3, { puts: [subnet('d')] }), req(4, { puts: [subnet('e')] })]),
    );
    expect(stale.code).toBe('VNP_ERR_CONFLICT');
    expect(await contents(grouped)).toBe(before);
  });

  it('group commit: claims its identity allocations in its transaction, at its last revision', async () => {
    const { store } = await fresh();
    const web = { id: 256, key: '{"app":"web"}' };
    const told: [IdentityClaimResult, number][] = [];
    const ids = (over: Partial<IdentityClaim>): GroupIdentityClaim => ({
      claim: { base: 'f0', fingerprint: 'f1', upsert: [web], remove: [], all: [web], ...over },
      done: (result, revision) => told.push([result, revision]),
    });
    await store.commitGroup([req(0, { puts: [subnet('a')] }), req(1)], ids({}));
    expect(told).toEqual([[{ claimed: true, revision: 2, fingerprint: 'f1' }, 2]]);
    expect(await store.loadIdentities()).toEqual({
      revision: 2,
      fingerprint: 'f1',
      identities: [web],
    });
    // A refused claim (not on the table's base, no rows) does not fail the group.
    const records = await store.commitGroup([req(2)], ids({ base: 'other', all: undefined }));
    expect(records.map((r) => r.revision)).toEqual([3]);
    expect(told[1]).toEqual([{ claimed: false, revision: 2, fingerprint: 'f1' }, 3]);
    // A group that fails claims nothing.
    await rejection(store.commitGroup([req(0)], ids({ base: 'f1', fingerprint: 'f9' })));
    expect(told).toHaveLength(2);
    expect((await store.loadIdentities()).revision).toBe(2);
  });
}
