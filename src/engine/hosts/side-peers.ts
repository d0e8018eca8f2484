/**
 * A side's peer entries (one per peer identity and port segment), listed in full or
 * patched from the side's last listing (host-state-builder.ts builds the rest of a side).
 */
import type { PeerEntry, SideEntry } from '../../model/host-state.js';
import { notePeerListOrigin } from '../../model/peer-list-origin.js';
import { firstOfPeer } from '../../model/side-patch.js';
import type { PortTable } from '../compile/port-table.js';
import type { ResolvedSide } from '../compile/resolved-side.js';

/**
 * The peer entries each side had when last listed. A side outlives tag changes, and
 * the engine drops a peer's table only when that peer's membership changed
 * (ResolvedSide.dropPeer), so when an identity appears in (or leaves) a selector used as
 * a rule peer, a side is listed again by patching: only the dropped peers' entries are
 * redone, every other entry is the same object as before (the distribution feed also
 * serialises each entry once, src/server/distribution/side-json.ts).
 */
const listedPeers = new WeakMap<ResolvedSide, PeerEntry[]>();

export type Ported<V> = V & Pick<SideEntry, 'proto' | 'ports'>;
/**
 * A port table's entries, each with `extra`'s fields after its own. The fields are
 * added as the entry is built, never by spreading a built entry into a new object
 * (`{ ...entry, peer }`): Node 20's V8 gives every such copy a hidden class of its own,
 * and a side's peer lists hold tens of thousands of entries — each with its own class
 * made every access to them megamorphic and most of the heap's growth hidden classes.
 */
export type Entries<V> = <X extends object = object>(
  table: PortTable,
  extra?: X,
) => Ported<V & X>[];

/** Every peer's entries, by ascending peer identity (peers deciding as "any" get none). */
export function allPeers<V>(
  side: ResolvedSide,
  entries: Entries<V>,
): Ported<V & { peer: number }>[] {
  const peers: Ported<V & { peer: number }>[] = [];
  for (const peer of [...side.peerIdentities()].sort((a, b) => a - b)) {
    const table = side.peerTable(peer);
    if (table === side.anyTable) continue;
    peers.push(...entries(table, { peer }));
  }
  return peers;
}

/**
 * The side's peer entries as {@link allPeers} gives them, patched from its last listing:
 * O(peers) copying plus the dropped peers' entries, instead of every peer's table.
 */
export function patchedPeers(
  side: ResolvedSide,
  entries: Entries<Pick<SideEntry, 'verdict' | 'policy' | 'rule'>>,
): PeerEntry[] {
  const before = listedPeers.get(side);
  const dropped = side.takeDroppedPeers();
  let peers: PeerEntry[];
  if (!before) peers = allPeers(side, entries) as PeerEntry[];
  else if (dropped.size === 0) peers = before;
  else peers = patched(before, dropped, side, entries);
  listedPeers.set(side, peers);
  return peers;
}

/**
 * `before` with the dropped peers' entries redone, built in one pass into a list of the
 * exact size: the list is as long as the side has peers, and a peer that joined a
 * selector used by many sides patches every one of them per write, so a copy and a
 * splice (two more lists of that size) per side are most of such a write's garbage.
 */
function patched(
  before: readonly PeerEntry[],
  dropped: ReadonlySet<number>,
  side: ResolvedSide,
  entries: Entries<Pick<SideEntry, 'verdict' | 'policy' | 'rule'>>,
): PeerEntry[] {
  const peers = [...dropped].sort((a, b) => a - b);
  const redone: PeerEntry[][] = [];
  /** Where each dropped peer's old entries sit in `before`: [start, end). */
  const spans: number[] = [];
  let size = before.length;
  for (const peer of peers) {
    const list: PeerEntry[] = [];
    if (side.hasPeer(peer)) {
      const table = side.peerTable(peer);
      if (table !== side.anyTable)
        for (const entry of entries(table, { peer })) list.push(entry as PeerEntry);
    }
    const start = firstOfPeer(before, peer);
    let end = start;
    while (end < before.length && before[end]!.peer === peer) end++;
    redone.push(list);
    spans.push(start, end);
    size += list.length - (end - start);
  }
  const out = new Array<PeerEntry>(size);
  /** Per redone peer: its run in `before`, then in `out` ([start, end) each). */
  const runs: number[] = [];
  let at = 0;
  let from = 0;
  peers.forEach((_, k) => {
    const start = spans[2 * k]!;
    for (let i = from; i < start; i++) out[at++] = before[i]!;
    runs.push(start, spans[2 * k + 1]!, at, at + redone[k]!.length);
    for (const e of redone[k]!) out[at++] = e;
    from = spans[2 * k + 1]!;
  });
  for (let i = from; i < before.length; i++) out[at++] = before[i]!;
  notePeerListOrigin(out, { from: before, peers, runs });
  return out;
}
