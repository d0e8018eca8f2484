/**
 * The store conformance suite: one set of behavioural tests every backend
 * must pass (the way Hono tests its adapters). A backend test file calls
 * `defineStoreConformance` with a harness that makes fresh, isolated
 * locations (a temp directory, a freshly named database).
 *
 * @example
 *   defineStoreConformance('pglite', harness, () => rm(tmp, { recursive: true, force: true }));
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { VnpError } from '../model/errors.js';
import type { Document } from '../model/types.js';
import { describeAuditChain } from './conformance-audit-chain.js';
import { describeFlows } from './conformance-flows.js';
import { describeGroupCommits } from './conformance-group.js';
import { describeMigrationBackfill, type RawSql } from './conformance-migrations.js';
import { describeSharedDatabase } from './conformance-shared-database.js';
import { describeIdentities, describeSharedIdentities } from './conformance-identities.js';
import { describeEventCommits, describeReactionState } from './conformance-reactions.js';
import {
  T0,
  T1,
  T2,
  iface,
  rejection,
  req,
  subnet,
  type Fresh,
  type Open,
} from './conformance-support.js';
import { describeTokenLifecycle } from './conformance-tokens.js';
import { runAndKill } from './testing/crash-run.js';
import type { Store, TokenRecord } from './types.js';

/** How the suite reaches a backend. */
export interface StoreHarness {
  /** A new, empty, not yet opened location (a directory path, a database URL). */
  blank(): Promise<string>;
  /** Open (and migrate) a store on a location. */
  open(location: string): Promise<Store>;
  /** Several stores may be open on one location at once (PostgreSQL). */
  shared: boolean;
  /** The crash writer's backend argument; its target is the location. */
  crashBackend: 'pglite' | 'postgres';
  /** Raw SQL on a location no store has open (to set up an older schema). */
  raw: RawSql;
}

/**
 * Register the full suite for one backend.
 *
 * @example
 *   defineStoreConformance('postgres', { blank, open, shared: true, crashBackend: 'postgres' });
 */
export function defineStoreConformance(
  name: string,
  harness: StoreHarness,
  cleanup?: () => Promise<void>,
): void {
  describe(`store conformance: ${name}`, () => {
    const opened: Store[] = [];
    const open = async (location: string): Promise<Store> => {
      const store = await harness.open(location);
      opened.push(store);
      return store;
    };
    const fresh = async (): Promise<{ store: Store; location: string }> => {
      const location = await harness.blank();
      return { store: await open(location), location };
    };

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close().catch(() => undefined)));
    });
    if (cleanup) afterAll(cleanup);

    describeSchema(fresh, open, harness);
    describeCommits(fresh);
    describeGroupCommits(fresh);
    describeReads(fresh);
    describeTokens(fresh);
    describeTokenLifecycle(fresh, open, harness.shared);
    describeReactionState(fresh);
    describeEventCommits(fresh, open);
    describeIdentities(fresh);
    describeFlows(fresh);
    describeMigrationBackfill(fresh, open, harness.raw);
    describeAuditChain(fresh, open, harness.shared);
    describeDurability(fresh, open, harness);
    if (harness.shared) describeSharedDatabase(fresh, open);
    if (harness.shared) describeSharedIdentities(fresh, open);
  });
}

function describeSchema(fresh: Fresh, open: Open, harness: StoreHarness): void {
  it('starts empty', async () => {
    const { store } = await fresh();
    expect(await store.loadAll()).toEqual({ revision: 0, documents: [] });
    expect(await store.revision()).toBe(0);
    expect(await store.changesSince(0)).toEqual([]);
    expect(await store.audit({})).toEqual([]);
    expect(await store.listTokens()).toEqual([]);
    expect(await store.oldestRevision()).toBe(1);
    expect(store.backend).toBe(harness.crashBackend);
  });

  it('migrates idempotently, twice in a row and twice at once', async () => {
    const { store } = await fresh();
    await store.commit(req(0, { puts: [subnet('a')] }));
    await store.migrate();
    await store.migrate();
    await Promise.all([store.migrate(), store.migrate()]);
    const { revision, documents } = await store.loadAll();
    expect(revision).toBe(1);
    expect(documents.map((d) => d.name)).toEqual(['a']);
    expect((await store.commit(req(1))).revision).toBe(2);
  });

  if (harness.shared) {
    it('two stores opening a blank database at once both migrate it', async () => {
      const location = await harness.blank();
      const [a, b] = await Promise.all([open(location), open(location)]);
      await a.commit(req(0, { puts: [subnet('a')] }));
      expect((await b.loadAll()).documents.map((d) => d.name)).toEqual(['a']);
    });
  }
}

function describeCommits(fresh: Fresh): void {
  it('puts, replaces and deletes with metadata and before/after images', async () => {
    const { store } = await fresh();
    const created = await store.commit(
      req(0, {
        at: T0,
        puts: [subnet('net'), iface('i1', { env: 'prod', owner: { team: 'pay' } })],
      }),
    );
    expect(created.revision).toBe(1);
    expect(created.changes).toEqual([
      {
        op: 'put',
        kind: 'Subnet',
        name: 'net',
        after: { ...subnet('net'), revision: 1, createdAt: T0, updatedAt: T0 },
      },
      {
        op: 'put',
        kind: 'Interface',
        name: 'i1',
        after: {
          ...iface('i1', { env: 'prod', owner: { team: 'pay' } }),
          revision: 1,
          createdAt: T0,
          updatedAt: T0,
        },
      },
    ]);
    const v1 = created.changes[0]?.after;

    // Metadata in a put is ignored: the server sets it.
    const replaced = await store.commit(
      req(1, {
        at: T1,
        puts: [
          { ...subnet('net', '10.1.0.0/16'), revision: 99, createdAt: T2 } as unknown as Document,
        ],
      }),
    );
    const v2 = { ...subnet('net', '10.1.0.0/16'), revision: 2, createdAt: T0, updatedAt: T1 };
    expect(replaced.changes).toEqual([
      { op: 'put', kind: 'Subnet', name: 'net', before: v1, after: v2 },
    ]);

    const all = await store.loadAll();
    expect(all.revision).toBe(2);
    expect(all.documents).toEqual([
      {
        ...iface('i1', { env: 'prod', owner: { team: 'pay' } }),
        revision: 1,
        createdAt: T0,
        updatedAt: T0,
      },
      v2,
    ]);

    const deleted = await store.commit(
      req(2, { at: T2, deletes: [{ kind: 'Subnet', name: 'net' }] }),
    );
    expect(deleted.changes).toEqual([{ op: 'delete', kind: 'Subnet', name: 'net', before: v2 }]);
    expect((await store.loadAll()).documents.map((d) => d.name)).toEqual(['i1']);
  });

  it('commits, replaces and deletes a large batch in one revision each', async () => {
    const { store } = await fresh();
    const many = Array.from({ length: 5000 }, (_, i) =>
      iface(`i${String(i).padStart(5, '0')}`, { n: i }),
    );
    const created = await store.commit(req(0, { puts: many }));
    expect(created.changes.length).toBe(5000);
    const replaced = await store.commit(
      req(1, { at: T1, puts: many.map((d) => ({ ...d, tags: { n: -1 } }) as Document) }),
    );
    expect(replaced.changes[4999]).toMatchObject({
      before: { revision: 1 },
      after: { revision: 2, createdAt: T0, updatedAt: T1 },
    });
    const all = await store.loadAll();
    expect(all.documents.length).toBe(5000);
    expect(all.documents[0]).toMatchObject({ name: 'i00000', tags: { n: -1 } });
    const gone = await store.commit(
      req(2, { deletes: many.map((d) => ({ kind: d.kind, name: d.name })) }),
    );
    expect(gone.changes.every((c) => c.op === 'delete' && c.before?.revision === 2)).toBe(true);
    expect((await store.loadAll()).documents).toEqual([]);
  });

  it('bumps the revision by exactly one per commit, empty batches included', async () => {
    const { store } = await fresh();
    for (let i = 0; i < 5; i++) {
      const r = await store.commit(req(i, i % 2 ? {} : { puts: [subnet(`s${i}`)] }));
      expect(r.revision).toBe(i + 1);
      expect(await store.revision()).toBe(i + 1);
    }
    expect((await store.changesSince(0)).map((c) => c.revision)).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses a stale or future baseRevision and changes nothing', async () => {
    const { store } = await fresh();
    await store.commit(req(0, { puts: [subnet('a')] }));
    await store.commit(req(1, { puts: [subnet('b')] }));
    const before = await store.loadAll();
    for (const base of [1, 0, 7]) {
      const e = await rejection(
        store.commit(req(base, { puts: [subnet('c')], deletes: [{ kind: 'Subnet', name: 'a' }] })),
      );
      expect(e.code).toBe('VNP_ERR_CONFLICT');
      expect(e.details).toMatchObject({ expected: String(base), actual: 2 });
    }
    expect(await store.loadAll()).toEqual(before);
    expect((await store.changesSince(0)).length).toBe(2);
  });

  it('rolls back the whole batch when a delete names a missing row', async () => {
    const { store } = await fresh();
    await store.commit(req(0, { puts: [subnet('a')] }));
    const before = await store.loadAll();
    const e = await rejection(
      store.commit(
        req(1, {
          puts: [subnet('b'), subnet('a', '10.9.0.0/16')],
          deletes: [{ kind: 'Policy', name: 'ghost' }],
        }),
      ),
    );
    expect(e.code).toBe('VNP_ERR_NOT_FOUND');
    expect(e.details).toMatchObject({ kind: 'Policy', name: 'ghost', field: 'deletes[0]' });
    expect(await store.loadAll()).toEqual(before);
    expect(await store.revision()).toBe(1);
    expect((await store.commit(req(1))).revision).toBe(2);
  });

  it('refuses a batch that names one resource twice', async () => {
    const { store } = await fresh();
    const e = await rejection(
      store.commit(req(0, { puts: [subnet('a')], deletes: [{ kind: 'Subnet', name: 'a' }] })),
    );
    expect(e.code).toBe('VNP_ERR_VALIDATION');
    expect(e.details?.field).toBe('deletes[0]');
    expect(await store.revision()).toBe(0);
  });

  it('lets exactly one of several commits on the same base win', async () => {
    const { store } = await fresh();
    const results = await Promise.allSettled(
      [0, 1, 2, 3, 4].map((i) => store.commit(req(0, { puts: [subnet(`s${i}`)] }))),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won.length).toBe(1);
    for (const r of lost) expect((r.reason as VnpError).code).toBe('VNP_ERR_CONFLICT');
    expect(await store.revision()).toBe(1);
    expect((await store.loadAll()).documents.length).toBe(1);
  });

  it('reports its own commits to onCommit listeners until unsubscribed', async () => {
    const { store } = await fresh();
    const heard: number[] = [];
    const off = await store.onCommit((rev) => heard.push(rev));
    const throwing = await store.onCommit(() => {
      throw new Error('listener bug');
    });
    await store.commit(req(0));
    await store.commit(req(1, { puts: [subnet('a')] }));
    expect(heard).toEqual([1, 2]);
    off();
    throwing();
    await store.commit(req(2));
    expect(heard).toEqual([1, 2]);
  });
}

function describeReads(fresh: Fresh): void {
  it('returns changesSince in revision order with a limit', async () => {
    const { store } = await fresh();
    for (let i = 0; i < 5; i++)
      await store.commit(req(i, { action: `a${i + 1}`, puts: [subnet(`s${i}`)] }));
    const all = await store.changesSince(0);
    expect(all.map((c) => c.revision)).toEqual([1, 2, 3, 4, 5]);
    expect(all.map((c) => c.action)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(all[0]).toMatchObject({
      actor: 'tester',
      at: T0,
      changes: [{ op: 'put', kind: 'Subnet', name: 's0' }],
    });
    expect((await store.changesSince(2, 2)).map((c) => c.revision)).toEqual([3, 4]);
    expect(await store.changesSince(5)).toEqual([]);
    expect(await store.oldestRevision()).toBe(1);
  });

  it('audits newest first, filtered by kind, name and revision', async () => {
    const { store } = await fresh();
    await store.commit(req(0, { actor: 'alice', at: T0, puts: [subnet('net')] }));
    await store.commit(req(1, { actor: 'bob', at: T1, puts: [iface('i1'), iface('i2')] }));
    await store.commit(
      req(2, { actor: 'carol', at: T2, deletes: [{ kind: 'Interface', name: 'i1' }] }),
    );
    await store.commit(req(3, { actor: 'dave', action: 'event' }));
    const revs = async (q: Parameters<Store['audit']>[0]): Promise<number[]> =>
      (await store.audit(q)).map((c) => c.revision);
    expect(await revs({})).toEqual([4, 3, 2, 1]);
    expect(await revs({ kind: 'Interface' })).toEqual([3, 2]);
    expect(await revs({ kind: 'Interface', name: 'i2' })).toEqual([2]);
    expect(await revs({ name: 'net' })).toEqual([1]);
    expect(await revs({ kind: 'Subnet', name: 'i1' })).toEqual([]);
    expect(await revs({ sinceRevision: 2 })).toEqual([4, 3]);
    expect(await revs({ limit: 2 })).toEqual([4, 3]);
    expect(await revs({ limit: 5000 })).toEqual([4, 3, 2, 1]);
    expect((await store.audit({ kind: 'Interface', name: 'i1' }))[0]).toMatchObject({
      actor: 'carol',
      at: T2,
    });
    expect((await rejection(store.audit({ limit: 0 }))).code).toBe('VNP_ERR_VALIDATION');
  });

  it('pages audit at 100 by default', async () => {
    const { store } = await fresh();
    for (let i = 0; i < 105; i++) await store.commit(req(i));
    const page = await store.audit({});
    expect(page.length).toBe(100);
    expect(page[0]?.revision).toBe(105);
    expect(page[99]?.revision).toBe(6);
  });
}

function describeTokens(fresh: Fresh): void {
  it('puts, gets, lists and revokes tokens', async () => {
    const { store } = await fresh();
    const admin: TokenRecord = {
      id: 'tok-a',
      role: 'admin',
      hash: 'scrypt$16384$8$1$c2FsdA==$aGFzaA==',
      createdAt: T0,
      createdBy: 'bootstrap',
    };
    const agent: TokenRecord = {
      id: 'tok-b',
      role: 'agent',
      host: 'h1',
      hash: 'scrypt$x',
      createdAt: T1,
      createdBy: 'tok-a',
    };
    await store.putToken(admin);
    await store.putToken(agent);
    expect(await store.getToken('tok-a')).toEqual(admin);
    expect(await store.getToken('tok-b')).toEqual(agent);
    expect(await store.getToken('nope')).toBeUndefined();
    expect(await store.listTokens()).toEqual([admin, agent]);
    expect(await store.revokeToken('tok-b', T2)).toBe(true);
    expect(await store.revokeToken('tok-b', T2)).toBe(false);
    expect(await store.revokeToken('nope', T2)).toBe(false);
    expect(await store.getToken('tok-b')).toEqual({ ...agent, revokedAt: T2 });
    expect(await store.liveTokenIds(['tok-a', 'tok-b', 'nope'])).toEqual(new Set(['tok-a']));
    expect(await store.liveTokenIds([])).toEqual(new Set());
    const bad = await rejection(store.putToken({ ...admin, id: 'tok-c', createdAt: 'soon' }));
    expect(bad.code).toBe('VNP_ERR_VALIDATION');
    expect(bad.details?.field).toBe('createdAt');
    // Tokens are not resources: they leave the revision alone.
    expect(await store.revision()).toBe(0);
  });
}

function describeDurability(fresh: Fresh, open: Open, harness: StoreHarness): void {
  it('keeps everything across close and reopen', async () => {
    const { store, location } = await fresh();
    await store.commit(req(0, { puts: [subnet('net'), iface('i1', { a: 1 })] }));
    await store.commit(
      req(1, { at: T1, puts: [iface('i1', { a: 2 })], deletes: [{ kind: 'Subnet', name: 'net' }] }),
    );
    await store.putToken({ id: 't', role: 'viewer', hash: 'h', createdAt: T0, createdBy: 'x' });
    const event = await store.insertEvent({
      at: T0,
      type: 'e',
      target: 'i1',
      actor: 'x',
      reactions: [],
    });
    const expiry = {
      record: 'i1',
      reaction: 'r',
      expiresAt: T2,
      set: { a: 3 },
      removed: [],
      prior: { a: 2 },
    };
    await store.putExpiry(expiry);
    const snapshot = await store.loadAll();
    const log = await store.changesSince(0);
    await store.close();
    const again = await open(location);
    expect(await again.loadAll()).toEqual(snapshot);
    expect(await again.changesSince(0)).toEqual(log);
    expect(await again.getToken('t')).toMatchObject({ role: 'viewer' });
    expect(await again.listEvents(10)).toEqual([event]);
    expect(await again.listExpiries()).toEqual([expiry]);
    expect((await again.commit(req(2))).revision).toBe(3);
  });

  it('loses no acknowledged write when the writer is SIGKILLed mid-stream, twice', async () => {
    const location = await harness.blank();
    // Two rounds: the second writer starts on a store recovered from the first kill.
    const acked = [];
    for (let round = 0; round < 2; round++) {
      const got = await runAndKill({
        backend: harness.crashBackend,
        target: location,
        killAfter: 30,
      });
      expect(got.length).toBeGreaterThanOrEqual(30);
      acked.push(...got);
    }
    const store = await open(location);
    const { revision, documents } = await store.loadAll();
    const names = new Set(documents.map((d) => d.name));
    const last = acked[acked.length - 1]!;
    expect(revision).toBeGreaterThanOrEqual(last.revision);
    for (const w of acked) expect(names.has(w.name), `acknowledged ${w.name} lost`).toBe(true);
    const events = new Set((await store.listEvents(1000)).map((e) => e.target));
    const ackedEvents = acked.filter((w) => w.event);
    expect(ackedEvents.length).toBeGreaterThan(0);
    for (const w of ackedEvents) expect(events.has(w.name), `event ${w.name} lost`).toBe(true);
    const log = await store.changesSince(0);
    expect(log.map((c) => c.revision)).toEqual(Array.from({ length: revision }, (_, i) => i + 1));
    // The store is writable after recovery.
    expect((await store.commit(req(revision))).revision).toBe(revision + 1);
  }, 150_000);
}
