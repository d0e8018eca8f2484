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
import type { CompiledSteeringRoute, CompiledRule } from '../compile/compiled-rule.js';
import type { ResolvedSide } from '../compile/resolved-side.js';
import { peerListOf, sideWithPeers } from '../../model/peer-list-origin.js';
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
    for (const record of ctx.state.records.values()) {
      const indexed = indexedRecord(record, ctx);
      this.byName.set(record.name, indexed);
      this.countAttached(indexed, 1);
      for (const ip of record.ips) this.addressBook.push({ ip, identity: record.identity });
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
      const record = ctx.state.records.get(name);
      if (!record) {
        this.byName.delete(name);
      } else {
        const next = indexedRecord(record, ctx);
        this.byName.set(name, next);
        this.countAttached(next, 1);
        for (const ip of record.ips)
          insertOwner(this.addressBook, { ip, identity: record.identity });
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

  private countAttached(record: IndexedRecord, change: 1 | -1): void {
    if (!record.attached) return;
    const id = record.attached.local.identity;
    const count = (this.attachedCount.get(id) ?? 0) + change;
    if (count > 0) this.attachedCount.set(id, count);
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
      const record = this.byName.get(name)!;
      ipcache.push(...record.ipcache);
      if (record.attached) attached.push(record.attached);
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

function indexedRecord(record: RecordState, ctx: HostStateContext): IndexedRecord {
  const ips = record.ips.map(formatIp);
  const ipcache = ips.map((ip) => ({ ip, identity: record.identity }));
  const inst = record.doc.instance;
  const h = inst === undefined ? undefined : ctx.state.instanceHost(inst);
  if (h === undefined || inst === undefined) return { ips: record.ips, ipcache };
  const subnet = ctx.state.documents.get('Subnet', record.doc.subnet);
  const base = {
    name: record.name,
    identity: record.identity,
    ips,
    mac: record.doc.mac ?? '',
    subnet: record.doc.subnet,
    ...(subnet?.vni !== undefined ? { vni: subnet.vni } : {}),
  };
  const netns = ctx.state.documents.get('Instance', inst)?.netns;
  return {
    ips: record.ips,
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
    const routes = dir === 'egress' ? steeringEntriesOf(ctx, id, index.addressBook) : undefined;
    out.push(routes ? withRoutes(side, routes) : side);
  }
  return out;
}

/** The disjoint steering entries of an identity; undefined when no route applies to it. */
function steeringEntriesOf(
  ctx: HostStateContext,
  id: number,
  book: readonly AddressOwner[],
): SteeringEntries | undefined {
  const side = ctx.sides.steeringSide(id);
  if (!side.hasRules()) return undefined;
  // A route without a class (past the limit) still decides: it steers nowhere (0).
  const resolved = resolvedEntries(side, book, (route): Omit<SteeringEntry, 'proto' | 'ports'> => ({
    steer: ctx.state.classes.get((route as CompiledSteeringRoute).via) ?? 0,
    policy: route.policy,
    route: route.ref.rule,
  }));
  return { cidr: resolved.cidr, peers: resolved.peers, any: resolved.any };
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

function insertOwner(book: AddressOwner[], owner: AddressOwner): void {
  book.splice(ownerIndex(book, owner.ip), 0, owner);
}

/** A verdict entry's value, from its deciding rule (fixed for a given side). */
function verdictOf(rule: CompiledRule): Pick<SideEntry, 'verdict' | 'policy' | 'rule'> {
  return { verdict: rule.action, policy: rule.policy, rule: `${rule.direction}[${rule.index}]` };
}

/**
 * The last listing of each side without CIDR entries (those are split at record
 * addresses, so they follow the address book). Such a side is listed again as the same
 * object while none of its peers was dropped, and otherwise keeps its `cidr` and `any`
 * lists (fixed by its rules): a write that changes the sides of many identities lists
 * each of them, and the distribution feed compares and serialises by object.
 */
const listedSides = new WeakMap<ResolvedSide, SideState>();

/**
 * The side's listing: its peers a patched list (side-peers.ts), read whole only by
 * whoever needs it whole (snapshots, whole sides on the wire).
 */
function sideState(side: ResolvedSide, book: readonly AddressOwner[]): SideState {
  const last = side.cidrTable === undefined ? listedSides.get(side) : undefined;
  if (last && !side.hasDroppedPeers()) return last;
  const entries = entriesOf(side, verdictOf);
  const peers = patchedPeers(side, entries);
  const listed = sideWithPeers(
    {
      identity: side.identity,
      direction: side.direction,
      cidr: last?.cidr ?? (cidrOf(side, book, entries) as CidrEntry[]),
      any: last?.any ?? (entries(side.anyTable) as SideEntry[]),
    },
    peers,
  );
  if (side.cidrTable === undefined) listedSides.set(side, listed);
  return listed;
}

/** An egress side with its routes, sharing its peer list (not read here). */
function withRoutes(side: SideState, routes: SteeringEntries): SideState {
  const ref = peerListOf(side);
  if (!ref) return { ...side, routes };
  const { identity, direction, cidr, any } = side;
  return sideWithPeers({ identity, direction, cidr, any, routes }, ref);
}

/**
 * The disjoint cidr/peers/any entries of a resolved side, the value of each taken
 * from its deciding rule (`undefined`: the piece gets no entry).
 */
function resolvedEntries<V extends object>(
  side: ResolvedSide,
  book: readonly AddressOwner[],
  value: (rule: CompiledRule) => V | undefined,
): {
  cidr: Ported<V & { range: string }>[];
  peers: Ported<V & { peer: number }>[];
  any: Ported<V>[];
} {
  const entries = entriesOf(side, value);
  return {
    cidr: cidrOf(side, book, entries),
    peers: allPeers(side, entries),
    any: entries(side.anyTable),
  };
}

/** A side's CIDR entries, split at the addresses in `book`. */
function cidrOf<V>(
  side: ResolvedSide,
  book: readonly AddressOwner[],
  entries: Entries<V>,
): Ported<V & { range: string }>[] {
  const cidr: Ported<V & { range: string }>[] = [];
  for (const seg of side.cidrTable?.segments() ?? [])
    cidr.push(...cidrEntries<V>(side, seg, book, entries));
  return cidr;
}

/** The entries of a port table of `side`, the value of each from its deciding rule. */
function entriesOf<V extends object>(
  side: ResolvedSide,
  value: (rule: CompiledRule) => V | undefined,
): Entries<V> {
  return <X extends object = object>(table: PortTable, extra?: X): Ported<V & X>[] =>
    table.segments().flatMap((segment) => {
      const entryValue = value(side.rules[segment.value]!);
      return entryValue === undefined
        ? []
        : [
            {
              proto: PROTO_NAMES[segment.proto]!,
              ports: [segment.lo, segment.hi] as const,
              ...entryValue,
              ...(extra as X),
            },
          ];
    });
}

/** One address segment split at record addresses; each piece fully resolved. */
function cidrEntries<V>(
  side: ResolvedSide,
  seg: AddressSegment,
  book: readonly AddressOwner[],
  entries: Entries<V>,
): Ported<V & { range: string }>[] {
  const out: Ported<V & { range: string }>[] = [];
  const anyRules = side.rules.map((r, i) => (r.peer.kind === 'any' ? i : -1)).filter((i) => i >= 0);
  const paint = (positions: number[]) => {
    const sorted = [...new Set(positions)].sort((a, b) => a - b);
    return paintPorts(
      sorted.map((i) => side.rules[i]!.spans),
      sorted,
    );
  };
  const outside = paint([...seg.rules, ...anyRules]);
  const push = (lo: bigint, hi: bigint, table: PortTable) => {
    const range =
      lo === hi
        ? formatIp({ family: seg.family, value: lo })
        : `${formatIp({ family: seg.family, value: lo })}-${formatIp({ family: seg.family, value: hi })}`;
    out.push(...entries(table, { range }));
  };
  let next = seg.lo;
  // The book is sorted: only the addresses inside the segment are visited.
  for (let i = ownerIndex(book, { family: seg.family, value: seg.lo }); i < book.length; i++) {
    const owner = book[i]!;
    if (owner.ip.family !== seg.family || owner.ip.value > seg.hi) break;
    if (owner.ip.value > next) push(next, owner.ip.value - 1n, outside);
    const peerRules = side.rules
      .map((_, i) =>
        side.peerMatches(i, owner.identity) && side.rules[i]!.peer.kind !== 'any' ? i : -1,
      )
      .filter((i) => i >= 0);
    push(owner.ip.value, owner.ip.value, paint([...seg.rules, ...anyRules, ...peerRules]));
    next = owner.ip.value + 1n;
  }
  if (next <= seg.hi) push(next, seg.hi, outside);
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
  const exception = (peer: number): void => {
    const verdict = ctx.sides.pairVerdictOf(me, ctx.state.ids.get(peer));
    if (verdict !== other) peers.push({ peer, verdict: verdict });
  };
  // Each candidate once, without a copy of the candidates (a partition's members can be
  // a third of every identity, and a new identity's row is computed on every write
  // that makes one); only the exceptions are sorted.
  if (parts.length === 0) {
    for (const info of ctx.state.ids.values()) if (info.partitions.length > 0) exception(info.id);
  } else if (parts.length === 1) {
    for (const member of ctx.state.partitions.get(parts[0]!)?.entry.members ?? [])
      exception(member);
  } else {
    const candidates = new Set<number>();
    for (const partition of parts)
      for (const member of ctx.state.partitions.get(partition)?.entry.members ?? [])
        candidates.add(member);
    for (const peer of candidates) exception(peer);
  }
  peers.sort((a, b) => a.peer - b.peer);
  return { identity: id, other, peers };
}
