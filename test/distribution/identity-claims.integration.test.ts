/**
 * Identity claims record only the rows a revision changed, yet managers sharing one
 * PostgreSQL database still agree with it: when the table at a revision does not match
 * a manager's allocations (here: another writer recorded swapped numbers), every
 * manager that applies that revision reloads seeded from the database and adopts them.
 * Needs PostgreSQL (VNP_TEST_DATABASE_URL); skips loudly without it, fails in CI.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Document } from '../../src/model/types.js';
import { Manager } from '../../src/server/manager.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/types.js';
import { freshDatabase } from '../server/support/test-server.js';

const db = await freshDatabase();

const docs: Document[] = [
  { kind: 'Subnet', name: 'lan', cidr: '10.0.0.0/24' },
  ...[0, 1, 2].map((i): Document => ({
    kind: 'Interface',
    name: `r${i}`,
    subnet: 'lan',
    ips: [`10.0.0.${10 + i}`],
    tags: { app: `a${i}` },
  })),
  {
    kind: 'Policy',
    name: 'p',
    priority: 100,
    appliesTo: 'has(app)',
    ingress: [],
    egress: [],
    routes: [],
    mode: 'enforce',
  },
];

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!db)('identity claims on a shared PostgreSQL', () => {
  const stores: Store[] = [];
  const managers: Manager[] = [];

  afterAll(async () => {
    for (const m of managers) await m.close();
    for (const s of stores) await s.close();
    await db?.drop();
  });

  it('keep every manager on the database’s numbers, incrementally and after a divergence', async () => {
    for (let i = 0; i < 2; i++) {
      const store = await openStore({ dataDir: '', databaseUrl: db!.url });
      stores.push(store);
      const m = new Manager({ store });
      await m.start();
      managers.push(m);
    }
    const [a, b] = managers as [Manager, Manager];
    const put = (doc: Document) =>
      a.write({ actor: 'test', action: 'put' }, () => ({
        changes: [{ op: 'put', doc }],
        result: undefined,
      }));
    for (const doc of docs) await put(doc);
    // A tag change: one new identity, one released (in grace) — two rows, not the table.
    await put({ ...docs[1]!, tags: { app: 'a9' } } as Document);
    await until(() => b.revision === a.revision);
    await Promise.all(managers.map((m) => m.identitiesSettled()));
    const numbers = (m: Manager) => [0, 1, 2].map((i) => m.engine.recordIdentity(`r${i}`));
    const table = await stores[0]!.loadIdentities();
    expect(numbers(a)).toEqual(numbers(b));
    expect(table.revision).toBe(a.revision);
    expect(table.identities).toEqual(a.engine.identityAllocations());
    expect(b.engine.identityAllocations()).toEqual(a.engine.identityAllocations());

    // Another writer records the next revision with r0's and r2's numbers swapped.
    const n = numbers(a) as number[];
    const swapped = table.identities.map((r) =>
      r.id === n[0] ? { ...r, id: n[2]! } : r.id === n[2] ? { ...r, id: n[0]! } : r,
    );
    const next = a.revision + 1;
    const forged = await stores[0]!.claimIdentities({
      revision: next,
      base: 'unknown',
      fingerprint: 'forged',
      upsert: [],
      remove: [],
      all: swapped,
    });
    expect(forged.claimed).toBe(true);
    let reloads = 0;
    for (const m of managers) m.onReload(() => reloads++);
    await put({ kind: 'Subnet', name: 'other', cidr: '10.1.0.0/24' });
    await until(() => b.revision === next);
    await until(() => reloads === 2);
    await Promise.all(managers.map((m) => m.identitiesSettled()));
    for (const m of managers) expect(numbers(m)).toEqual([n[2], n[1], n[0]]);

    // Both reloaded engines claim every row at their next revision; one wins, the
    // other agrees with it: no further reload.
    await put({ ...docs[2]!, tags: { app: 'a8' } } as Document);
    await until(() => b.revision === a.revision);
    await Promise.all(managers.map((m) => m.identitiesSettled()));
    expect(reloads).toBe(2);
    expect(numbers(a)).toEqual(numbers(b));
    const after = await stores[0]!.loadIdentities();
    expect(after.revision).toBe(a.revision);
    expect(after.identities).toEqual(a.engine.identityAllocations());
  }, 60_000);
});
