/**
 * HostState → the OpenFlow program of one Open vSwitch bridge (pure). The layout, its
 * flow counts and why it grows with the sum of peers and ports are in
 * docs/adr/0020-ovs-flow-layout.md. In short:
 *
 *   0 classify     in_port of a local record → reg0 = its identity, reg2 |= SRC_LOCAL;
 *                  a VXLAN port → table 5; anything else (ARP, ND: the instances
 *                  have static neighbours) is dropped (fail_mode=secure, no NORMAL)
 *   5 ipcache-src  reg0 = identity of the source address (world when unknown): the
 *                  GBP ID does not reach OVS's userspace datapath (ADR 0021)
 *   10 conntrack   ct(zone=ZONE, table=20)
 *   20 dst         reg1 = identity of the destination address, the way out in reg3 (a
 *                  local port, or the VNI's VXLAN port with the remote VTEP's MAC as
 *                  eth_dst), reg2 |= DST_LOCAL when local
 *   21 state       replies and established/related → 60; invalid → drop; new → 30
 *   30 egress      side (reg0, egress) with peer reg1 at nw_dst; allow → 35, log: a
 *                  metered copy to the agent, → 35; deny → 45
 *   35 steer       route entries of reg0 at reg1/nw_dst: reg6 = steer class → 40
 *   40 ingress     side (reg1, ingress) with peer reg0 at nw_src; allow → 50 (log as
 *                  egress); deny → 45
 *   45 deny        counted (every denied packet), a metered sample to the agent, dropped
 *   50 commit      ct(commit, ct_mark = source identity, ct_label = class) → 55
 *   55 steer-out   reg6 = k: the way to k's via record instead (ADR 0041) → 60
 *   60 output      to the port in reg3
 *
 * A side's entries keep host-state.ts's lookup order through priorities (cidr above
 * peers above any above the defaults). Peers (and cidr ranges) whose port tables are
 * equal share one conjunction per verdict: one flow per peer plus one per port prefix,
 * not one per (peer, port prefix).
 */
import type {
  CidrEntry,
  Direction,
  HostState,
  PeerEntry,
  SideEntry,
  SideState,
} from '../../model/host-state.js';
import { formatCidr, rangeToCidrs, type Family } from '../../model/net.js';
import { DEFAULT_VNI } from '../names.js';
import { icmpApplies, parseRange } from '../nft/expressions.js';
import { resolvePorts, type Interval, type Verdict } from '../nft/disjoint.js';
import { FlowSet, portPrefixes, T, type OfFlow, type OvsPorts } from './flows.js';
import { frameFlows } from './frame-flows.js';
import { DENY_ACTION, denyTable, logAction } from './samples.js';
import { steerFlows } from './steering.js';

export {
  CT_ZONE,
  flowKey,
  flowLine,
  portPrefixes,
  T,
  type OfFlow,
  type OvsPorts,
} from './flows.js';

/** Priorities of a side table, in host-state.ts's lookup order. */
const P = {
  cidrDirect: 310,
  cidrConj: 300,
  peerDirect: 210,
  peerConj: 200,
  any: 100,
  defaultPeer: 60,
  defaultOther: 50,
} as const;

const L4: Record<'tcp' | 'udp' | 'sctp', [string, string]> = {
  tcp: ['tcp', 'tcp6'],
  udp: ['udp', 'udp6'],
  sctp: ['sctp', 'sctp6'],
};

/** Protocol matches (both families) with their port field. */
function protoMatches(proto: SideEntry['proto'], family?: Family): { m: string; port?: string }[] {
  const fams = family ? [family] : ([4, 6] as const);
  if (proto === 'icmp') return fams.map((f) => ({ m: f === 4 ? 'icmp' : 'icmp6' }));
  return fams.map((f) => ({ m: L4[proto][f === 4 ? 0 : 1], port: `${proto}_dst` }));
}

const verdictAction = (v: Verdict['kind'], next: number): string =>
  v === 'deny' ? DENY_ACTION : v === 'log' ? logAction(next) : `goto_table:${next}`;

/** Registers of a side table: the local identity and the peer identity. */
function regs(direction: Direction): { local: string; peer: string; addr: [string, string] } {
  return direction === 'egress'
    ? { local: 'reg0', peer: 'reg1', addr: ['nw_dst', 'ipv6_dst'] }
    : { local: 'reg1', peer: 'reg0', addr: ['nw_src', 'ipv6_src'] };
}

/** Port list of one (peer or address range, proto): disjoint, strictest on overlap. */
type PortTable = Interval<Verdict>[];

function portTable(entries: readonly SideEntry[]): PortTable {
  return resolvePorts(
    entries.map((e) => ({
      lo: BigInt(e.ports[0]),
      hi: BigInt(e.ports[1]),
      // Rules are named by the agent (FlowJudge), not by the switch: equal kinds merge.
      v: { kind: e.verdict, policy: '', rule: '' },
    })),
  );
}

const tableSig = (t: PortTable): string => t.map((i) => `${i.lo}-${i.hi}:${i.v.kind}`).join(',');

/**
 * Conjunction ids, unique per table and stable across programs: a class keeps its id
 * while it exists, so a change elsewhere never renumbers (and rewrites) other flows.
 * Ids of classes a program no longer has are freed by {@link ConjIds.retain}.
 */
export class ConjIds {
  /** False: no conjunctions, one flow per (key, port prefix) — for comparison only. */
  constructor(readonly conjunction = true) {}
  private readonly ids = new Map<string, number>();
  private readonly used = new Map<number, Set<number>>();
  private touched = new Set<string>();

  take(table: number, key: string): number {
    const k = `${table}|${key}`;
    this.touched.add(k);
    const known = this.ids.get(k);
    if (known !== undefined) return known;
    const used = this.used.get(table) ?? new Set<number>();
    this.used.set(table, used);
    let id = 1;
    while (used.has(id)) id++;
    used.add(id);
    this.ids.set(k, id);
    return id;
  }

  /** Frees the ids not taken since the last call. */
  retain(): void {
    for (const [k, id] of this.ids)
      if (!this.touched.has(k)) {
        this.ids.delete(k);
        this.used.get(Number(k.slice(0, k.indexOf('|'))))?.delete(id);
      }
    this.touched = new Set();
  }
}

/**
 * One class of keys (peers or address prefixes) sharing a port table: direct flows for
 * a single key, else a conjunction per verdict — dimension 1 the keys, 2 the ports.
 */
function emitClass(
  out: FlowSet,
  ids: ConjIds,
  table: number,
  next: number,
  prio: { direct: number; conj: number },
  base: string,
  keys: string[],
  proto: { m: string; port?: string },
  ports: PortTable,
): void {
  const portMatches = (i: Interval<Verdict>): string[] =>
    proto.port
      ? portPrefixes(Number(i.lo), Number(i.hi)).map((p) => (p ? `,${proto.port}=${p}` : ''))
      : [''];
  const usable = proto.port ? ports : ports.filter((i) => i.lo === 0n);
  if (usable.length === 0) return;
  // A conjunction costs one flow per key, per port prefix and per verdict; direct
  // flows cost keys × port prefixes. Take the smaller (small classes stay direct).
  const prefixes = usable.reduce((n, i) => n + portMatches(i).length, 0);
  const direct = keys.length * prefixes;
  const conjCost = keys.length + prefixes + new Set(usable.map((i) => i.v.kind)).size;
  if (!proto.port || !ids.conjunction || direct <= conjCost) {
    for (const key of keys)
      for (const i of usable)
        for (const pm of portMatches(i))
          out.add({
            table,
            priority: prio.direct,
            match: `${base},${proto.m},${key}${pm}`,
            actions: verdictAction(i.v.kind, next),
          });
    return;
  }
  const conj = new Map<string, number>();
  const sig = `${base}|${proto.m}|${tableSig(usable)}`;
  for (const i of usable)
    if (!conj.has(i.v.kind)) conj.set(i.v.kind, ids.take(table, `${sig}|${i.v.kind}`));
  const dim1 = [...conj.values()].map((id) => `conjunction(${id},1/2)`).join(',');
  for (const key of keys)
    out.add({ table, priority: prio.conj, match: `${base},${proto.m},${key}`, actions: dim1 });
  for (const i of usable)
    for (const pm of portMatches(i))
      out.add({
        table,
        priority: prio.conj,
        match: `${base},${proto.m}${pm}`,
        actions: `conjunction(${conj.get(i.v.kind)},2/2)`,
      });
  for (const [kind, id] of conj)
    out.add({
      table,
      priority: prio.conj,
      match: `conj_id=${id}`,
      actions: verdictAction(kind as Verdict['kind'], next),
    });
}

/** Groups keys by equal port tables, per protocol match. */
function byTable(
  items: { key: string; proto: SideEntry['proto']; family?: Family; entries: SideEntry[] }[],
): Map<string, { keys: string[]; proto: { m: string; port?: string }; ports: PortTable }> {
  const classes = new Map<
    string,
    { keys: string[]; proto: { m: string; port?: string }; ports: PortTable }
  >();
  for (const it of items) {
    const entries = it.proto === 'icmp' ? it.entries.filter(icmpApplies) : it.entries;
    if (entries.length === 0) continue;
    const ports = portTable(entries);
    for (const pm of protoMatches(it.proto, it.family)) {
      const sig = `${pm.m}|${tableSig(ports)}`;
      const c = classes.get(sig) ?? { keys: [], proto: pm, ports };
      c.keys.push(it.key);
      classes.set(sig, c);
    }
  }
  return classes;
}

function groupBy<E>(list: readonly E[], key: (e: E) => string | undefined): Map<string, E[]> {
  const m = new Map<string, E[]>();
  for (const e of list) {
    const k = key(e);
    if (k === undefined) continue;
    const l = m.get(k);
    if (l) l.push(e);
    else m.set(k, [e]);
  }
  return m;
}

/** The flows of one side (L, direction). */
function sideFlows(out: FlowSet, ids: ConjIds, side: SideState): void {
  const table = side.direction === 'egress' ? T.egress : T.ingress;
  const next = side.direction === 'egress' ? T.steer : T.commit;
  const r = regs(side.direction);
  const base = `${r.local}=${side.identity}`;
  // cidr: keys are the address prefixes of each range.
  const cidr = groupBy(side.cidr, (e: CidrEntry) => `${e.range}|${e.proto}`);
  const cidrItems = [...cidr.values()].flatMap((entries) => {
    const range = parseRange(entries[0]!.range);
    if (!range) return [];
    const field = r.addr[range.family === 4 ? 0 : 1];
    return rangeToCidrs(range.family, range.lo, range.hi).map((c) => ({
      key: `${field}=${formatCidr(c)}`,
      proto: entries[0]!.proto,
      family: range.family,
      entries,
    }));
  });
  for (const c of byTable(cidrItems).values())
    emitClass(
      out,
      ids,
      table,
      next,
      { direct: P.cidrDirect, conj: P.cidrConj },
      base,
      c.keys,
      c.proto,
      c.ports,
    );
  const peers = groupBy(side.peers, (e: PeerEntry) => `${e.peer}|${e.proto}`);
  const peerItems = [...peers.values()].map((entries) => ({
    key: `${r.peer}=${entries[0]!.peer}`,
    proto: entries[0]!.proto,
    entries,
  }));
  for (const c of byTable(peerItems).values())
    emitClass(
      out,
      ids,
      table,
      next,
      { direct: P.peerDirect, conj: P.peerConj },
      base,
      c.keys,
      c.proto,
      c.ports,
    );
  for (const [proto, entries] of groupBy(side.any, (e) => e.proto)) {
    const list = proto === 'icmp' ? entries.filter(icmpApplies) : entries;
    if (list.length === 0) continue;
    const ports = portTable(list);
    for (const pm of protoMatches(proto as SideEntry['proto']))
      for (const i of proto === 'icmp' ? ports.filter((x) => x.lo === 0n) : ports)
        for (const p of pm.port ? portPrefixes(Number(i.lo), Number(i.hi)) : [''])
          out.add({
            table,
            priority: P.any,
            match: `${base},${pm.m}${p ? `,${pm.port}=${p}` : ''}`,
            actions: verdictAction(i.v.kind, next),
          });
  }
}

/** Side tables' defaults: per listed peer, then `other`, for every local identity. */
function defaultFlows(out: FlowSet, state: HostState): void {
  for (const d of state.defaults)
    for (const direction of ['egress', 'ingress'] as const) {
      const table = direction === 'egress' ? T.egress : T.ingress;
      const next = direction === 'egress' ? T.steer : T.commit;
      const r = regs(direction);
      for (const p of d.peers)
        out.add({
          table,
          priority: P.defaultPeer,
          match: `${r.local}=${d.identity},${r.peer}=${p.peer}`,
          actions: verdictAction(p.verdict, next),
        });
      out.add({
        table,
        priority: P.defaultOther,
        match: `${r.local}=${d.identity}`,
        actions: verdictAction(d.other, next),
      });
    }
}

/** Options of {@link ovsProgram}. */
export interface ProgramOptions {
  defaultVni?: number;
  /** Denied packets are sampled to the agent (default true; false: counted and dropped). */
  denySamples?: boolean;
}

/**
 * The whole program for `state`, by flow key. Pass the same `ids` for successive
 * states of one bridge (stable conjunction ids).
 *
 * @example ovsProgram(state, { records: new Map([['web-1', 1]]), tunnels: new Map([[1, 100]]) }).size
 */
export function ovsProgram(
  state: HostState,
  ports: OvsPorts,
  opts: ProgramOptions = {},
  ids = new ConjIds(),
): Map<string, OfFlow> {
  const out = new FlowSet();
  frameFlows(out, state, ports, opts.defaultVni ?? DEFAULT_VNI);
  for (const side of state.sides) sideFlows(out, ids, side);
  defaultFlows(out, state);
  denyTable(out, opts.denySamples ?? true);
  steerFlows(out, state, ports, opts.defaultVni ?? DEFAULT_VNI);
  ids.retain();
  return out.flows;
}
