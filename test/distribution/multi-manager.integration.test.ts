/**
 * Three managers on one PostgreSQL database: writes go to the first; protocol clients
 * connected to the other two converge to the same host states with the same identity
 * numbers (managers started later load seeded from the database) and the same underlay
 * addresses (shared through the database); when a manager dies
 * its agent fails over to another and resumes from its applied revision.
 * Needs PostgreSQL (VNP_TEST_DATABASE_URL); skips loudly without it, fails in CI.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { followHost, type HostFollower } from '../../src/agent/protocol/follow-host.js';
import type { HostState } from '../../src/model/host-state.js';
import { createToken } from '../../src/server/tokens.js';
import { freshDatabase, startTestServer, type TestServer } from '../server/support/test-server.js';

const db = await freshDatabase();
const HOSTS = ['host-a', 'host-b', 'host-c'];

/** Without underlay addresses (learnt through the database within seconds). */
function strip(s: HostState | undefined): unknown {
  if (!s) return s;
  return { ...s, remotes: s.remotes.map(({ underlay: _u, ...r }) => r) };
}

describe.skipIf(!db)('many managers on PostgreSQL', () => {
  const managers: TestServer[] = [];
  const urls: string[] = [];
  const tokens = new Map<string, string>();
  const followers: HostFollower[] = [];

  const write = async (method: string, path: string, body: unknown) => {
    const r = await managers[0]!.call(method, path, { body });
    expect(r.status, r.text).toBeLessThan(300);
    return r;
  };

  beforeAll(async () => {
    const m1 = await startTestServer({ backend: 'postgres', databaseUrl: db!.url });
    managers.push(m1);
    urls.push(await m1.app.listen({ host: '127.0.0.1', port: 0 }));
    await write('POST', '/v1/subnets', { name: 'lan', cidr: '10.0.0.0/24', vni: 100 });
    for (const host of HOSTS) await write('POST', '/v1/instances', { name: `vm-${host}`, host });
    // Created in reverse name order with distinct tags: identity numbers follow the
    // log order, not the name order a fresh load would use.
    for (let i = 8; i >= 0; i--) {
      await write('POST', '/v1/interfaces', {
        name: `r${i}`,
        subnet: 'lan',
        ips: [`10.0.0.${10 + i}`],
        tags: { app: `app${i}` },
        instance: `vm-${HOSTS[i % 3]}`,
      });
    }
    await write('POST', '/v1/policies', {
      name: 'p',
      priority: 100,
      appliesTo: 'app == "app1"',
      ingress: [{ action: 'allow', from: { selector: 'app == "app2"' }, ports: ['tcp/80'] }],
    });
    for (const host of HOSTS)
      tokens.set(
        host,
        (await createToken(m1.manager, { role: 'agent', host }, 'system:test')).token,
      );
    await m1.manager.identitiesSettled();
    for (let i = 0; i < 2; i++) {
      const m = await startTestServer({
        backend: 'postgres',
        databaseUrl: db!.url,
        tokens: m1.tokens,
        tokenIds: m1.tokenIds,
        owner: false,
      });
      managers.push(m);
      urls.push(await m.app.listen({ host: '127.0.0.1', port: 0 }));
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(followers.map((f) => f.stop()));
    for (const m of managers) await m.close().catch(() => undefined);
    await db?.drop();
  });

  const follow = (host: string, servers: string[]) => {
    const f = followHost({
      servers,
      host,
      token: tokens.get(host)!,
      underlayIp: `192.0.2.${HOSTS.indexOf(host) + 1}`,
      minBackoffMs: 20,
      maxBackoffMs: 200,
      heartbeatTimeoutMs: 3000,
    });
    followers.push(f);
    return f;
  };

  const snapshotOn = async (m: TestServer, host: string) =>
    (await m.call('GET', `/v1/hosts/${host}/state`, { as: 'viewer' })).body as HostState;

  it('gives every record the same identity on every manager, also those that loaded later', () => {
    const names = [...Array(9).keys()].map((i) => `r${i}`);
    const ids = managers.map((m) => names.map((n) => m.manager.engine.recordIdentity(n)));
    expect(ids[1]).toEqual(ids[0]);
    expect(ids[2]).toEqual(ids[0]);
  });

  it('converges agents on the other managers to the writer’s states', async () => {
    const fs = HOSTS.map((h, i) => follow(h, [urls[1 + (i % 2)]!]));
    await Promise.all(fs.map((f) => f.ready));
    await write('PATCH', '/v1/interfaces/r3/tags', { set: { app: 'app2' } });
    await write('POST', '/v1/interfaces', {
      name: 'r9',
      subnet: 'lan',
      ips: ['10.0.0.99'],
      tags: { app: 'new' },
      instance: 'vm-host-b',
    });
    await write('DELETE', '/v1/interfaces/r5', undefined);
    const target = managers[0]!.manager.revision;
    await Promise.all(fs.map((f) => f.reach(target, 15_000)));
    for (const [i, host] of HOSTS.entries()) {
      const truth = await snapshotOn(managers[0]!, host);
      expect(strip(fs[i]!.state), host).toEqual(strip(truth));
    }
    // Underlay addresses reach every manager through the database: remote records on
    // every manager carry them, including those of hosts connected elsewhere.
    for (const [i, host] of HOSTS.entries()) {
      await expect
        .poll(async () => fs[i]!.state!.remotes.every((r) => r.underlay !== undefined), {
          timeout: 10_000,
        })
        .toBe(true);
      // Both sides move: manager 0 learns the underlays through the database too.
      await vi.waitFor(
        async () =>
          expect({ ...fs[i]!.state!, revision: 0 }).toEqual({
            ...(await snapshotOn(managers[0]!, host)),
            revision: 0,
          }),
        { timeout: 10_000, interval: 100 },
      );
    }
    await Promise.all(fs.map((f) => f.stop()));
  }, 60_000);

  it('fails over to another manager when its manager dies, resuming without a snapshot', async () => {
    const f = follow('host-a', [urls[1]!, urls[2]!]);
    await f.ready;
    expect(f.connectedTo).toBe(urls[1]);
    await managers[1]!.close();
    await write('PATCH', '/v1/interfaces/r0/tags', { set: { app: 'moved' } });
    await write('PATCH', '/v1/interfaces/r1/tags', { set: { extra: 'x' } });
    const target = managers[0]!.manager.revision;
    await f.reach(target, 20_000);
    expect(f.connectedTo).toBe(urls[2]);
    expect(strip(f.state)).toEqual(strip(await snapshotOn(managers[0]!, 'host-a')));
    // Resumed from its applied revision: the second manager sent deltas, not a snapshot.
    expect(f.stats.snapshots).toBe(1);
  }, 60_000);
});
