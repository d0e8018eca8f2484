/**
 * The fold of the watch stream, without a transport: snapshots and bare states replace,
 * deltas fold onto the committed state only, a gap asks for a resync, heartbeats and
 * unknown types.
 */
import { describe, expect, it } from 'vitest';
import type { HostState } from '../../model/host-state.js';
import { HostFold } from './host-fold.js';

const state = (revision: number): HostState => ({
  host: 'h1',
  revision,
  locals: [],
  remotes: [],
  ipcache: [],
  sides: [],
  defaults: [],
});

describe('HostFold', () => {
  it('replaces on snapshots and bare states, folds deltas onto the committed state', () => {
    const fold = new HostFold();
    expect(fold.since()).toBeUndefined();
    const first = fold.next({ type: 'snapshot', state: state(3) })!;
    expect(first).toEqual({ state: state(3), changed: true });
    fold.commit(first.state);
    expect(fold.since()).toBe(3);
    const upsert = { upsert: [{ ip: '10.0.0.1', identity: 300 }], remove: [] };
    const step = fold.next({ type: 'delta', from: 3, to: 4, ipcache: upsert })!;
    expect(step.changed).toBe(true);
    expect(step.state.ipcache).toEqual(upsert.upsert);
    // Not committed (its apply failed): the same delta still applies.
    expect(fold.next({ type: 'delta', from: 3, to: 4 })).toMatchObject({ changed: false });
    expect(fold.next(state(9))).toEqual({ state: state(9), changed: true });
    expect(fold.next({ type: 'heartbeat', revision: 3 })).toBeUndefined();
    expect(fold.stats).toEqual({ snapshots: 2, deltas: 2, heartbeats: 1, resyncs: 0 });
  });

  it('a delta that does not fit asks for a resync: the next watch starts without since', () => {
    const fold = new HostFold();
    expect(() => fold.next({ type: 'delta', from: 1, to: 2 })).toThrow(/resyncing/);
    fold.commit(state(5));
    expect(() => fold.next({ type: 'delta', from: 4, to: 6 })).toThrow(/does not apply to 5/);
    expect(fold.resync).toBe(true);
    expect(fold.since()).toBeUndefined();
    expect(fold.since()).toBe(5);
    expect(fold.stats.resyncs).toBe(2);
  });

  it('a delta whose fold fails (a side patch for a side not held) asks for a resync too', () => {
    const fold = new HostFold();
    fold.commit(state(5));
    const patch = { identity: 300, direction: 'ingress' as const, peers: [256], entries: [] };
    expect(() => fold.next({ type: 'delta', from: 5, to: 6, sidePatches: [patch] })).toThrow(
      /does not hold/,
    );
    expect(fold.since()).toBeUndefined();
  });

  it('refuses an unknown message type', () => {
    expect(() => new HostFold().next({ type: 'nope' } as never)).toThrow(
      /unknown watch message type "nope"/,
    );
  });
});
