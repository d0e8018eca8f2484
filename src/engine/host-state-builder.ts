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
  Direction,
  HostState,
  LocalRecord,
  PeerEntry,
  RemoteRecord,
  RouteEntries,
  RouteEntry,
  SideEntry,
  SideState,
  SteerClass,
} from '../model/host-state.js';
import { formatIp, type Ip } from '../model/net.js';
import type { Settings, Subnet } from '../model/types.js';
import type { AddressSegment } from './address-table.js';
import type { RecordState } from './engine.js';
import type { IdentityInfo } from './identity-registry.js';
import { paintPorts, PROTO_NAMES, type PortTable } from './port-table.js';
import type { CompiledRoute, CompiledRule } from './compiled-rule.js';
import type { ResolvedSide } from './resolved-side.js';

export interface HostStateContext {
  records: ReadonlyMap<string, RecordState>;
  instanceHost(name: string): string | undefined;
  instanceNetns(name: string): string | undefined;
  subnet(name: string): (Subnet & { kind: 'Subnet' }) | undefined;
  side(id: number, dir: Direction): ResolvedSide;
  /** The resolved routes of an identity (no rules: none apply). */
  routeSide(id: number): ResolvedSide;
  steering(): SteerClass[];
  steerClass(via: string): number | undefined;
  identity(id: number): IdentityInfo | undefined;
  identities(): Iterable<IdentityInfo>;
  partitionMembers(name: string): ReadonlySet<number> | undefined;
  pairDefault(a: IdentityInfo | undefined, b: IdentityInfo | undefined): 'allow' | 'deny';
  settings: Settings;
}

/**
 * What every host's state shares at one model version: the ipcache, the attached
 * records (as local and remote entries) and the sorted address book. Built once per
 * engine change, not once per host.
 */
export interface HostIndex {
  ipcache: HostState['ipcache'];
  attached: { host: string; local: LocalRecord; remote: RemoteRecord }[];
  addressBook: AddressOwner[];
}

export function buildHostIndex(ctx: HostStateContext): HostIndex {
  const ipcache: HostState['ipcache'] = [];
  const attached: HostIndex['attached'] = [];
  const sorted = [...ctx.records.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const r of sorted) {
    const ips = r.ips.map(formatIp);
    for (const ip of ips) ipcache.push({ ip, identity: r.identity });
    const inst = r.doc.instance;
    const h = inst === undefined ? undefined : ctx.instanceHost(inst);
    if (h === undefined || inst === undefined) continue;
    const subnet = ctx.subnet(r.doc.subnet);
    const base = {
      name: r.name,
      identity: r.identity,
      ips,
      mac: r.doc.mac ?? '',
      subnet: r.doc.subnet,
      ...(subnet?.vni !== undefined ? { vni: subnet.vni } : {}),
    };
    const netns = ctx.instanceNetns(inst);
    attached.push({
      host: h,
      local: {
        ...base,
        cidr: subnet?.cidr ?? '',
        instance: inst,
        ...(netns !== undefined ? { netns } : {}),
      },
      remote: { ...base, host: h },
    });
  }
  return { ipcache, attached, addressBook: sortedAddresses(sorted) };
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
  for (const id of localIds)
    for (const dir of ['egress', 'ingress'] as const) {
      const side = sideState(ctx.side(id, dir), index.addressBook);
      const routes = dir === 'egress' ? routeEntries(ctx, id, index.addressBook) : undefined;
      sides.push(routes ? { ...side, routes } : side);
    }
  const steering = ctx.steering();
  return {
    host,
    revision,
    locals,
    remotes,
    ipcache: index.ipcache,
    sides,
    defaults: localIds.map((id) => defaultState(id, ctx)),
    ...(steering.length ? { steering } : {}),
  };
}

/** The disjoint route entries of an identity; undefined when no route applies to it. */
function routeEntries(
  ctx: HostStateContext,
  id: number,
  book: readonly AddressOwner[],
): RouteEntries | undefined {
  const side = ctx.routeSide(id);
  if (!side.hasRules()) return undefined;
  // A route without a class (past the limit) still decides: it steers nowhere (0).
  const e = resolvedEntries(side, book, (r): Omit<RouteEntry, 'proto' | 'ports'> => ({
    steer: ctx.steerClass((r as CompiledRoute).via) ?? 0,
    policy: r.policy,
    route: r.ref.rule,
  }));
  return { cidr: e.cidr, peers: e.peers, any: e.any };
}

interface AddressOwner {
  ip: Ip;
  identity: number;
}

function sortedAddresses(records: readonly RecordState[]): AddressOwner[] {
  const out: AddressOwner[] = [];
  for (const r of records) for (const ip of r.ips) out.push({ ip, identity: r.identity });
  return out.sort(
    (a, b) =>
      a.ip.family - b.ip.family || (a.ip.value < b.ip.value ? -1 : a.ip.value > b.ip.value ? 1 : 0),
  );
}

function sideState(side: ResolvedSide, book: readonly AddressOwner[]): SideState {
  const e = resolvedEntries(side, book, (r) => ({
    verdict: r.action,
    policy: r.policy,
    rule: `${r.direction}[${r.index}]`,
  }));
  return {
    identity: side.identity,
    direction: side.direction,
    cidr: e.cidr as CidrEntry[],
    peers: e.peers as PeerEntry[],
    any: e.any as SideEntry[],
  };
}

type Ported<V> = V & Pick<SideEntry, 'proto' | 'ports'>;

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
  const entries = (t: PortTable): Ported<V>[] =>
    t.segments().flatMap((s) => {
      const v = value(side.rules[s.value]!);
      return v === undefined
        ? []
        : [{ proto: PROTO_NAMES[s.proto]!, ports: [s.lo, s.hi] as const, ...v }];
    });
  const peers: Ported<V & { peer: number }>[] = [];
  for (const p of [...side.peerIdentities()].sort((a, b) => a - b)) {
    const t = side.peerTable(p);
    if (t === side.anyTable) continue;
    for (const e of entries(t)) peers.push({ ...e, peer: p });
  }
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
  for (const a of book) {
    if (a.ip.family !== seg.family || a.ip.value < seg.lo || a.ip.value > seg.hi) continue;
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

/** §2.2 defaults of a local identity towards every peer, as `other` plus exceptions. */
function defaultState(id: number, ctx: HostStateContext): DefaultState {
  const me = ctx.identity(id);
  const parts = me?.partitions ?? [];
  const other =
    parts.length === 0 ? ctx.settings.defaults.unpartitioned : ctx.settings.defaults.crossPartition;
  const peers: DefaultState['peers'] = [];
  const candidates = new Set<number>();
  if (parts.length === 0) {
    for (const info of ctx.identities()) if (info.partitions.length > 0) candidates.add(info.id);
  } else {
    for (const p of parts) for (const m of ctx.partitionMembers(p) ?? []) candidates.add(m);
  }
  for (const peer of [...candidates].sort((a, b) => a - b)) {
    const v = ctx.pairDefault(me, ctx.identity(peer));
    if (v !== other) peers.push({ peer, verdict: v });
  }
  return { identity: id, other, peers };
}
