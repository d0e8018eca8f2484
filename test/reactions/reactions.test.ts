import { afterEach, describe, expect, it } from 'vitest';
import { reactorOf } from '../../src/server/routes/events.js';
import type { TestServer } from '../server/support/test-server.js';
import { manualClock, quarantineServer } from './support.js';

let servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});

async function verdict(s: TestServer, src: string, dst: string, port = 5432): Promise<string> {
  const r = await s.call('POST', '/v1/check', { body: { src, dst, protocol: 'tcp', port } });
  expect(r.status).toBe(200);
  return r.body.verdict as string;
}

describe('event → reaction → verdict → expiry', () => {
  it('quarantines on ids.alert, isolates except forensics, and undoes after the ttl', async () => {
    const clock = manualClock();
    const s = await quarantineServer(clock);
    servers.push(s);
    expect(await verdict(s, 'web-1', 'db-1')).toBe('allow');

    const r = await s.call('POST', '/v1/events', {
      as: 'operator',
      body: { type: 'ids.alert', target: 'web-1', severity: 1 },
    });
    expect(r.status).toBe(201);
    expect(r.body.event.reactions).toEqual(['quarantine']);
    expect(r.body.event.record).toBe('web-1');
    expect(r.body.expiries).toEqual([
      {
        record: 'web-1',
        reaction: 'quarantine',
        expiresAt: new Date(clock.now() + 300_000).toISOString(),
      },
    ]);
    expect(s.manager.engine.get('Interface', 'web-1')!).toMatchObject({
      tags: { quarantine: true },
    });
    expect(await verdict(s, 'web-1', 'db-1')).toBe('deny');
    expect(await verdict(s, 'db-1', 'web-1')).toBe('deny');
    expect(await verdict(s, 'forensics-1', 'web-1', 22)).toBe('allow');
    expect(await verdict(s, 'web-1', 'forensics-1', 514)).toBe('allow');

    // Audited as one write by the reaction, naming the event.
    const audit = await s.call('GET', '/v1/audit?limit=1');
    expect(audit.body.items[0].actor).toBe('reaction:quarantine');
    expect(audit.body.items[0].action).toContain(`id=${r.body.event.id}`);

    const reactor = reactorOf(s.manager)!;
    clock.advance(299_000);
    expect(await reactor.runDue()).toBe(0);
    expect(await verdict(s, 'web-1', 'db-1')).toBe('deny');
    clock.advance(1_000);
    expect(await reactor.runDue()).toBe(1);
    expect(await verdict(s, 'web-1', 'db-1')).toBe('allow');
    expect(s.manager.engine.get('Interface', 'web-1')!.kind === 'Interface').toBe(true);
    expect((s.manager.engine.get('Interface', 'web-1') as { tags: object }).tags).toEqual({
      app: 'web',
      env: 'prod',
    });
    const undo = await s.call('GET', '/v1/audit?limit=1');
    expect(undo.body.items[0].actor).toBe('reaction:quarantine');
    expect(undo.body.items[0].action).toBe('expire quarantine record=web-1');
  });

  it('a repeated event extends the expiry instead of stacking', async () => {
    const clock = manualClock();
    const s = await quarantineServer(clock);
    servers.push(s);
    const rev0 = s.manager.revision;
    await s.call('POST', '/v1/events', { body: { type: 'ids.alert', target: '10.20.0.10' } });
    expect(s.manager.revision).toBe(rev0 + 1);
    clock.advance(200_000);
    const again = await s.call('POST', '/v1/events', {
      body: { type: 'ids.alert', target: 'web-1' },
    });
    // Tags already set: no new revision, one expiry moved 200 s later.
    expect(again.body.revision).toBeUndefined();
    expect(s.manager.revision).toBe(rev0 + 1);
    const pending = await s.store.listExpiries();
    expect(pending).toHaveLength(1);
    expect(pending[0]!.expiresAt).toBe(new Date(clock.now() + 300_000).toISOString());
    expect(pending[0]!.prior).toEqual({});
    // GET /v1/expiries (what the web UI counts down) lists the moved one to a viewer.
    const listed = await s.call('GET', '/v1/expiries', { as: 'viewer' });
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([
      {
        record: 'web-1',
        reaction: pending[0]!.reaction,
        expiresAt: pending[0]!.expiresAt,
        set: pending[0]!.set,
        removed: pending[0]!.removed,
      },
    ]);
    const reactor = reactorOf(s.manager)!;
    clock.advance(150_000); // 350 s after the first: the first ttl alone would have ended
    expect(await reactor.runDue()).toBe(0);
    expect(await verdict(s, 'web-1', 'db-1')).toBe('deny');
    clock.advance(150_000);
    expect(await reactor.runDue()).toBe(1);
    expect(await verdict(s, 'web-1', 'db-1')).toBe('allow');
    expect((await s.call('GET', '/v1/expiries', { as: 'viewer' })).body).toEqual({ items: [] });
  });

  it('an expiry survives a manager restart; past-due ones are undone at start', async () => {
    const clock = manualClock();
    let s = await quarantineServer(clock);
    await s.call('POST', '/v1/events', { body: { type: 'ids.alert', target: 'db-1' } });
    expect(await verdict(s, 'web-1', 'db-1')).toBe('deny');
    clock.advance(400_000);
    s = await s.restart();
    servers.push(s);
    // start() ran the overdue undo before the app became ready.
    expect(await verdict(s, 'web-1', 'db-1')).toBe('allow');
    expect(await s.store.listExpiries()).toEqual([]);
  });

  it('a restart in the middle of a ttl keeps the expiry, which the new manager undoes when due', async () => {
    const clock = manualClock();
    let s = await quarantineServer(clock);
    await s.call('POST', '/v1/events', { body: { type: 'ids.alert', target: 'web-1' } });
    clock.advance(100_000);
    s = await s.restart();
    servers.push(s);
    expect(await verdict(s, 'web-1', 'db-1')).toBe('deny');
    expect(await s.store.listExpiries()).toHaveLength(1);
    const reactor = reactorOf(s.manager)!;
    clock.advance(150_000);
    expect(await reactor.runDue()).toBe(0);
    clock.advance(50_000);
    expect(await reactor.runDue()).toBe(1);
    expect(await verdict(s, 'web-1', 'db-1')).toBe('allow');
  });

  it('stores events, including ones whose target is unknown, and lists them newest first', async () => {
    const clock = manualClock();
    const s = await quarantineServer(clock);
    servers.push(s);
    await s.call('POST', '/v1/events', { body: { type: 'ids.alert', target: '192.0.2.1' } });
    await s.call('POST', '/v1/events', { body: { type: 'other.thing', target: 'web-1' } });
    const list = await s.call('GET', '/v1/events?limit=10', { as: 'viewer' });
    expect(list.status).toBe(200);
    expect(list.body.items.map((e: { type: string }) => e.type)).toEqual([
      'other.thing',
      'ids.alert',
    ]);
    expect(list.body.items[1].record).toBeUndefined();
    expect(list.body.items[1].reactions).toEqual([]);
    expect(list.body.items[0].reactions).toEqual([]);
    expect(await verdict(s, 'web-1', 'db-1')).toBe('allow');
  });

  it('refuses viewers and malformed events', async () => {
    const s = await quarantineServer(manualClock());
    servers.push(s);
    const v = await s.call('POST', '/v1/events', {
      as: 'viewer',
      body: { type: 'ids.alert', target: 'web-1' },
    });
    expect(v.status).toBe(403);
    const bad = await s.call('POST', '/v1/events', { body: { type: '-bad', target: 'web-1' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('type');
  });
});
