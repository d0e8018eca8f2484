/**
 * Identity numbers survive a restart: a manager that reloads from the store keeps the
 * numbers the database recorded, not those of the load order (PGlite).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/support/test-server.js';

let s: TestServer | undefined;
afterAll(async () => {
  await s?.close();
});

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
});
