/**
 * A side's peer entries (one per peer identity and port segment), listed in full or
 * patched from the side's last listing (host-state-builder.ts builds the rest of a side).
 */
import type { PeerEntry, SideEntry } from '../../model/host-state.js';
import type { PeerListPatch, PeerListRef } from '../../model/peer-list-origin.js';
import { firstOfPeer } from '../../model/side-patch.js';
import type { PortTable } from '../compile/port-table.js';
import type { ResolvedSide } from '../compile/resolved-side.js';

/**
 * The peer list each side had when last listed. A side outlives tag changes, and
 * the engine drops a peer's table only when that peer's membership changed
 * (ResolvedSide.dropPeer), so when an identity appears in (or leaves) a selector used as
 * a rule peer, a side is listed again by patching: only the dropped peers' entries are
 * redone, every other entry is the same object as before (the distribution feed also
 * serialises each entry once, src/server/distribution/side-json.ts).
 */
const listedPeers = new WeakMap<ResolvedSide, PeerList>();

/**
 * Patched lists between two built ones: a list more than this many patches away from
 * a built list is built as it is listed. Bounds a list's chain (memory, and the cost
 * of building it late); a side patched by every write is copied once per this many.
 */
const MAX_CHAIN = 16;

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
 * A side's peer list: built (`built`), or a patch of the list before it (`prev`, whose
 * chain ends at a built list within {@link MAX_CHAIN} links), built only when read
 * whole. A peer that joins a selector used as a rule peer by many sides patches each
 * of them on every such write; readers that follow patches (the distribution feed)
 * never read those lists whole, so building each (a copy of the side's size) was most
 * of the write's garbage (docs/adr/0069).
 */
class PeerList implements PeerListRef {
  patch: PeerListPatch | undefined;
  private built: PeerEntry[] | undefined;
  private prev: PeerList | undefined;
  /** Links to the nearest built list (0: built). */
  private depth: number;
  /** This list's own redone peers (ascending) and their entries (unbuilt lists only). */
  private readonly peers: readonly number[];
  private readonly runs: readonly (readonly PeerEntry[])[];

  constructor(
    built: PeerEntry[] | undefined,
    prev?: PeerList,
    peers: readonly number[] = [],
    runs: readonly (readonly PeerEntry[])[] = [],
  ) {
    this.built = built;
    this.prev = prev;
    this.peers = peers;
    this.runs = runs;
    this.depth = built ? 0 : prev!.depth + 1;
  }

  entries(): PeerEntry[] {
    if (!this.built) {
      this.built = PeerList.buildFrom(this);
      this.prev = undefined;
      this.depth = 0;
    }
    return this.built;
  }

  /** A peer's run in this list. */
  runOf(peer: number): readonly PeerEntry[] {
    return PeerList.runIn(this, peer);
  }

  /** A peer's run in `list`: from the newest patch of it down the chain, else the built list. */
  private static runIn(list: PeerList, peer: number): readonly PeerEntry[] {
    for (let l: PeerList | undefined = list; l; l = l.prev) {
      if (l.built) return l.built.slice(...peerSpan(l.built, peer));
      const i = indexOf(l.peers, peer);
      if (i >= 0) return l.runs[i]!;
    }
    return [];
  }

  /** This list patched: `peers` (ascending) redone as `runs`. Only the new list keeps a patch. */
  patched(peers: readonly number[], runs: readonly (readonly PeerEntry[])[]): PeerList {
    const before = peers.map((p) => this.runOf(p));
    const next = new PeerList(undefined, this, peers, runs);
    next.patch = { from: this, peers, before, after: runs };
    this.patch = undefined;
    if (next.depth >= MAX_CHAIN) next.entries();
    return next;
  }

  /** The entries: the nearest built list with every later patch's runs in place. */
  private static buildFrom(list: PeerList): PeerEntry[] {
    /** Newest run of every redone peer, walking back to the built list. */
    const runs = new Map<number, readonly PeerEntry[]>();
    let l = list;
    for (; !l.built; l = l.prev!)
      for (let k = 0; k < l.peers.length; k++)
        if (!runs.has(l.peers[k]!)) runs.set(l.peers[k]!, l.runs[k]!);
    const base = l.built;
    const redone = [...runs.keys()].sort((a, b) => a - b);
    let size = base.length;
    const spans = redone.map((p) => {
      const [start, end] = peerSpan(base, p);
      size += runs.get(p)!.length - (end - start);
      return [start, end] as const;
    });
    // One list of the exact size (no regrowth): this is the one copy of the side.
    const out = new Array<PeerEntry>(size);
    let at = 0;
    let i = 0;
    redone.forEach((p, k) => {
      const [start, end] = spans[k]!;
      for (; i < start; i++) out[at++] = base[i]!;
      for (const e of runs.get(p)!) out[at++] = e;
      i = end;
    });
    for (; i < base.length; i++) out[at++] = base[i]!;
    return out;
  }
}

/** Where `peer`'s entries are in a list sorted by peer: [start, end). */
function peerSpan(list: readonly PeerEntry[], peer: number): [number, number] {
  const start = firstOfPeer(list, peer);
  let end = start;
  while (end < list.length && list[end]!.peer === peer) end++;
  return [start, end];
}

/** Position of `x` in an ascending list, or -1. */
function indexOf(list: readonly number[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return list[lo] === x ? lo : -1;
}

/**
 * The side's peer list as {@link allPeers} gives it, patched from its last listing:
 * O(dropped peers' entries), no copy of the list (built when read whole).
 */
export function patchedPeers(
  side: ResolvedSide,
  entries: Entries<Pick<SideEntry, 'verdict' | 'policy' | 'rule'>>,
): PeerListRef {
  const before = listedPeers.get(side);
  const dropped = side.takeDroppedPeers();
  let list: PeerList;
  if (!before) list = new PeerList(allPeers(side, entries) as PeerEntry[]);
  else if (dropped.size === 0) list = before;
  else {
    const peers = [...dropped].sort((a, b) => a - b);
    const runs = peers.map((peer): PeerEntry[] => {
      if (!side.hasPeer(peer)) return [];
      const table = side.peerTable(peer);
      return table === side.anyTable ? [] : (entries(table, { peer }) as PeerEntry[]);
    });
    list = before.patched(peers, runs);
  }
  listedPeers.set(side, list);
  return list;
}
