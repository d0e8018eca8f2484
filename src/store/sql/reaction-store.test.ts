import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgliteStore } from '../pglite/pglite-store.js';
import type { Store } from '../types.js';

let dir: string;
let store: Store;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vnp-reaction-store-'));
  store = await openPgliteStore({ dataDir: dir });
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('reactions tables (migration 2)', () => {
  it('stores events with increasing ids and lists them newest first', async () => {
    const a = await store.insertEvent({
      at: '2026-01-01T00:00:00.000Z',
      type: 'ids.alert',
      target: '10.0.0.1',
      actor: 'operator:ab',
      reactions: [],
    });
    const b = await store.insertEvent({
      at: '2026-01-01T00:00:01.000Z',
      type: 'suricata.alert',
      target: 'web-1',
      record: 'web-1',
      severity: 2,
      details: { signature: 'ET SCAN', n: [1, 2] },
      actor: 'operator:ab',
      reactions: ['quarantine'],
    });
    expect(b.id).toBeGreaterThan(a.id);
    expect(await store.listEvents(10)).toEqual([b, a]);
    expect(a.record).toBeUndefined();
    expect(b.details).toEqual({ signature: 'ET SCAN', n: [1, 2] });
    await expect(store.listEvents(0)).rejects.toThrow(/limit/);
  });

  it('keeps one expiry per (record, reaction), soonest first, and deletes once', async () => {
    const x = {
      record: 'web-1',
      reaction: 'quarantine',
      expiresAt: '2026-01-01T00:05:00.000Z',
      set: { quarantine: true },
      removed: ['trusted'],
      prior: { trusted: true },
      eventId: 1,
    };
    await store.putExpiry(x);
    await store.putExpiry({ ...x, expiresAt: '2026-01-01T00:09:00.000Z' });
    await store.putExpiry({ ...x, record: 'db-1', expiresAt: '2026-01-01T00:07:00.000Z' });
    const all = await store.listExpiries();
    expect(all.map((e) => [e.record, e.expiresAt])).toEqual([
      ['db-1', '2026-01-01T00:07:00.000Z'],
      ['web-1', '2026-01-01T00:09:00.000Z'],
    ]);
    expect(all[1]).toEqual({ ...x, expiresAt: '2026-01-01T00:09:00.000Z' });
    expect(await store.deleteExpiry('web-1', 'quarantine')).toBe(true);
    expect(await store.deleteExpiry('web-1', 'quarantine')).toBe(false);
    await expect(store.putExpiry({ ...x, expiresAt: 'soon' })).rejects.toThrow(/expiresAt/);
  });
});
