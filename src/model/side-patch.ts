/**
 * A side patch (docs/protocol.md, docs/adr/0045-side-patches-on-the-wire.md): the
 * change of one side a host already holds, as the manager sends it to agents that
 * announced they fold patches — the entries of the peers whose entries changed, and the
 * side's small parts (`cidr`, `any`, `routes`) when they changed, instead of the whole
 * side. When an identity joins a selector used as a rule peer, every side of every
 * identity that rule applies to changes by one peer: a patch carries that one peer, a
 * whole side carries every peer again.
 *
 * Pure; the input side is untouched (unchanged entries are shared with the result, so
 * the agent's per-entry comparisons stop at them).
 */
import { VnpError } from './errors.js';
import type { Direction, PeerEntry, SideState } from './host-state.js';
import { noteSideListWindow } from './list-window.js';

/** The change of one side: replace the entries of `peers` by `entries` (and the parts given). */
export interface SidePatch {
  identity: number;
  direction: Direction;
  /** Peers whose entries are replaced, ascending; a peer without entries in `entries` has none now. */
  peers: number[];
  /** The new entries of those peers, by peer (each entry's peer is in `peers`). */
  entries: PeerEntry[];
  /** Present: the side's new CIDR entries. */
  cidr?: SideState['cidr'];
  /** Present: the side's new any-peer entries. */
  any?: SideState['any'];
  /** Present: the side's new route entries (a patch never removes them: that is a whole side). */
  routes?: NonNullable<SideState['routes']>;
}

function malformed(what: string): VnpError {
  return new VnpError('VNP_ERR_CONFLICT', `side patch: ${what}; resyncing`, {
    field: 'sidePatches',
  });
}

/**
 * Replace peer `peer`'s entries in a list sorted by peer, in place (binary search, one
 * splice). Replacing several peers from the highest down keeps earlier positions valid.
 * Returns the replaced stretch `[start, end)` of the list as it was.
 *
 * @example replacePeerEntries(peers, 301, []) // 301's entries gone
 */
export function replacePeerEntries(
  list: PeerEntry[],
  peer: number,
  entries: readonly PeerEntry[],
): { start: number; end: number } {
  const lo = firstOfPeer(list, peer);
  let end = lo;
  while (end < list.length && list[end]!.peer === peer) end++;
  if (end > lo || entries.length > 0) list.splice(lo, end - lo, ...entries);
  return { start: lo, end };
}

/**
 * The side with `patch` applied. Throws VNP_ERR_CONFLICT on a patch that does not fit
 * (the receiver resyncs from a snapshot).
 *
 * @example applySidePatch(side, { identity: 300, direction: 'ingress', peers: [301], entries: [] }) // 301's entries gone
 */
export function applySidePatch(side: SideState, patch: SidePatch): SideState {
  if (!Array.isArray(patch.peers) || !Array.isArray(patch.entries))
    throw malformed('peers and entries must be lists');
  const byPeer = new Map<number, PeerEntry[]>();
  for (const p of patch.peers) byPeer.set(p, []);
  for (const e of patch.entries) {
    const list = byPeer.get(e?.peer);
    if (!list) throw malformed(`an entry of peer ${String(e?.peer)} not named in peers`);
    list.push(e);
  }
  // Splice from the highest peer down, so earlier positions stay valid.
  const peers = side.peers.slice();
  let start = side.peers.length;
  let beforeEnd = 0;
  for (const p of [...byPeer.keys()].sort((a, b) => b - a)) {
    const replaced = replacePeerEntries(peers, p, byPeer.get(p)!);
    start = Math.min(start, replaced.start);
    beforeEnd = Math.max(beforeEnd, replaced.end);
  }
  // What the patch replaced is all that changed: the agent's check and table read the
  // changed stretch from here instead of comparing the whole list (list-window.ts).
  if (start <= beforeEnd)
    noteSideListWindow(side.peers, peers, {
      start,
      beforeEnd,
      afterEnd: beforeEnd + peers.length - side.peers.length,
    });
  const out: SideState = { ...side, peers };
  if (patch.cidr !== undefined) out.cidr = patch.cidr;
  if (patch.any !== undefined) out.any = patch.any;
  if (patch.routes !== undefined) out.routes = patch.routes;
  return out;
}

/**
 * First position in a list sorted by peer whose peer is not below `peer` (binary search).
 *
 * @example firstOfPeer([{ peer: 3 }, { peer: 7 }] as PeerEntry[], 5) // 1
 */
export function firstOfPeer(list: readonly PeerEntry[], peer: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.peer < peer) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
