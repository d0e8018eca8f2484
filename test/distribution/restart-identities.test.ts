/**
 * Identity numbers survive a restart: a manager that reloads from the store keeps the
 * numbers the database recorded, not those of the load order (PGlite). A restart whose
 * table already records the loaded revision claims nothing; one whose table does not
 * claims as before.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Document } from '../../src/model/types.js';
import { Manager } from '../../src/server/manager.js';
import { openStore } from '../../src/store/open-store.js';
import { startTestServer, type TestServer } from '../server/support/test-server.js';

let s: TestServer | undefined;
const dirs: string[] = [];
afterAll(async () => {
  await s?.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const iface = (name: string, app: string, ip: string): Document => ({
  kind: 'Interface',
  name,
  subnet: 'lan',
  ips: [ip],
  tags: { app },
});

/** A manager on `dataDir` whose store's identity claims are recorded. */
async function startWatched(dataDir: string) {
  const store = await openStore({ dataDir });
  const claims = vi.spyOn(store, 'claimIdentities');
  // A write's claim rides in its group's transaction.
  const groups = vi.spyOn(store, 'commitGroup');
  const manager = new Manager({ store });
  await manager.start();
  await manager.identitiesSettled();
  const put = async (doc: Document) => {
    await manager.write({ actor: 'test', action: 'put' }, () => ({
      changes: [{ op: 'put', doc }],
      result: undefined,
    }));
    await manager.identitiesSettled();
  };
  const stop = async () => {
    await manager.close();
    await store.close();
  };
  return { store, manager, claims, groups, put, stop };
}

describe('identities across a restart', () => {
  it('keeps every record’s identity number', async () => {
    s = await startTestServer();
    const post = async (path: string, body: unknown) => {
      const r = await s!.call('POST', path, { body });
      expect(r.status, r.text).toBeLessThan(300);
    };
    await post('/v1/subnets', { name: 'lan', cidr: '10.0.0.0/24' });
    // A selector on `app` makes it identity-relevant.
    await post('/v1/policies', {
      name: 'p',
      priority: 100,
      appliesTo: 'app == "a1"',
      ingress: [{ action: 'allow', from: { selector: 'app == "a2"' }, ports: ['tcp/80'] }],
    });
    // Reverse name order: log order and name order allocate differently.
    for (let i = 7; i >= 0; i--)
      await post('/v1/interfaces', {
        name: `r${i}`,
        subnet: 'lan',
        ips: [`10.0.0.${10 + i}`],
        tags: { app: `a${i}` },
      });
    const names = [...Array(8).keys()].map((i) => `r${i}`);
    const before = names.map((n) => s!.manager.engine.recordIdentity(n));
    expect(before[0]).not.toBe(256); // r0 was created last
    await s.manager.identitiesSettled();
    s = await s.restart();
    expect(names.map((n) => s!.manager.engine.recordIdentity(n))).toEqual(before);
  }, 60_000);

  it('claims nothing at a start whose table records the loaded revision, and only changes after', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vnp-restart-ids-'));
    dirs.push(dataDir);
    const first = await startWatched(dataDir);
    await first.put({ kind: 'Subnet', name: 'lan', cidr: '10.0.0.0/24' });
    await first.put({
      kind: 'Policy',
      name: 'p',
      priority: 100,
      appliesTo: 'app == "a1"',
      ingress: [{ action: 'allow', from: { selector: 'app == "a2"' } }],
    } as Document);
    await first.put(iface('r1', 'a1', '10.0.0.11'));
    await first.stop();

    const second = await startWatched(dataDir);
    expect(second.claims).not.toHaveBeenCalled();
    // The next claim is on the table's fingerprint: only the changed row, taken.
    await second.put(iface('r2', 'a2', '10.0.0.12'));
    const claim = second.groups.mock.calls.at(-1)![1]!.claim;
    expect(claim.all).toBeUndefined();
    expect(claim.upsert.map((r) => r.key)).toEqual(['{"app":"a2"}']);
    const table = await second.store.loadIdentities();
    expect(table.revision).toBe(second.manager.revision);
    expect(table.fingerprint).toBe(second.manager.engine.identityFingerprint());
    expect(second.claims).not.toHaveBeenCalled();
    const revision = second.manager.revision;
    await second.stop();

    // A table that does not record the loaded revision: the start claims, as before.
    const store = await openStore({ dataDir });
    await store.claimIdentities({
      revision: revision + 5,
      base: (await store.loadIdentities()).fingerprint!,
      fingerprint: 'elsewhere',
      upsert: [],
      remove: [],
    });
    await store.close();
    const third = await startWatched(dataDir);
    expect(third.claims).toHaveBeenCalledTimes(1);
    await third.stop();
  }, 60_000);
});
