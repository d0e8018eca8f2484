/**
 * Store conformance: reaction state (events, expiries) and the commits reactions make.
 */
import { expect, it } from 'vitest';
import { T0, T1, T2, iface, rejection, req, subnet } from './conformance-support.js';
import type { Fresh, Open } from './conformance-support.js';

export function describeReactionState(fresh: Fresh): void {
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

export function describeEventCommits(fresh: Fresh, open: Open): void {
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
