/**
 * Builds one host's HostState (src/model/host-state.ts) from the compiled sides: the
 * disjoint, precedence-resolved entries a PEP renders without knowing §2.
 *
 * CIDR entries are final, so each is resolved together with the identity rules of the
 * peer that can sit at those addresses: outside addresses (world) combine CIDR rules
 * with any-peer rules; a record's address inside a CIDR range gets its own entry that
 * also includes the rules selecting that record's identity.
 */
import type {
  CidrEntry,
  DefaultState,
  HostState,
  LocalRecord,
  PeerEntry,
  RemoteRecord,
  SteeringEntries,
  SteeringEntry,
  SideEntry,
  SideState,
} from '../../model/host-state.js';
import { formatIp, type Ip } from '../../model/net.js';
import type { AddressSegment } from '../compile/address-table.js';
import type { EngineState, RecordState } from '../state/engine-state.js';
import type { Sides } from '../verdict/sides.js';
import { steerTable } from '../compile/steering-resolution.js';
import { paintPorts, PROTO_NAMES, type PortTable } from '../compile/port-table.js';
import type { CompiledRoute, CompiledRule } from '../compile/compiled-rule.js';
import type { ResolvedSide } from '../compile/resolved-side.js';
import { allPeers, patchedPeers, type Entries, type Ported } from './side-peers.js';

/**
 * What a host state is built from: the engine's shared state and the verdict facet's
 * sides (read-only here; a side is built on first use).
 */
export interface HostStateContext {
  readonly state: EngineState;
  readonly sides: Sides;
}

/** One record as every host's state shows it: its ipcache entries and, when attached, its local/remote forms. */
export interface IndexedRecord {
  /** The record's addresses (its entries in the address book). */
  ips: readonly Ip[];
  ipcache: IpcacheEntry[];
  attached?: { host: string; local: LocalRecord; remote: RemoteRecord };
}

type IpcacheEntry = HostState['ipcache'][number];

/**
 * What every host's state shares at one revision: the ipcache, the attached
 * records (as local and remote entries) and the sorted address book.
 *
 * Maintained incrementally: `update(names)` re-reads only the named records (the
 * engine delta's), so a write costs O(changed records · log records), not O(records).
 * The sorted arrays a full host state lists (`ipcache`, `attached`) are materialised
 * on first use after a change — only snapshots need them.
 */
export class HostIndex {
  private readonly byName = new Map<string, IndexedRecord>();
  /** Every record address, sorted by (family, value): CIDR entries split at these. */
  readonly addressBook: AddressOwner[] = [];
  private lists: { ipcache: HostState['ipcache']; attached: Attached[] } | undefined;
  /** Identity → how many attached records hold it: the identities local on some host. */
  private readonly attachedCount = new Map<number, number>();

  constructor(ctx: HostStateContext) {
    for (const r of ctx.state.records.values()) {
      const indexed = indexedRecord(r, ctx);
      this.byName.set(r.name, indexed);
      this.countAttached(indexed, 1);
      for (const ip of r.ips) this.addressBook.push({ ip, identity: r.identity });
    }
    this.addressBook.sort(compareOwners);
  }

  /** Re-read the named records (added, changed or removed) from `ctx`. */
  update(names: Iterable<string>, ctx: HostStateContext): void {
    for (const name of names) {
      const old = this.byName.get(name);
      if (old) {
        for (const ip of old.ips) this.removeAddress(ip);
        this.countAttached(old, -1);
      }
      const r = ctx.state.records.get(name);
      if (!r) {
        this.byName.delete(name);
      } else {
        const next = indexedRecord(r, ctx);
        this.byName.set(name, next);
        this.countAttached(next, 1);
        for (const ip of r.ips) insertOwner(this.addressBook, { ip, identity: r.identity });
      }
      this.lists = undefined;
    }
  }

  /** Whether some host runs a record of identity `id` (its sides are in that host's state). */
  isLocal(id: number): boolean {
    return this.attachedCount.has(id);
  }

  /** Every identity local on some host. */
  localIdentities(): IterableIterator<number> {
    return this.attachedCount.keys();
  }

  /** Every record name. */
  names(): IterableIterator<string> {
    return this.byName.keys();
  }

  private countAttached(r: IndexedRecord, d: 1 | -1): void {
    if (!r.attached) return;
    const id = r.attached.local.identity;
    const n = (this.attachedCount.get(id) ?? 0) + d;
    if (n > 0) this.attachedCount.set(id, n);
    else this.attachedCount.delete(id);
  }

  /** A record's entries (undefined: no such record). */
  record(name: string): IndexedRecord | undefined {
    return this.byName.get(name);
  }

  /** Every record's ipcache entries, by record name. */
  get ipcache(): HostState['ipcache'] {
    return this.sortedLists().ipcache;
  }

  /** Every attached record, by name. */
  get attached(): readonly Attached[] {
    return this.sortedLists().attached;
  }

  private sortedLists(): { ipcache: HostState['ipcache']; attached: Attached[] } {
    if (this.lists) return this.lists;
    const ipcache: HostState['ipcache'] = [];
    const attached: Attached[] = [];
    for (const name of [...this.byName.keys()].sort((a, b) => (a < b ? -1 : 1))) {
      const r = this.byName.get(name)!;
      ipcache.push(...r.ipcache);
      if (r.attached) attached.push(r.attached);
    }
    return (this.lists = { ipcache, attached });
  }

  private removeAddress(ip: Ip): void {
    const i = ownerIndex(this.addressBook, ip);
    if (i < this.addressBook.length && compareIps(this.addressBook[i]!.ip, ip) === 0)
      this.addressBook.splice(i, 1);
  }
}

type Attached = NonNullable<IndexedRecord['attached']>;

function indexedRecord(r: RecordState, ctx: HostStateContext): IndexedRecord {
  const ips = r.ips.map(formatIp);
  const ipcache = ips.map((ip) => ({ ip, identity: r.identity }));
  const inst = r.doc.instance;
  const h = inst === undefined ? undefined : ctx.state.instanceHost(inst);
  if (h === undefined || inst === undefined) return { ips: r.ips, ipcache };
  const subnet = ctx.state.documents.get('Subnet', r.doc.subnet);
  const base = {
    name: r.name,
    identity: r.identity,
    ips,
    mac: r.doc.mac ?? '',
    subnet: r.doc.subnet,
    ...(subnet?.vni !== undefined ? { vni: subnet.vni } : {}),
  };
  const netns = ctx.state.documents.get('Instance', inst)?.netns;
  return {
    ips: r.ips,
    ipcache,
    attached: {
      host: h,
      local: {
        ...base,
        cidr: subnet?.cidr ?? '',
        instance: inst,
        ...(netns !== undefined ? { netns } : {}),
      },
      remote: { ...base, host: h },
    },
  };
}

/** The shared index of the documents in `ctx` (a full build). */
export function buildHostIndex(ctx: HostStateContext): HostIndex {
  return new HostIndex(ctx);
}

/**
 * One host's state from the shared index. The ipcache array and the record objects
 * are shared between hosts: treat them as read-only.
 */
export function buildHostState(
  host: string,
  revision: number,
  index: HostIndex,
  ctx: HostStateContext,
): HostState {
  const locals: LocalRecord[] = [];
  const remotes: RemoteRecord[] = [];
  for (const a of index.attached) {
    if (a.host === host) locals.push(a.local);
    else remotes.push(a.remote);
  }
  const localIds = [...new Set(locals.map((l) => l.identity))].sort((a, b) => a - b);
  const sides: SideState[] = [];
  for (const id of localIds) sides.push(...identitySides(id, index, ctx));
  const steering = steerTable(ctx.state.classes);
  return {
    host,
    revision,
    locals,
    remotes,
    ipcache: index.ipcache,
    sides,
    defaults: localIds.map((id) => identityDefaults(id, ctx)),
    ...(steering.length ? { steering } : {}),
  };
}

/** A local identity's egress and ingress sides, as in any host state that holds it. */
export function identitySides(id: number, index: HostIndex, ctx: HostStateContext): SideState[] {
  const out: SideState[] = [];
  for (const dir of ['egress', 'ingress'] as const) {
    const side = sideState(ctx.sides.side(id, dir), index.addressBook);
    const routes = dir === 'egress' ? routeEntries(ctx, id, index.addressBook) : undefined;
    out.push(routes ? { ...side, routes } : side);
  }
  return out;
}

/** The disjoint route entries of an identity; undefined when no route applies to it. */
function routeEntries(
  ctx: HostStateContext,
  id: number,
  book: readonly AddressOwner[],
): SteeringEntries | undefined {
  const side = ctx.sides.routeSide(id);
  if (!side.hasRules()) return undefined;
  // A route without a class (past the limit) still decides: it steers nowhere (0).
  const e = resolvedEntries(side, book, (r): Omit<SteeringEntry, 'proto' | 'ports'> => ({
    steer: ctx.state.classes.get((r as CompiledRoute).via) ?? 0,
    policy: r.policy,
    route: r.ref.rule,
  }));
  return { cidr: e.cidr, peers: e.peers, any: e.any };
}

interface AddressOwner {
  ip: Ip;
  identity: number;
}

function compareIps(a: Ip, b: Ip): number {
  return a.family - b.family || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
}

function compareOwners(a: AddressOwner, b: AddressOwner): number {
  return compareIps(a.ip, b.ip);
}

/** First position in the sorted book whose address is not below `ip`. */
function ownerIndex(book: readonly AddressOwner[], ip: Ip): number {
  let lo = 0;
  let hi = book.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareIps(book[mid]!.ip, ip) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertOwner(book: AddressOwner[], o: AddressOwner): void {
  book.splice(ownerIndex(book, o.ip), 0, o);
}

/** A verdict entry's value, from its deciding rule (fixed for a given side). */
function verdictOf(r: CompiledRule): Pick<SideEntry, 'verdict' | 'policy' | 'rule'> {
  return { verdict: r.action, policy: r.policy, rule: `${r.direction}[${r.index}]` };
}

function sideState(side: ResolvedSide, book: readonly AddressOwner[]): SideState {
  const e = resolvedEntries(side, book, verdictOf, patchedPeers);
  return {
    identity: side.identity,
    direction: side.direction,
    cidr: e.cidr as CidrEntry[],
    peers: e.peers as PeerEntry[],
    any: e.any as SideEntry[],
  };
}

/**
 * The disjoint cidr/peers/any entries of a resolved side, the value of each taken
 * from its deciding rule (`undefined`: the piece gets no entry). `peersOf` may render
 * the peer entries from a cache ({@link patchedPeers}); by default every peer is.
 */
function resolvedEntries<V extends object>(
  side: ResolvedSide,
  book: readonly AddressOwner[],
  value: (rule: CompiledRule) => V | undefined,
  peersOf: (side: ResolvedSide, entries: Entries<V>) => Ported<V & { peer: number }>[] = allPeers,
): {
  cidr: Ported<V & { range: string }>[];
  peers: Ported<V & { peer: number }>[];
  any: Ported<V>[];
} {
  const entries = (t: PortTable): Ported<V>[] =>
    t.segments().flatMap((s) => {
      const v = value(side.rules[s.value]!);
      return v === undefined
        ? []
        : [{ proto: PROTO_NAMES[s.proto]!, ports: [s.lo, s.hi] as const, ...v }];
    });
  const peers = peersOf(side, entries);
  const cidr: Ported<V & { range: string }>[] = [];
  for (const seg of side.cidrTable?.segments() ?? [])
    cidr.push(...cidrEntries(side, seg, book, entries));
  return { cidr, peers, any: entries(side.anyTable) };
}

/** One address segment split at record addresses; each piece fully resolved. */
function cidrEntries<E>(
  side: ResolvedSide,
  seg: AddressSegment,
  book: readonly AddressOwner[],
  entries: (t: PortTable) => E[],
): (E & { range: string })[] {
  const out: (E & { range: string })[] = [];
  const anyRules = side.rules.map((r, i) => (r.peer.kind === 'any' ? i : -1)).filter((i) => i >= 0);
  const paint = (positions: number[]) => {
    const sorted = [...new Set(positions)].sort((a, b) => a - b);
    return paintPorts(
      sorted.map((i) => side.rules[i]!.spans),
      sorted,
    );
  };
  const outside = paint([...seg.rules, ...anyRules]);
  const push = (lo: bigint, hi: bigint, t: PortTable) => {
    const range =
      lo === hi
        ? formatIp({ family: seg.family, value: lo })
        : `${formatIp({ family: seg.family, value: lo })}-${formatIp({ family: seg.family, value: hi })}`;
    for (const e of entries(t)) out.push({ ...e, range });
  };
  let cur = seg.lo;
  // The book is sorted: only the addresses inside the segment are visited.
  for (let i = ownerIndex(book, { family: seg.family, value: seg.lo }); i < book.length; i++) {
    const a = book[i]!;
    if (a.ip.family !== seg.family || a.ip.value > seg.hi) break;
    if (a.ip.value > cur) push(cur, a.ip.value - 1n, outside);
    const peerRules = side.rules
      .map((_, i) =>
        side.peerMatches(i, a.identity) && side.rules[i]!.peer.kind !== 'any' ? i : -1,
      )
      .filter((i) => i >= 0);
    push(a.ip.value, a.ip.value, paint([...seg.rules, ...anyRules, ...peerRules]));
    cur = a.ip.value + 1n;
  }
  if (cur <= seg.hi) push(cur, seg.hi, outside);
  return out;
}

/**
 * §2.2 defaults of a local identity towards every peer, as `other` plus exceptions (as
 * in any host state that holds it).
 */
export function identityDefaults(id: number, ctx: HostStateContext): DefaultState {
  const me = ctx.state.ids.get(id);
  const parts = me?.partitions ?? [];
  const other =
    parts.length === 0
      ? ctx.state.settings.defaults.unpartitioned
      : ctx.state.settings.defaults.crossPartition;
  const peers: DefaultState['peers'] = [];
  const candidates = new Set<number>();
  if (parts.length === 0) {
    for (const info of ctx.state.ids.values())
      if (info.partitions.length > 0) candidates.add(info.id);
  } else {
    for (const p of parts)
      for (const m of ctx.state.partitions.get(p)?.entry.members ?? []) candidates.add(m);
  }
  for (const peer of [...candidates].sort((a, b) => a - b)) {
    const v = ctx.sides.pairDefaultOf(me, ctx.state.ids.get(peer)).verdict;
    if (v !== other) peers.push({ peer, verdict: v });
  }
  return { identity: id, other, peers };
}
