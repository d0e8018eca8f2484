/**
 * The identity of a side's peer list as the engine lists it, and, for a list patched
 * from the listing before it, the patch (src/engine/hosts/side-peers.ts): the peers
 * whose runs were redone, their entries before and after. Every other entry is the
 * same object in both lists. A reader holding the earlier listing (the distribution
 * feed, src/server/distribution/side-diff.ts) then compares only those runs —
 * O(entries of the peers redone) — and never needs either list whole: a patched list
 * is only built (`entries()`) when someone reads it whole.
 */
import type { PeerEntry, SideState } from './host-state.js';

/** How a peer list differs from the list it was patched from. */
export interface PeerListPatch {
  /** The list patched (compare with {@link peerListOf} of the earlier side). */
  from: PeerListRef;
  /** Peers whose runs were redone, ascending. */
  peers: readonly number[];
  /** Per peer of `peers`: its entries in `from`, then in this list. */
  before: readonly (readonly PeerEntry[])[];
  after: readonly (readonly PeerEntry[])[];
}

/** One peer list of a side (the same object while the side's peers are unchanged). */
export interface PeerListRef {
  /** The entries, by ascending peer (built on first call; then the same array). */
  entries(): readonly PeerEntry[];
  /** Present on a side's newest list when it was patched from the one before. */
  readonly patch: PeerListPatch | undefined;
}

/**
 * Where a side built by {@link sideWithPeers} keeps its list: a non-enumerable symbol
 * property (JSON, spreads and `Object.entries` skip it). Not a WeakMap: every such
 * write lists hundreds of new sides, and a weak table of them grows and rehashes
 * between collections and costs the collector an ephemeron each.
 */
const REF = Symbol('peerList');

type Listed = SideState & { [REF]?: PeerListRef };

/**
 * A side whose `peers` are `ref`'s entries, read when first needed: an own enumerable
 * accessor, so JSON, spreads and `Object.entries` see an ordinary side, while a reader
 * that only follows patches never builds the list.
 */
export function sideWithPeers(fields: Omit<SideState, 'peers'>, ref: PeerListRef): SideState {
  const { identity, direction, cidr, any, routes } = fields;
  // Built in key order with one shared getter: every such side gets the same hidden
  // class with fast properties (redefining a data property, or a getter per side,
  // would give each side a dictionary of its own).
  const side = { identity, direction, cidr } as Listed;
  Object.defineProperty(side, REF, { value: ref, enumerable: false });
  Object.defineProperty(side, 'peers', PEERS);
  side.any = any;
  if (routes !== undefined) side.routes = routes;
  return side;
}

const PEERS: PropertyDescriptor = {
  get(this: Listed) {
    return this[REF]!.entries();
  },
  enumerable: true,
  configurable: true,
};

/**
 * The peer list of a side built by {@link sideWithPeers} (undefined: any other side).
 *
 * @example peerListOf(next)?.patch?.from === peerListOf(prev) // only `patch.peers` differ
 */
export function peerListOf(side: SideState): PeerListRef | undefined {
  return (side as Listed)[REF];
}
