/**
 * Group commit keeps per-write semantics (docs/adr/0014-group-commit.md), on a real
 * manager and store: concurrent writers share transactions, yet each write is
 * validated against the writes before it, fails alone, gets its own revision and
 * audit entry, and is answered only once durable. Run on PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { VnpError } from '../../../src/model/errors.js';
import type { Document } from '../../../src/model/types.js';
import type {
  ChangeRecord,
  CommitRequest,
  GroupIdentityClaim,
  Store,
} from '../../../src/store/types.js';
import { startTestServer, type StartOptions, type TestServer } from './test-server.js';

const RECORDS = 24;

function model(): Document[] {
  const docs: Document[] = [{ kind: 'Subnet', name: 'lan', cidr: '10.50.0.0/16' }];
  for (let i = 0; i < RECORDS; i++)
    docs.push({
      kind: 'Interface',
      name: `g${i}`,
      subnet: 'lan',
      ips: [`10.50.0.${i + 10}`],
      tags: { app: 'a' },
    });
  return docs;
}

/** Swap methods of the manager's store for the duration of a test. */
function patchStore(s: TestServer, over: Partial<Store>): () => void {
  const store = s.manager.store as unknown as Record<string, unknown>;
  const saved = Object.fromEntries(Object.keys(over).map((k) => [k, store[k]]));
  Object.assign(store, over);
  return () => Object.assign(store, saved);
}

/**
 * Resolves once `count` writes are queued behind the group in flight (a write does not
 * wait for it: it is queued at once for the next group), or after `ms` (then the sizes
 * the caller asserts tell what happened).
 */
async function queuedFor(s: TestServer, count: number, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; s.manager.queued < count && Date.now() < end;)
    await new Promise((r) => setTimeout(r, 5));
}

/**
 * Count group commits that hold writes, and their sizes, while `fn` runs. The first
 * commit waits until `queued` more writes are queued behind it: how many requests
 * reach the manager while one commit is in flight depends on the machine (on an idle
 * one PostgreSQL can commit each before the next arrives), and what is tested is
 * that queued writes share a commit, not the machine's timing.
 */
async function counting<T>(
  s: TestServer,
  queued: number,
  fn: () => Promise<T>,
): Promise<[T, number[]]> {
  const store = s.manager.store;
  const real = store.commitGroup.bind(store);
  const sizes: number[] = [];
  const restore = patchStore(s, {
    commitGroup: async (reqs: CommitRequest[], ids?: GroupIdentityClaim) => {
      // A group whose writes all failed validation commits nothing: no transaction.
      if (reqs.length === 0) return real(reqs, ids);
      if (sizes.length === 0) await queuedFor(s, queued);
      sizes.push(reqs.length);
      return real(reqs, ids);
    },
  });
  try {
    return [await fn(), sizes];
  } finally {
    restore();
  }
}

/** Commits since `since` as the store's change log holds them. */
const logSince = (s: TestServer, since: number): Promise<ChangeRecord[]> =>
  s.manager.store.changesSince(since, 1000);

/**
 * Register the group-commit tests for one backend.
 *
 * @example defineGroupCommitSuite(() => ({}));
 */
export function defineGroupCommitSuite(options: () => StartOptions): void {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(options());
    const r = await s.call('POST', '/v1/apply', { body: { documents: model() } });
    expect(r.status, r.text).toBe(200);
  }, 180_000);
  afterAll(async () => {
    await s?.close();
  });

  it('16 concurrent writers share commits; each write keeps its revision and audit entry; bad writes fail alone', async () => {
    const base = s.manager.revision;
    const [answers, sizes] = await counting(s, 10, () =>
      Promise.all([
        ...Array.from({ length: 16 }, (_, i) =>
          s.call('PATCH', `/v1/interfaces/g${i}/tags`, {
            as: 'operator',
            body: { set: { n: i } },
          }),
        ),
        s.call('PATCH', '/v1/interfaces/nosuch/tags', { as: 'operator', body: { set: { n: 1 } } }),
        s.call('PUT', '/v1/interfaces/bad', {
          body: { subnet: 'nosuch', ips: ['10.50.1.1'], tags: {} },
        }),
        s.call('PATCH', '/v1/interfaces/g0/tags', {
          as: 'operator',
          body: { set: { 'bad key': 1 } },
        }),
      ]),
    );
    const good = answers.slice(0, 16);
    for (const a of good) expect(a.status, a.text).toBe(200);
    expect(answers[16]!.body.error.code).toBe('VNP_ERR_NOT_FOUND');
    expect(answers[17]!.status).toBeGreaterThanOrEqual(400);
    expect(answers[17]!.status).toBeLessThan(500);
    expect(answers[18]!.status).toBe(400);
    // Grouped: fewer transactions than writes.
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(16);
    expect(sizes.length).toBeLessThan(16);
    // One revision each, consecutive, and each answer names its own.
    const revisions = good.map((a) => a.body.revision as number).sort((a, b) => a - b);
    expect(revisions).toEqual(Array.from({ length: 16 }, (_, i) => base + 1 + i));
    expect(s.manager.revision).toBe(base + 16);
    const log = await logSince(s, base);
    expect(log.map((r) => r.revision)).toEqual(revisions);
    good.forEach((a, i) => {
      const rec = log.find((r) => r.revision === a.body.revision)!;
      expect(rec.actor).toMatch(/^operator:/);
      expect(rec.action).toBe(`tag Interface/g${i}`);
      expect(rec.changes.map((c) => c.name)).toEqual([`g${i}`]);
      expect(a.body.tags).toMatchObject({ app: 'a', n: i });
      expect(a.body.revision).toBe(rec.changes[0]!.after!.revision);
    });
    const audit = await s.call('GET', `/v1/audit?since=${base}&limit=100`);
    expect(audit.status, audit.text).toBe(200);
    expect(
      audit.body.items.map((r: ChangeRecord) => r.revision).sort((a: number, b: number) => a - b),
    ).toEqual(revisions);
  });

  it('writes to one record in one group each see the ones before them', async () => {
    const base = s.manager.revision;
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        s.call('PATCH', '/v1/interfaces/g20/tags', {
          as: 'operator',
          body: { set: { [`k${i}`]: i } },
        }),
      ),
    );
    for (const a of answers) expect(a.status, a.text).toBe(200);
    const log = await logSince(s, base);
    expect(log).toHaveLength(12);
    // In revision order, each write's before image is the previous write's after image.
    for (let i = 1; i < log.length; i++)
      expect(log[i]!.changes[0]!.before).toEqual(log[i - 1]!.changes[0]!.after);
    const got = await s.call('GET', '/v1/interfaces/g20', { as: 'viewer' });
    for (let i = 0; i < 12; i++) expect(got.body.tags[`k${i}`]).toBe(i);
    expect(got.body.revision).toBe(base + 12);
  });

  it('a write the store refuses fails alone: the group falls back to one commit per write', async () => {
    const store = s.manager.store;
    const real = { group: store.commitGroup.bind(store), one: store.commit.bind(store) };
    const poisoned = (r: CommitRequest) => r.puts.some((d) => d.name === 'g5');
    const refusal = () => new VnpError('VNP_ERR_VALIDATION', 'the database refuses g5');
    const restore = patchStore(s, {
      commitGroup: async (reqs: CommitRequest[], ids?: GroupIdentityClaim) => {
        if (reqs.some(poisoned)) throw refusal();
        return real.group(reqs, ids);
      },
      commit: async (r: CommitRequest) => {
        if (poisoned(r)) throw refusal();
        return real.one(r);
      },
    });
    const base = s.manager.revision;
    try {
      const answers = await Promise.all(
        [3, 4, 5, 6, 7, 8].map((i) =>
          s.call('PATCH', `/v1/interfaces/g${i}/tags`, { as: 'operator', body: { set: { m: i } } }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual([200, 200, 400, 200, 200, 200]);
      expect(answers[2]!.body.error.message).toContain('refuses g5');
    } finally {
      restore();
    }
    const log = await logSince(s, base);
    expect(log.map((r) => r.revision)).toEqual([1, 2, 3, 4, 5].map((i) => base + i));
    expect(log.map((r) => r.changes[0]!.name).sort()).toEqual(['g3', 'g4', 'g6', 'g7', 'g8']);
    expect(s.manager.revision).toBe(base + 5);
    expect(
      (await s.call('GET', '/v1/interfaces/g5', { as: 'viewer' })).body.tags.m,
    ).toBeUndefined();
    expect((await s.call('GET', '/v1/interfaces/g6', { as: 'viewer' })).body.tags.m).toBe(6);
  });

  it('writes arriving while a group is in flight are queued at once and form the next group', async () => {
    const store = s.manager.store;
    const real = store.commitGroup.bind(store);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const sizes: number[] = [];
    const restore = patchStore(s, {
      commitGroup: async (reqs: CommitRequest[], ids?: GroupIdentityClaim) => {
        sizes.push(reqs.length);
        if (sizes.length === 1) await gate;
        return real(reqs, ids);
      },
    });
    const base = s.manager.revision;
    const tag = (i: number, set: Record<string, number>) =>
      s.call('PATCH', `/v1/interfaces/g${i}/tags`, { as: 'operator', body: { set } });
    try {
      const first = tag(11, { first: 1 });
      for (let i = 0; i < 500 && !s.manager.settled(); i++)
        await new Promise((r) => setTimeout(r, 2));
      expect(s.manager.settled()).toBeDefined();
      // While the first group cannot land, eight writes reach the manager's queue (one
      // of them to the record the first group writes).
      const queued = [11, 12, 13, 14, 15, 16, 17, 18].map((i) => tag(i, { next: i }));
      await queuedFor(s, 8);
      expect(s.manager.queued).toBe(8);
      expect(sizes).toEqual([1]);
      open();
      const answers = await Promise.all([first, ...queued]);
      for (const a of answers) expect(a.status, a.text).toBe(200);
      expect(sizes).toEqual([1, 8]);
      expect(answers.map((a) => a.body.revision)).toEqual(
        Array.from({ length: 9 }, (_, i) => base + 1 + i),
      );
      // The queued write to g11 was planned on the first group's committed state.
      expect(answers[1]!.body.tags).toMatchObject({ first: 1, next: 11 });
      const log = await logSince(s, base);
      expect(log[1]!.changes[0]!.before).toEqual(log[0]!.changes[0]!.after);
    } finally {
      open();
      restore();
    }
  });

  it('reads wait while a group is in flight: nothing not yet durable is answered', async () => {
    const store = s.manager.store;
    const real = store.commitGroup.bind(store);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const restore = patchStore(s, {
      commitGroup: async (reqs: CommitRequest[], ids?: GroupIdentityClaim) => {
        await gate;
        return real(reqs, ids);
      },
    });
    try {
      const write = s.call('PATCH', '/v1/interfaces/g9/tags', {
        as: 'operator',
        body: { set: { seen: true } },
      });
      for (let i = 0; i < 500 && !s.manager.settled(); i++)
        await new Promise((r) => setTimeout(r, 2));
      // The model already holds the write; the store does not yet.
      expect(s.manager.engine.get('Interface', 'g9')?.kind).toBe('Interface');
      let answered = false;
      const read = s.call('GET', '/v1/interfaces/g9', { as: 'viewer' }).then((r) => {
        answered = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(answered).toBe(false);
      open();
      const [w, r] = await Promise.all([write, read]);
      expect(w.status, w.text).toBe(200);
      expect(r.body.tags.seen).toBe(true);
      expect(r.body.revision).toBe(w.body.revision);
    } finally {
      open();
      restore();
    }
  });

  it('the model after group commits is the one the store reloads', async () => {
    const before = await s.call('GET', '/v1/interfaces?limit=1000', { as: 'viewer' });
    const revision = s.manager.revision;
    s = await s.restart();
    expect(s.manager.revision).toBe(revision);
    const after = await s.call('GET', '/v1/interfaces?limit=1000', { as: 'viewer' });
    expect(after.body).toEqual(before.body);
  });
}
