/**
 * The agent protocol's wire types (docs/protocol.md): what a watch stream carries
 * after the first snapshot, and the pure functions both sides use to fold it.
 *
 * Invariants:
 * - a delta applies to exactly one state: `state.revision === delta.from`; the result
 *   has `revision === delta.to` (`from === to` for an underlay-only update);
 * - the `ipcache` and `records` parts are identical for every host (the manager
 *   serialises them once); a record lands in `locals` when its host is the receiving
 *   host, else in `remotes`; sides and defaults are the receiving host's own;
 * - {@link canonicalHostState} is the order both a snapshot and a folded state use,
 *   so `applyHostDelta(snapshot(R), deltas R→R')` deep-equals `snapshot(R')`.
 */
import { VnpError } from './errors.js';
import { applySidePatch, type SidePatch } from './side-patch.js';
import type {
  DefaultState,
  Direction,
  HostState,
  IpcacheEntry,
  LocalRecord,
  RemoteRecord,
  SideState,
  SteerClass,
} from './host-state.js';

/**
 * The watch request header in which an agent lists the protocol features it folds
 * (comma-separated); a manager that does not know it ignores it.
 */
export const FEATURES_HEADER = 'vnp-features';
/** The feature: the agent folds `sidePatches` (src/model/side-patch.ts). */
export const SIDE_PATCHES_FEATURE = 'side-patches';

/** A record in a delta: the local form plus the host that runs it (and its underlay). */
export interface DeltaRecord extends RemoteRecord {
  cidr: string;
  instance: string;
  netns?: string;
}

/** What changed for one host between two revisions. Absent parts did not change. */
export interface HostDelta {
  from: number;
  to: number;
  ipcache?: { upsert: IpcacheEntry[]; remove: string[] };
  /** Records attached to some host; removals name records no longer attached anywhere. */
  records?: { upsert: DeltaRecord[]; remove: string[] };
  /** Replaced sides of identities local to the host. */
  sides?: SideState[];
  sidesRemoved?: { identity: number; direction: Direction }[];
  /**
   * Changes of sides the host holds, by peer (src/model/side-patch.ts). Sent only to
   * agents that announced they fold them (docs/protocol.md, "Side patches").
   */
  sidePatches?: SidePatch[];
  defaults?: DefaultState[];
  defaultsRemoved?: number[];
  /** The whole steer-class table when it changed (the same for every host; `[]`: none). */
  steering?: SteerClass[];
}

/** The first message of a stream (and a resync when history is gone). */
export interface SnapshotMessage {
  type: 'snapshot';
  state: HostState;
}

export interface DeltaMessage extends HostDelta {
  type: 'delta';
}

/** Sent every few seconds: the connection is alive and the manager is at `revision`. */
export interface HeartbeatMessage {
  type: 'heartbeat';
  revision: number;
}

export type HostMessage = SnapshotMessage | DeltaMessage | HeartbeatMessage;

const byName = <T extends { name: string }>(a: T, b: T) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
const byIp = (a: IpcacheEntry, b: IpcacheEntry) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);
/** Sorts like {@link bySide}: zero-padded identity (16 bits), then direction. */
const sideKey = (side: { identity: number; direction: Direction }) =>
  `${String(side.identity).padStart(5, '0')}/${side.direction}`;
const bySide = (a: SideState, b: SideState) =>
  a.identity - b.identity || (a.direction < b.direction ? -1 : a.direction > b.direction ? 1 : 0);

/**
 * The one order of a HostState's lists: records by name, ipcache by address text,
 * sides by (identity, direction), defaults by identity. Returns a new object.
 *
 * @example canonicalHostState(engine.hostState('h1', 7))
 */
export function canonicalHostState(state: HostState): HostState {
  return {
    host: state.host,
    revision: state.revision,
    locals: [...state.locals].sort(byName),
    remotes: [...state.remotes].sort(byName),
    ipcache: [...state.ipcache].sort(byIp),
    sides: [...state.sides].sort(bySide),
    defaults: [...state.defaults].sort((a, b) => a.identity - b.identity),
    ...(state.steering?.length
      ? { steering: [...state.steering].sort((a, b) => a.class - b.class) }
      : {}),
  };
}

/** The local form of a delta record (what `locals` holds). */
function toLocalRecord(r: DeltaRecord): LocalRecord {
  return {
    name: r.name,
    identity: r.identity,
    ips: r.ips,
    mac: r.mac,
    subnet: r.subnet,
    ...(r.vni !== undefined ? { vni: r.vni } : {}),
    cidr: r.cidr,
    instance: r.instance,
    ...(r.netns !== undefined ? { netns: r.netns } : {}),
  };
}

/** The remote form of a delta record (what `remotes` holds). */
function toRemoteRecord(r: DeltaRecord): RemoteRecord {
  return {
    name: r.name,
    identity: r.identity,
    ips: r.ips,
    mac: r.mac,
    subnet: r.subnet,
    ...(r.vni !== undefined ? { vni: r.vni } : {}),
    host: r.host,
    ...(r.underlay !== undefined ? { underlay: r.underlay } : {}),
  };
}

/**
 * Fold a delta into the state it was computed from; pure (the input is untouched).
 * The state must be in canonical order (a snapshot, or a fold of one).
 * Throws VNP_ERR_CONFLICT when `state.revision !== delta.from` (the caller resyncs).
 *
 * @example
 *   state = applyHostDelta(state, { from: 7, to: 8, ipcache: { upsert: [{ ip: '10.0.0.1', identity: 300 }], remove: [] } });
 */
export function applyHostDelta(state: HostState, delta: HostDelta): HostState {
  if (state.revision !== delta.from) {
    throw new VnpError(
      'VNP_ERR_CONFLICT',
      `delta from revision ${delta.from} does not apply to a state at revision ${state.revision}`,
      { field: 'from', from: delta.from, revision: state.revision },
    );
  }
  // Patch the sorted lists in place of a copy (binary search), never re-sort: a PEP
  // folds small deltas into large states.
  const out: HostState = { ...state, revision: delta.to };
  if (delta.ipcache) {
    const list = state.ipcache.slice();
    const key = (e: IpcacheEntry) => e.ip;
    for (const ip of delta.ipcache.remove) removeSorted(list, ip, key);
    for (const e of delta.ipcache.upsert) upsertSorted(list, e, key);
    out.ipcache = list;
  }
  if (delta.records) {
    const locals = state.locals.slice();
    const remotes = state.remotes.slice();
    const name = (r: { name: string }) => r.name;
    for (const n of delta.records.remove) {
      removeSorted(locals, n, name);
      removeSorted(remotes, n, name);
    }
    for (const r of delta.records.upsert) {
      if (r.host === state.host) {
        removeSorted(remotes, r.name, name);
        upsertSorted(locals, toLocalRecord(r), name);
      } else {
        removeSorted(locals, r.name, name);
        upsertSorted(remotes, toRemoteRecord(r), name);
      }
    }
    out.locals = locals;
    out.remotes = remotes;
  }
  if (delta.sides || delta.sidesRemoved || delta.sidePatches) {
    const list = state.sides.slice();
    for (const side of delta.sidesRemoved ?? []) removeSorted(list, sideKey(side), sideKey);
    for (const side of delta.sides ?? []) upsertSorted(list, side, sideKey);
    for (const p of delta.sidePatches ?? []) patchSorted(list, p);
    out.sides = list;
  }
  if (delta.defaults || delta.defaultsRemoved) {
    const list = state.defaults.slice();
    const key = (d: { identity: number }) => d.identity;
    for (const id of delta.defaultsRemoved ?? []) removeSorted(list, id, key);
    for (const d of delta.defaults ?? []) upsertSorted(list, d, key);
    out.defaults = list;
  }
  if (delta.steering) {
    if (delta.steering.length > 0)
      out.steering = [...delta.steering].sort((a, b) => a.class - b.class);
    else delete out.steering;
  }
  return out;
}

/** First index whose key is not below `k` in a list sorted by `key`. */
function lowerBound<T, K extends string | number>(
  list: readonly T[],
  k: K,
  key: (item: T) => K,
): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (key(list[mid]!) < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function removeSorted<T, K extends string | number>(list: T[], k: K, key: (item: T) => K): void {
  const i = lowerBound(list, k, key);
  if (i < list.length && key(list[i]!) === k) list.splice(i, 1);
}

function upsertSorted<T, K extends string | number>(
  list: T[],
  item: T,
  key: (element: T) => K,
): void {
  const k = key(item);
  const i = lowerBound(list, k, key);
  if (i < list.length && key(list[i]!) === k) list[i] = item;
  else list.splice(i, 0, item);
}

/** Apply a side patch to its side in a sorted list; a patch for a side not held is a conflict. */
function patchSorted(list: SideState[], patch: SidePatch): void {
  const k = sideKey(patch);
  const i = lowerBound(list, k, sideKey);
  if (i >= list.length || sideKey(list[i]!) !== k) {
    throw new VnpError(
      'VNP_ERR_CONFLICT',
      `side patch for ${patch.identity}/${patch.direction}, a side this state does not hold: resyncing`,
      { field: 'sidePatches' },
    );
  }
  list[i] = applySidePatch(list[i]!, patch);
}

/** True when a delta changes nothing but the revision. */
export function isEmptyDelta(d: HostDelta): boolean {
  return (
    !d.ipcache?.upsert.length &&
    !d.ipcache?.remove.length &&
    !d.records?.upsert.length &&
    !d.records?.remove.length &&
    !d.sides?.length &&
    !d.sidesRemoved?.length &&
    !d.sidePatches?.length &&
    !d.defaults?.length &&
    !d.defaultsRemoved?.length &&
    d.steering === undefined
  );
}

/** Number of entries a delta carries (the manager turns a huge one into a snapshot). */
export function deltaSize(d: HostDelta): number {
  return (
    (d.ipcache?.upsert.length ?? 0) +
    (d.ipcache?.remove.length ?? 0) +
    (d.records?.upsert.length ?? 0) +
    (d.records?.remove.length ?? 0) +
    (d.sides?.length ?? 0) +
    (d.sidesRemoved?.length ?? 0) +
    (d.sidePatches?.length ?? 0) +
    (d.defaults?.length ?? 0) +
    (d.defaultsRemoved?.length ?? 0) +
    (d.steering?.length ?? 0)
  );
}

/**
 * One delta equivalent to `a` then `b` (`a.to === b.from`): later entries win, an
 * upsert cancels an earlier removal and vice versa. This is how a slow reader's
 * pending changes coalesce.
 *
 * @example composeHostDeltas({ from: 1, to: 2, … }, { from: 2, to: 3, … }) // { from: 1, to: 3, … }
 */
export function composeHostDeltas(a: HostDelta, b: HostDelta): HostDelta {
  if (a.to !== b.from) {
    throw new VnpError(
      'VNP_ERR_INTERNAL',
      `cannot compose deltas ${a.from}→${a.to}, ${b.from}→${b.to}`,
    );
  }
  // The manager composes side changes per host itself (host-feed.ts); a patch composed
  // blindly could name a side the other delta removed.
  if (a.sidePatches?.length || b.sidePatches?.length)
    throw new VnpError('VNP_ERR_INTERNAL', 'deltas with side patches are not composed');
  const out: HostDelta = { from: a.from, to: b.to };
  const ipcache = composeKeyed(
    a.ipcache,
    b.ipcache,
    (e) => e.ip,
    (k) => k,
  );
  if (ipcache) out.ipcache = ipcache;
  const records = composeKeyed(
    a.records,
    b.records,
    (r) => r.name,
    (k) => k,
  );
  if (records) out.records = records;
  const sides = composeKeyed(
    a.sides || a.sidesRemoved ? { upsert: a.sides ?? [], remove: a.sidesRemoved ?? [] } : undefined,
    b.sides || b.sidesRemoved ? { upsert: b.sides ?? [], remove: b.sidesRemoved ?? [] } : undefined,
    sideKey,
    sideKey,
  );
  if (sides) {
    out.sides = sides.upsert;
    out.sidesRemoved = sides.remove;
  }
  const defaults = composeKeyed(
    a.defaults || a.defaultsRemoved
      ? { upsert: a.defaults ?? [], remove: a.defaultsRemoved ?? [] }
      : undefined,
    b.defaults || b.defaultsRemoved
      ? { upsert: b.defaults ?? [], remove: b.defaultsRemoved ?? [] }
      : undefined,
    (d) => String(d.identity),
    (id) => String(id),
  );
  if (defaults) {
    out.defaults = defaults.upsert;
    out.defaultsRemoved = defaults.remove;
  }
  // The table travels whole: the later one wins.
  const steering = b.steering ?? a.steering;
  if (steering) out.steering = steering;
  return out;
}

function composeKeyed<T, R>(
  a: { upsert: T[]; remove: R[] } | undefined,
  b: { upsert: T[]; remove: R[] } | undefined,
  keyOf: (item: T) => string,
  keyOfRemoved: (r: R) => string,
): { upsert: T[]; remove: R[] } | undefined {
  if (!a) return b;
  if (!b) return a;
  const upsert = new Map(a.upsert.map((item) => [keyOf(item), item]));
  const remove = new Map(a.remove.map((r) => [keyOfRemoved(r), r]));
  for (const r of b.remove) {
    const k = keyOfRemoved(r);
    upsert.delete(k);
    remove.set(k, r);
  }
  for (const item of b.upsert) {
    const k = keyOf(item);
    remove.delete(k);
    upsert.set(k, item);
  }
  return { upsert: [...upsert.values()], remove: [...remove.values()] };
}
