import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reactorOf } from '../../src/server/routes/events.js';
import { freshDatabase, startTestServer, type TestServer } from '../server/support/test-server.js';
import { manualClock, quarantineDocuments } from './support.js';

// Skips loudly without PostgreSQL (freshDatabase prints why); fails under CI=true.
const db = await freshDatabase();

describe.skipIf(!db)('reactions on PostgreSQL', () => {
  const clock = manualClock();
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ databaseUrl: db!.url, now: clock.now });
    const r = await s.call('POST', '/v1/apply', { body: { documents: quarantineDocuments() } });
    expect(r.status).toBe(200);
  });
  afterAll(async () => {
    await s?.close();
    await db?.drop();
  });

  it('event → quarantine, events listed, expiry survives a restart and is undone', async () => {
    const e = await s.call('POST', '/v1/events', {
      body: { type: 'ids.alert', target: '10.20.0.10', severity: 3, details: { why: 'test' } },
    });
    expect(e.status).toBe(201);
    expect(e.body.event.reactions).toEqual(['quarantine']);
    const list = await s.call('GET', '/v1/events');
    expect(list.body.items[0]).toMatchObject({
      record: 'web-1',
      severity: 3,
      details: { why: 'test' },
    });
    const check = () =>
      s.call('POST', '/v1/check', {
        body: { src: 'web-1', dst: 'db-1', protocol: 'tcp', port: 5432 },
      });
    expect((await check()).body.verdict).toBe('deny');
    s = await s.restart();
    clock.advance(301_000);
    expect(await reactorOf(s.manager)!.runDue()).toBe(1);
    expect((await check()).body.verdict).toBe('allow');
    const diff = await s.call('GET', `/v1/history?limit=2`);
    expect(diff.body.items[0].action).toBe('expire quarantine record=web-1');
  });
});
