/**
 * Steering on an OVS bridge (pure; docs/adr/0041-ovs-steering.md), with the semantics
 * of the nftables agent (ADR 0008): a new connection of a local source that its egress
 * side allows looks up its route entries (table 35, the lookup order of a side:
 * cidr above peers above any); the winning entry's class k, when active on this host,
 * goes into reg6 and, at commit, into ct_label, so every later original-direction
 * packet of the connection from the source's port is steered again (table 21).
 * Table 55 sends a packet of class k to the via record: its port when local, else the
 * VXLAN port of its VNI with the via host's VTEP MAC as destination and steerMac(k) as
 * source (the netdev egress chain of src/agent/steer-wire.ts turns it into the Group
 * Policy ID nftables hosts read). Not steered, as on nftables hosts: replies, packets
 * to the via record's own addresses or from its port, families it has no address of,
 * and inert winners (class 0 or inactive here).
 *
 * On the via record's host: a packet arriving on the tunnel with source MAC
 * steerMac(k) goes straight into the via record's port, unjudged; a packet leaving the
 * via record's port with a source address that is not the record's own is transit
 * (reg2 TRANSIT): its identity comes from the ipcache, egress is not judged (the
 * source's host did), the destination's ingress is when local, and a connection this
 * host sees in one direction only is not dropped as invalid.
 */
import type { HostState, SteeringEntries, SteeringEntry } from '../../model/host-state.js';
import { generateMac } from '../../model/mac.js';
import { formatCidr, formatIp, parseIp, rangeToCidrs } from '../../model/net.js';
import { icmpApplies, parseRange } from '../nft/expressions.js';
import { GATEWAY_MAC, vtepMac } from '../names.js';
import { steerMac } from '../steer-wire.js';
import { activeSteering, type ActiveSteer } from '../steering.js';
import { portPrefixes, SRC_LOCAL, T, TRANSIT, type FlowSet, type OvsPorts } from './flows.js';

/** Priorities of the steer table, in a side's lookup order. */
const P = { cidr: 300, peers: 200, any: 100 } as const;

const FAMILIES = [
  { family: 4, m: 'ip', src: 'nw_src', dst: 'nw_dst' },
  { family: 6, m: 'ipv6', src: 'ipv6_src', dst: 'ipv6_dst' },
] as const;

/** Protocol matches of an entry (one family, or both) with the port field. */
function protoMatches(proto: SteeringEntry['proto'], family?: 4 | 6): string[] {
  const fams = family ? [family] : [4, 6];
  return fams.map((f) =>
    proto === 'icmp' ? (f === 4 ? 'icmp' : 'icmp6') : f === 4 ? proto : `${proto}6`,
  );
}

/** The flows of one routed local identity's entries in table 35. */
function routeFlows(
  out: FlowSet,
  identity: number,
  routes: SteeringEntries,
  active: ReadonlyMap<number, ActiveSteer>,
): void {
  const add = (prio: number, key: string, family: 4 | 6 | undefined, e: SteeringEntry) => {
    if (e.proto === 'icmp' && !icmpApplies(e)) return;
    // An inert winner still wins: the packet is not steered, and no lower entry decides.
    const k = active.has(e.steer) ? e.steer : 0;
    const actions = `${k ? `set_field:${k}->reg6,` : ''}goto_table:${T.ingress}`;
    const ports = e.proto === 'icmp' ? [''] : portPrefixes(e.ports[0], e.ports[1]);
    for (const pm of protoMatches(e.proto, family))
      for (const p of ports)
        out.add({
          table: T.steer,
          priority: prio,
          match: `reg0=${identity},${pm}${key ? `,${key}` : ''}${p ? `,${e.proto}_dst=${p}` : ''}`,
          actions,
        });
  };
  for (const e of routes.cidr) {
    const r = parseRange(e.range);
    if (!r) continue;
    const field = FAMILIES[r.family === 4 ? 0 : 1].dst;
    for (const c of rangeToCidrs(r.family, r.lo, r.hi))
      add(P.cidr, `${field}=${formatCidr(c)}`, r.family, e);
  }
  for (const e of routes.peers) add(P.peers, `reg1=${e.peer}`, undefined, e);
  for (const e of routes.any) add(P.any, '', undefined, e);
}

/** Where a packet of class k goes (set before table 60), or undefined: not here. */
function wayTo(
  a: ActiveSteer,
  state: HostState,
  ports: OvsPorts,
  defaultVni: number,
): string | undefined {
  const local = state.locals.find((l) => l.name === a.via);
  if (local) {
    const port = ports.records.get(local.name);
    if (port === undefined) return undefined;
    const mac = (local.mac || generateMac(local.name)).toLowerCase();
    return `set_field:${port}->reg3,set_field:${GATEWAY_MAC}->eth_src,set_field:${mac}->eth_dst`;
  }
  const remote = state.remotes.find((r) => r.name === a.via);
  if (!remote?.underlay) return undefined;
  const vni = remote.vni ?? defaultVni;
  const tunnel = ports.tunnels.get(vni);
  if (tunnel === undefined) return undefined;
  return `set_field:${tunnel}->reg3,set_field:${steerMac(a.class)}->eth_src,set_field:${vtepMac(remote.host, vni)}->eth_dst`;
}

/** Table 55 for class k: to the via record, except its own addresses and its port. */
function steerOutFlows(out: FlowSet, a: ActiveSteer, way: string, viaPort?: number): void {
  const next = `goto_table:${T.output}`;
  if (viaPort !== undefined)
    out.add({
      table: T.steerOut,
      priority: 120,
      match: `reg6=${a.class},in_port=${viaPort}`,
      actions: next,
    });
  for (const f of FAMILIES) {
    const own = a.ips.filter((i) => i.family === f.family);
    // No address of the packet's family: no next hop, not steered (as `check` says).
    if (own.length === 0) continue;
    for (const i of own)
      out.add({
        table: T.steerOut,
        priority: 110,
        match: `reg6=${a.class},${f.m},${f.dst}=${i.ip}`,
        actions: next,
      });
    out.add({
      table: T.steerOut,
      priority: 100,
      match: `reg6=${a.class},${f.m}`,
      actions: `${way},${next}`,
    });
  }
}

/**
 * A local via record: steered arrivals go into its port; what it sends with another
 * source address is transit.
 */
function viaFlows(
  out: FlowSet,
  a: ActiveSteer,
  state: HostState,
  ports: OvsPorts,
  defaultVni: number,
): void {
  const rec = state.locals.find((l) => l.name === a.via)!;
  const port = ports.records.get(rec.name);
  const tunnel = ports.tunnels.get(rec.vni ?? defaultVni);
  if (port === undefined) return;
  const mac = (rec.mac || generateMac(rec.name)).toLowerCase();
  for (const f of FAMILIES) {
    if (tunnel !== undefined)
      out.add({
        table: T.classify,
        priority: 60,
        match: `in_port=${tunnel},${f.m},dl_src=${steerMac(a.class)}`,
        actions: `set_field:${GATEWAY_MAC}->eth_src,set_field:${mac}->eth_dst,output:${port}`,
      });
    out.add({
      table: T.classify,
      priority: 105,
      match: `in_port=${port},${f.m}`,
      actions: `set_field:${TRANSIT}->reg2,goto_table:${T.srcIpcache}`,
    });
    for (const ip of rec.ips) {
      const p = parseIp(ip);
      if (p?.family !== f.family) continue;
      out.add({
        table: T.classify,
        priority: 110,
        match: `in_port=${port},${f.m},${f.src}=${formatIp(p)}`,
        actions: `set_field:${rec.identity}->reg0,set_field:${SRC_LOCAL}->reg2,goto_table:${T.conntrack}`,
      });
    }
  }
}

/**
 * The steering flows of `state` (tables 35 and 55 always; the rest only while a class
 * is active here, so a host without steering keeps its fast path as it was).
 */
export function steerFlows(
  out: FlowSet,
  state: HostState,
  ports: OvsPorts,
  defaultVni: number,
): void {
  out.add({ table: T.steer, priority: 0, match: '', actions: `goto_table:${T.ingress}` });
  out.add({ table: T.steerOut, priority: 0, match: '', actions: `goto_table:${T.output}` });
  const active = activeSteering(state, { defaultVni });
  if (active.size === 0) return;
  const localIds = new Set(state.locals.map((l) => l.identity));
  for (const side of state.sides)
    if (side.direction === 'egress' && side.routes && localIds.has(side.identity))
      routeFlows(out, side.identity, side.routes, active);
  let vias = false;
  for (const a of active.values()) {
    const way = wayTo(a, state, ports, defaultVni);
    if (way) steerOutFlows(out, a, way, a.local ? ports.records.get(a.via) : undefined);
    if (a.local) {
      vias = true;
      viaFlows(out, a, state, ports, defaultVni);
    }
  }
  const src = `reg2=${SRC_LOCAL}/${SRC_LOCAL}`;
  // Later packets of a local source's connection: steered again by the class it keeps.
  out.add({
    table: T.state,
    priority: 110,
    match: `ct_state=+trk+est-rpl,${src},ct_label=0/0xff`,
    actions: `goto_table:${T.output}`,
  });
  out.add({
    table: T.state,
    priority: 105,
    match: `ct_state=+trk+est-rpl,${src}`,
    actions: `move:NXM_NX_CT_LABEL[0..7]->NXM_NX_REG6[0..7],goto_table:${T.steerOut}`,
  });
  // Transit: this host may see one direction of the connection only.
  if (vias)
    out.add({
      table: T.state,
      priority: 95,
      match: `ct_state=+trk+inv,reg2=${TRANSIT}/${TRANSIT}`,
      actions: `goto_table:${T.egress}`,
    });
}

/**
 * Where each active class leads on this host (`via|way`). A class of the applied
 * state that the next one drops or points elsewhere is retired: its connections are
 * flushed, so their next packet is decided again by the current routes (ADR 0008).
 */
export function steerPaths(
  state: HostState,
  ports: OvsPorts,
  defaultVni: number,
): Map<number, string> {
  const out = new Map<number, string>();
  for (const a of activeSteering(state, { defaultVni }).values())
    out.set(a.class, `${a.via}|${wayTo(a, state, ports, defaultVni) ?? ''}`);
  return out;
}

/** Classes of `before` that `after` drops or points elsewhere. */
export function retiredClasses(
  before: ReadonlyMap<number, string>,
  after: ReadonlyMap<number, string>,
): number[] {
  return [...before].filter(([k, v]) => after.get(k) !== v).map(([k]) => k);
}

/**
 * The lines of a `dpctl/dump-conntrack` whose ct_label carries one of `classes`.
 *
 * @example steeredLines('tcp,orig=(…),zone=7,mark=256,labels=0x2,…', new Set([2])).length // 1
 */
export function steeredLines(dump: string, classes: ReadonlySet<number>): string[] {
  return dump.split('\n').filter((line) => {
    const m = /labels=(0x[0-9a-f]+)/i.exec(line);
    return m !== null && classes.has(Number(BigInt(m[1]!) & 0xffn));
  });
}
