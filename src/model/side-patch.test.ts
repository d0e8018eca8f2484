import { describe, expect, it } from 'vitest';
import { VnpError } from './errors.js';
import { applyHostDelta, composeHostDeltas } from './host-delta.js';
import type { HostState, PeerEntry, SideState } from './host-state.js';
import { changedWindow, sameSideEntry, sideListWindow } from './list-window.js';
import { applySidePatch } from './side-patch.js';

const entry = (peer: number, port: number): PeerEntry => ({
  peer,
  proto: 'tcp',
  ports: [port, port],
  verdict: 'allow',
  policy: 'p',
  rule: 'ingress[0]',
});

const side: SideState = {
  identity: 300,
  direction: 'ingress',
  cidr: [],
  peers: [entry(256, 80), entry(257, 80), entry(257, 443), entry(259, 80)],
  any: [],
};

const state: HostState = {
  host: 'h1',
  revision: 7,
  locals: [],
  remotes: [],
  ipcache: [],
  sides: [side],
  defaults: [],
};

describe('applySidePatch', () => {
  it('replaces, adds and removes peers, keeping the other entries as the same objects', () => {
    const out = applySidePatch(side, {
      identity: 300,
      direction: 'ingress',
      peers: [257, 258, 259],
      entries: [entry(257, 22), entry(258, 80)],
      any: [{ proto: 'udp', ports: [53, 53], verdict: 'allow', policy: 'p', rule: 'ingress[1]' }],
    });
    expect(out.peers).toEqual([entry(256, 80), entry(257, 22), entry(258, 80)]);
    expect(out.peers[0]).toBe(side.peers[0]);
    expect(out.any).toHaveLength(1);
    expect(side.peers).toHaveLength(4); // the input is untouched
  });

  it('leaves the changed stretch of the peers for the agent, narrowed to what differs', () => {
    const patch = (peers: number[], entries: PeerEntry[]) =>
      applySidePatch(side, { identity: 300, direction: 'ingress', peers, entries }).peers;
    const cases: [PeerEntry[], { start: number; beforeEnd: number; afterEnd: number }][] = [
      [patch([258], [entry(258, 80)]), { start: 3, beforeEnd: 3, afterEnd: 4 }],
      [patch([257], [entry(257, 80)]), { start: 2, beforeEnd: 3, afterEnd: 2 }],
      // Peers apart: one stretch from the first to the last (256 and 259 replaced).
      [patch([256, 259], []), { start: 0, beforeEnd: 4, afterEnd: 2 }],
      // The same entries again (equal, not the same objects): nothing changed.
      [patch([257], [entry(257, 80), entry(257, 443)]), { start: 3, beforeEnd: 3, afterEnd: 3 }],
    ];
    for (const [after, window] of cases) {
      expect(sideListWindow(side.peers, after)).toEqual(window);
      // The full comparison pass finds a stretch of the same size.
      const full = changedWindow(side.peers, after, sameSideEntry);
      expect(full.beforeEnd - full.start).toBe(window.beforeEnd - window.start);
      expect(full.afterEnd - full.start).toBe(window.afterEnd - window.start);
    }
  });

  it('refuses an entry of a peer the patch does not name', () => {
    expect(() =>
      applySidePatch(side, { ...side, peers: [258], entries: [entry(260, 80)] }),
    ).toThrow(VnpError);
  });
});

describe('applyHostDelta with side patches', () => {
  it('patches a side the state holds, and is a conflict (a resync) for one it does not', () => {
    const patch = { identity: 300, direction: 'ingress' as const, peers: [256], entries: [] };
    const out = applyHostDelta(state, { from: 7, to: 8, sidePatches: [patch] });
    expect(out.sides[0]!.peers.map((e) => e.peer)).toEqual([257, 257, 259]);
    const missing = { ...patch, direction: 'egress' as const };
    expect(() => applyHostDelta(state, { from: 7, to: 8, sidePatches: [missing] })).toThrow(
      /does not hold/,
    );
  });

  it('is not composed blindly', () => {
    const patch = { identity: 300, direction: 'ingress' as const, peers: [256], entries: [] };
    expect(() =>
      composeHostDeltas({ from: 7, to: 8, sidePatches: [patch] }, { from: 8, to: 9 }),
    ).toThrow(VnpError);
  });
});
