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
import { T0, T1, T2, iface, rejection, req, subnet } from './conformance-support.js';
import { describeTokenLifecycle } from './conformance-tokens.js';
import { runAndKill } from './testing/crash-run.js';
import type { IdentityClaim, Store, TokenRecord } from './types.js';

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
      const s = await harness.open(location);
      opened.push(s);
      return s;
    };
    const fresh = async (): Promise<{ store: Store; location: string }> => {
      const location = await harness.blank();
      return { store: await open(location), location };
    };

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
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
    describeAuditChain(fresh, open, harness.shared);
    describeDurability(fresh, open, harness);
    if (harness.shared) describeSharedDatabase(fresh, open);
    if (harness.shared) describeSharedIdentities(fresh, open);
  });
}

type Fresh = () => Promise<{ store: Store; location: string }>;
type Open = (location: string) => Promise<Store>;

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

function describeReactionState(fresh: Fresh): void {
  it('stores events with increasing ids, newest first', async () => {
    const { store } = await fresh();
    const a = await store.insertEvent({
      at: T0,
      type: 'ids.alert',
      target: 'web-1',
      record: 'web-1',
      severity: 3,
      details: { sig: 42 },
      actor: 'op',
      reactions: ['quarantine'],
    });
    const b = await store.insertEvent({
      at: T1,
      type: 'scan',
      target: '203.0.113.9',
      actor: 'op',
      reactions: [],
    });
    expect(b.id).toBeGreaterThan(a.id);
    expect(a).toMatchObject({
      at: T0,
      type: 'ids.alert',
      record: 'web-1',
      severity: 3,
      details: { sig: 42 },
      reactions: ['quarantine'],
    });
    expect(b.record).toBeUndefined();
    expect(await store.listEvents(10)).toEqual([b, a]);
    expect(await store.listEvents(1)).toEqual([b]);
    expect(await store.revision()).toBe(0);
  });

  it('puts, replaces, lists and deletes reaction expiries', async () => {
    const { store } = await fresh();
    const x = {
      record: 'web-1',
      reaction: 'quarantine',
      expiresAt: T2,
      set: { quarantine: true },
      removed: [],
      prior: {},
    };
    const y = {
      record: 'web-2',
      reaction: 'quarantine',
      expiresAt: T1,
      set: { q: 'x' },
      removed: ['env'],
      prior: { env: 'prod' },
      eventId: 7,
    };
    await store.putExpiry(x);
    await store.putExpiry(y);
    expect(await store.listExpiries()).toEqual([y, x]);
    await store.putExpiry({ ...x, expiresAt: T0 });
    expect((await store.listExpiries()).map((e) => [e.record, e.expiresAt])).toEqual([
      ['web-1', T0],
      ['web-2', T1],
    ]);
    expect(await store.deleteExpiry('web-1', 'quarantine')).toBe(true);
    expect(await store.deleteExpiry('web-1', 'quarantine')).toBe(false);
    expect(await store.listExpiries()).toEqual([y]);
  });
}

function describeEventCommits(fresh: Fresh, open: Open): void {
  const quarantine = {
    record: 'web-1',
    reaction: 'quarantine',
    expiresAt: T2,
    set: { quarantine: true },
    removed: [],
    prior: {},
  };
  const alert = (at: string) => ({
    at,
    type: 'ids.alert',
    target: '10.0.0.5',
    record: 'web-1',
    actor: 'op',
    reactions: ['quarantine'],
  });
  const tagChange = (baseRevision: number, tags: Record<string, unknown>) => ({
    baseRevision,
    actor: 'reaction:quarantine',
    action: (id: number) => `event ids.alert id=${id} record=web-1`,
    puts: [iface('web-1', tags)],
    deletes: [],
  });

  it('commits an event, its expiries and its change as one revision, durably', async () => {
    const { store, location } = await fresh();
    await store.commit(req(0, { puts: [subnet('net'), iface('web-1')] }));
    const heard: number[] = [];
    await store.onCommit((rev) => heard.push(rev));
    const out = await store.commitEvent({
      event: alert(T1),
      expiries: [quarantine],
      change: tagChange(1, { quarantine: true }),
    });
    expect(out.event).toMatchObject({ ...alert(T1), id: expect.any(Number) });
    expect(out.expiries).toEqual([{ ...quarantine, eventId: out.event.id }]);
    expect(out.record).toMatchObject({
      revision: 2,
      at: T1,
      actor: 'reaction:quarantine',
      action: `event ids.alert id=${out.event.id} record=web-1`,
    });
    expect(out.record?.changes[0]?.before).toMatchObject({ tags: {}, revision: 1 });
    expect(out.record?.changes[0]?.after).toMatchObject({
      tags: { quarantine: true },
      revision: 2,
    });
    await expect.poll(() => heard).toEqual([2]);
    expect((await store.changesSince(1))[0]).toEqual(out.record);
    await store.close();
    const again = await open(location);
    expect(await again.listEvents(10)).toEqual([out.event]);
    expect(await again.listExpiries()).toEqual(out.expiries);
    expect(await again.changesSince(1)).toEqual([out.record]);
  });

  it('stores an event that changes nothing without a revision', async () => {
    const { store } = await fresh();
    const out = await store.commitEvent({
      event: { at: T0, type: 'scan', target: '203.0.113.9', actor: 'op', reactions: [] },
      expiries: [],
    });
    expect(out.record).toBeUndefined();
    expect(out.expiries).toEqual([]);
    expect(await store.listEvents(10)).toEqual([out.event]);
    expect(await store.revision()).toBe(0);
  });

  it('extends a pending expiry, keeping its undo, never moving it earlier', async () => {
    const { store } = await fresh();
    const first = await store.commitEvent({ event: alert(T0), expiries: [quarantine] });
    // The repeat sees the reaction's own tag as "before": its undo must not win.
    const repeat = { ...quarantine, prior: { quarantine: true } };
    const earlier = await store.commitEvent({
      event: alert(T1),
      expiries: [{ ...repeat, expiresAt: T1 }],
    });
    expect(earlier.expiries).toEqual([{ ...quarantine, eventId: earlier.event.id }]);
    const later = '2026-01-01T00:05:00.000Z';
    const moved = await store.commitEvent({
      event: alert(T2),
      expiries: [{ ...repeat, expiresAt: later }],
    });
    expect(moved.expiries).toEqual([{ ...quarantine, expiresAt: later, eventId: moved.event.id }]);
    expect(await store.listExpiries()).toEqual(moved.expiries);
    expect(first.event.id).toBeLessThan(moved.event.id);
  });

  it('rolls back the event and its expiries when the change fails', async () => {
    const { store } = await fresh();
    await store.commit(req(0, { puts: [subnet('net'), iface('web-1')] }));
    const stale = await rejection(
      store.commitEvent({
        event: alert(T1),
        expiries: [quarantine],
        change: tagChange(0, { quarantine: true }),
      }),
    );
    expect(stale.code).toBe('VNP_ERR_CONFLICT');
    const missing = await rejection(
      store.commitEvent({
        event: alert(T1),
        expiries: [quarantine],
        change: { ...tagChange(1, {}), puts: [], deletes: [{ kind: 'Subnet', name: 'nope' }] },
      }),
    );
    expect(missing.code).toBe('VNP_ERR_NOT_FOUND');
    const twice = await rejection(
      store.commitEvent({ event: alert(T1), expiries: [quarantine, quarantine] }),
    );
    expect(twice.code).toBe('VNP_ERR_VALIDATION');
    expect(await store.listEvents(10)).toEqual([]);
    expect(await store.listExpiries()).toEqual([]);
    expect(await store.revision()).toBe(1);
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

function describeSharedDatabase(fresh: Fresh, open: Open): void {
  it('serializes concurrent writers on one database into consecutive revisions', async () => {
    const { store: a, location } = await fresh();
    const b = await open(location);
    const winners = new Map<number, string>();
    const writer = async (store: Store, who: string, count: number): Promise<void> => {
      for (let done = 0; done < count;) {
        const base = await store.revision();
        try {
          const r = await store.commit(req(base, { actor: who, puts: [subnet(`${who}-${done}`)] }));
          expect(r.revision).toBe(base + 1);
          expect(winners.has(r.revision)).toBe(false);
          winners.set(r.revision, who);
          done++;
        } catch (e) {
          if (!(e instanceof VnpError) || e.code !== 'VNP_ERR_CONFLICT') throw e;
        }
      }
    };
    await Promise.all([
      writer(a, 'a', 15),
      writer(b, 'b', 15),
      writer(a, 'c', 10),
      writer(b, 'd', 10),
    ]);
    const log = await b.changesSince(0);
    expect(log.map((c) => c.revision)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(log.map((c) => c.actor)).toEqual(
      [...winners.keys()].sort((x, y) => x - y).map((r) => winners.get(r)),
    );
    expect((await a.loadAll()).documents.length).toBe(50);
  });

  it('lets exactly one of two stores win the same base revision', async () => {
    const { store: a, location } = await fresh();
    const b = await open(location);
    for (let base = 0; base < 10; base++) {
      const results = await Promise.allSettled([a.commit(req(base)), b.commit(req(base))]);
      expect(results.filter((r) => r.status === 'fulfilled').length).toBe(1);
    }
    expect(await a.revision()).toBe(10);
  });

  it("tells a second store's onCommit listeners about the first store's commits", async () => {
    const { store: a, location } = await fresh();
    const b = await open(location);
    const heard: number[] = [];
    await b.onCommit((rev) => heard.push(rev));
    await a.commit(req(0, { puts: [subnet('x')] }));
    await a.commit(req(1));
    await expect.poll(() => heard.at(-1), { timeout: 5000 }).toBe(2);
    expect(heard).toEqual([...heard].sort((x, y) => x - y));
  });
}

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

function describeIdentities(fresh: Fresh): void {
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
    expect(await store.loadIdentities()).toEqual({ revision: 1, identities: [web, db] });
    const grace = { ...web, releasedAt: 1700000000000 };
    expect(
      (await store.claimIdentities(claim(2, { upsert: [grace, api], remove: [db.id] }))).claimed,
    ).toBe(true);
    expect(await store.loadIdentities()).toEqual({ revision: 2, identities: [grace, api] });
    // Re-keyed in place; a revision without changes moves only the revision.
    const rekeyed = { id: api.id, key: '{"app":"api2"}' };
    expect((await store.claimIdentities(claim(3, { upsert: [rekeyed] }))).claimed).toBe(true);
    expect((await store.claimIdentities(claim(5, { base: 'f3' }))).claimed).toBe(true);
    expect(await store.loadIdentities()).toEqual({ revision: 5, identities: [grace, rekeyed] });
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
    expect(await store.loadIdentities()).toEqual({ revision: 3, identities: [web] });
    // On another base with every row: the table is replaced.
    expect((await store.claimIdentities(claim(4, { base: 'other', all: [db] }))).claimed).toBe(
      true,
    );
    expect(await store.loadIdentities()).toEqual({ revision: 4, identities: [db] });
  });
}

function describeSharedIdentities(fresh: Fresh, open: Open): void {
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
