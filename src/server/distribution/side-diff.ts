/**
 * How a side changed between two listings, and the side patch that says it
 * (src/model/side-patch.ts, docs/adr/0045-side-patches-on-the-wire.md).
 *
 * The engine hands back the very entry objects of every peer whose table did not
 * change (src/engine/hosts/side-peers.ts), so comparing two peer lists is a walk of
 * pointer comparisons; only the entries of changed peers are serialised. The small
 * parts (`cidr`, `any`, `routes`) are compared as JSON.
 */
import type { Direction, PeerEntry, SideState } from '../../model/host-state.js';
import { peerListOf } from '../../model/peer-list-origin.js';
import { entryJson } from './side-json.js';

/** A side's parts other than its peers, as JSON (compared between listings). */
export interface SideParts {
  cidr: string;
  any: string;
  /** Absent: no route applies. */
  routes?: string;
}

/** What changed in one side of an identity since its last listing. */
export interface SideChange {
  direction: Direction;
  /** Send the side whole (new to the feed, or its routes went away). */
  whole: boolean;
  /** Peers whose entries changed (ascending). */
  peers: number[];
  /** Their entries at the listing; absent once merged over several steps (read the current side). */
  entries?: PeerEntry[];
  cidr: boolean;
  any: boolean;
  routes: boolean;
}

/**
 * The parts of a side as JSON; a part that is the same object as in `before` (the
 * engine keeps them while a side's rules are unchanged) keeps its JSON.
 *
 * @example sideParts(side).cidr // '[]'
 */
export function sideParts(
  side: SideState,
  before?: { side: SideState; parts: SideParts },
): SideParts {
  const same = <K extends 'cidr' | 'any' | 'routes'>(key: K): boolean =>
    before !== undefined && before.side[key] === side[key];
  return {
    cidr: same('cidr') ? before!.parts.cidr : JSON.stringify(side.cidr),
    any: same('any') ? before!.parts.any : JSON.stringify(side.any),
    ...(side.routes
      ? { routes: same('routes') ? before!.parts.routes! : JSON.stringify(side.routes) }
      : {}),
  };
}

/** Same entries (the same objects, or the same JSON). */
function sameRun(
  a: readonly PeerEntry[],
  ai: number,
  aEnd: number,
  b: readonly PeerEntry[],
  bi: number,
  bEnd: number,
): boolean {
  if (aEnd - ai !== bEnd - bi) return false;
  for (let k = 0; k < aEnd - ai; k++) {
    const x = a[ai + k]!;
    const y = b[bi + k]!;
    if (x !== y && entryJson(x) !== entryJson(y)) return false;
  }
  return true;
}

/** End (at most `limit`) of the run of entries of the peer at `i` in a list sorted by peer. */
function runEnd(list: readonly PeerEntry[], i: number, limit: number): number {
  const p = list[i]!.peer;
  let end = i;
  while (end < limit && list[end]!.peer === p) end++;
  return end;
}

/**
 * The window of two lists sorted by peer outside which they hold the same entry
 * objects, widened to whole peer runs: `[start, aEnd)` of `a` against `[start, bEnd)`
 * of `b`. One tight pass of pointer comparisons (the engine keeps unchanged peers'
 * entries as the same objects).
 */
function changedRuns(
  a: readonly PeerEntry[],
  b: readonly PeerEntry[],
): { start: number; aEnd: number; bEnd: number } {
  const n = Math.min(a.length, b.length);
  let start = 0;
  while (start < n && a[start] === b[start]) start++;
  let aEnd = a.length;
  let bEnd = b.length;
  while (aEnd > start && bEnd > start && a[aEnd - 1] === b[bEnd - 1]) {
    aEnd--;
    bEnd--;
  }
  // A run that straddles an edge of the window is compared whole.
  const p = start > 0 ? a[start - 1]!.peer : undefined;
  if (p !== undefined && (a[start]?.peer === p || b[start]?.peer === p))
    while (start > 0 && a[start - 1]!.peer === p) start--;
  while (
    aEnd < a.length &&
    ((aEnd > 0 && a[aEnd]!.peer === a[aEnd - 1]?.peer) ||
      (bEnd > 0 && b[bEnd]!.peer === b[bEnd - 1]?.peer))
  ) {
    aEnd++;
    bEnd++;
  }
  return { start, aEnd, bEnd };
}

/**
 * The peers whose entries differ between two lists sorted by peer, with their entries
 * in `after`. O(entries) pointer comparisons; JSON only for entries inside the window
 * where the lists differ.
 *
 * @example diffPeers(before, after) // { peers: [301], entries: [{ peer: 301, … }] }
 */
function diffPeers(
  before: readonly PeerEntry[],
  after: readonly PeerEntry[],
): { peers: number[]; entries: PeerEntry[] } {
  const peers: number[] = [];
  const entries: PeerEntry[] = [];
  if (before === after) return { peers, entries };
  const { start, aEnd, bEnd } = changedRuns(before, after);
  let i = start;
  let j = start;
  while (i < aEnd || j < bEnd) {
    const p = Math.min(i < aEnd ? before[i]!.peer : Infinity, j < bEnd ? after[j]!.peer : Infinity);
    const iEnd = i < aEnd && before[i]!.peer === p ? runEnd(before, i, aEnd) : i;
    const jEnd = j < bEnd && after[j]!.peer === p ? runEnd(after, j, bEnd) : j;
    if (!sameRun(before, i, iEnd, after, j, jEnd)) {
      peers.push(p);
      for (let k = j; k < jEnd; k++) entries.push(after[k]!);
    }
    i = iEnd;
    j = jEnd;
  }
  return { peers, entries };
}

/**
 * The peers whose entries differ between two listings of a side, with their entries
 * in `after`. When the engine patched `after`'s peer list from `before`'s, only the
 * redone peers' runs are compared (a peer that joined a selector patches every side
 * whose rules use it, and the feed compares each of them per write) and neither list
 * is read whole; otherwise {@link diffPeers}.
 */
function diffSides(before: SideState, after: SideState): { peers: number[]; entries: PeerEntry[] } {
  const a = peerListOf(before);
  const b = peerListOf(after);
  if (a !== undefined && a === b) return { peers: [], entries: [] };
  if (a === undefined || b?.patch?.from !== a) return diffPeers(before.peers, after.peers);
  const peers: number[] = [];
  const entries: PeerEntry[] = [];
  const patch = b.patch;
  patch.peers.forEach((p, k) => {
    const [x, y] = [patch.before[k]!, patch.after[k]!];
    if (sameRun(x, 0, x.length, y, 0, y.length)) return;
    peers.push(p);
    entries.push(...y);
  });
  return { peers, entries };
}

/**
 * What changed in a side since `prev` (undefined: nothing did).
 *
 * @example sideChange(prev, prevParts, next, nextParts) // { direction: 'ingress', peers: [301], … }
 */
export function sideChange(
  prev: { side: SideState; parts: SideParts } | undefined,
  next: { side: SideState; parts: SideParts },
): SideChange | undefined {
  const { side, parts } = next;
  if (!prev || (prev.parts.routes !== undefined && parts.routes === undefined))
    return {
      direction: side.direction,
      whole: true,
      peers: [],
      cidr: true,
      any: true,
      routes: true,
    };
  const { peers, entries } = diffSides(prev.side, side);
  const cidr = prev.parts.cidr !== parts.cidr;
  const any = prev.parts.any !== parts.any;
  const routes = prev.parts.routes !== parts.routes;
  if (peers.length === 0 && !cidr && !any && !routes) return undefined;
  return { direction: side.direction, whole: false, peers, entries, cidr, any, routes };
}

/**
 * One change merged into another (a slow reader's steps): peers united, the entries
 * left to be read from the current side.
 */
export function mergeSideChange(a: SideChange, b: SideChange): SideChange {
  const peers = [...new Set([...a.peers, ...b.peers])].sort((x, y) => x - y);
  return {
    direction: a.direction,
    whole: a.whole || b.whole,
    peers,
    cidr: a.cidr || b.cidr,
    any: a.any || b.any,
    routes: a.routes || b.routes,
  };
}

/**
 * The side patch's JSON for `change`, over the current `side` (its parts' JSON in
 * `parts`): the changed peers' entries, and the parts that changed.
 */
export function patchJson(
  identity: number,
  change: SideChange,
  side: SideState,
  parts: SideParts,
): string {
  let entries = change.entries;
  if (!entries) {
    const wanted = new Set(change.peers);
    entries = side.peers.filter((e) => wanted.has(e.peer));
  }
  return (
    `{"identity":${identity},"direction":"${change.direction}","peers":${JSON.stringify(change.peers)}` +
    `,"entries":[${entries.map(entryJson).join(',')}]` +
    (change.cidr ? `,"cidr":${parts.cidr}` : '') +
    (change.any ? `,"any":${parts.any}` : '') +
    (change.routes && parts.routes !== undefined ? `,"routes":${parts.routes}` : '') +
    '}'
  );
}
