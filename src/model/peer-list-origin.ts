/**
 * Where a side's peer list came from when it was built from an earlier list by redoing
 * the entries of a few peers (src/engine/hosts/side-peers.ts): every other entry is the
 * same object as in the earlier list. A reader that holds the earlier list (the
 * distribution feed, src/server/distribution/side-diff.ts) then compares only those
 * peers' runs, O(entries of the peers redone), instead of walking both lists.
 */
import type { PeerEntry } from './host-state.js';

/** The list a peer list was patched from, and the peers whose runs were redone (ascending). */
export interface PeerListOrigin {
  from: readonly PeerEntry[];
  peers: readonly number[];
  /** Four numbers per peer of `peers`: its run in `from`, then in the list ([start, end) each). */
  runs: readonly number[];
}

const origins = new WeakMap<readonly PeerEntry[], PeerListOrigin>();

/**
 * Record that `list` is `origin.from` with the runs of `origin.peers` redone. Only the
 * newest list of a side keeps its origin: `from` forgets its own, or each list would
 * keep the one before it alive, and a side every list it ever had (readers compare a
 * list only with the listing just before it).
 */
export function notePeerListOrigin(list: readonly PeerEntry[], origin: PeerListOrigin): void {
  origins.delete(origin.from);
  origins.set(list, origin);
}

/**
 * How `list` was patched, if it was (undefined: built whole, or unknown).
 *
 * @example peerListOrigin(next)?.from === prev // only `peers` can differ
 */
export function peerListOrigin(list: readonly PeerEntry[]): PeerListOrigin | undefined {
  return origins.get(list);
}
