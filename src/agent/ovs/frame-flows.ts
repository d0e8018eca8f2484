/**
 * The part of the OVS program that does not depend on policy entries: classify by
 * port, the address tables (source ipcache, destination identity and way out),
 * conntrack, the state dispatch, commit and output. O(records + ipcache).
 */
import type { HostState } from '../../model/host-state.js';
import { IDENTITY_WORLD } from '../../model/host-state.js';
import { generateMac } from '../../model/mac.js';
import { formatIp, parseIp } from '../../model/net.js';
import { GATEWAY_MAC, vtepMac } from '../names.js';
import { CT_ZONE, DST_LOCAL, SRC_LOCAL, T, type FlowSet, type OvsPorts } from './flows.js';

/** Priority of the side tables' first flow: packets a side does not judge skip it. */
export const SKIP_SIDE = 1000;

const ipMatch = (ip: string, field: 'src' | 'dst'): string | undefined => {
  const a = parseIp(ip);
  if (!a) return undefined;
  return a.family === 4 ? `ip,nw_${field}=${formatIp(a)}` : `ipv6,ipv6_${field}=${formatIp(a)}`;
};

/** Address → identity (ipcache, then remotes, then locals: the FlowJudge precedence). */
function addressIdentities(state: HostState): Map<string, number> {
  const ids = new Map<string, number>();
  for (const e of state.ipcache) ids.set(e.ip, e.identity);
  for (const r of [...state.remotes, ...state.locals])
    for (const ip of r.ips) ids.set(ip, r.identity);
  return ids;
}

type Ctx = { out: FlowSet; state: HostState; ports: OvsPorts };

/** Table 0: local records' ports (source identity, SRC_LOCAL) and the VXLAN ports. */
function classifyFlows({ out, state, ports }: Ctx): void {
  out.add({ table: T.classify, priority: 0, match: '', actions: 'drop' });
  for (const tunnel of ports.tunnels.values())
    for (const fam of ['ip', 'ipv6'])
      out.add({
        table: T.classify,
        priority: 50,
        match: `in_port=${tunnel},${fam}`,
        actions: `goto_table:${T.srcIpcache}`,
      });
  for (const l of state.locals) {
    const port = ports.records.get(l.name);
    if (port === undefined) continue;
    for (const fam of ['ip', 'ipv6'])
      out.add({
        table: T.classify,
        priority: 100,
        match: `in_port=${port},${fam}`,
        actions: `set_field:${l.identity}->reg0,set_field:${SRC_LOCAL}->reg2,goto_table:${T.conntrack}`,
      });
  }
}

/** Table 5 (source address → identity), table 10 (conntrack), the fallbacks of table 20. */
function ipcacheFlows({ out }: Ctx, ids: Map<string, number>): void {
  for (const fam of ['ip', 'ipv6']) {
    out.add({
      table: T.srcIpcache,
      priority: 0,
      match: fam,
      actions: `set_field:${IDENTITY_WORLD}->reg0,goto_table:${T.conntrack}`,
    });
    out.add({
      table: T.conntrack,
      priority: 0,
      match: fam,
      actions: `ct(zone=${CT_ZONE},table=${T.dst})`,
    });
    out.add({
      table: T.dst,
      priority: 0,
      match: fam,
      actions: `set_field:${IDENTITY_WORLD}->reg1,goto_table:${T.state}`,
    });
  }
  for (const [ip, id] of ids) {
    const m = ipMatch(ip, 'src');
    if (m)
      out.add({
        table: T.srcIpcache,
        priority: 100,
        match: m,
        actions: `set_field:${id}->reg0,goto_table:${T.conntrack}`,
      });
  }
}

/**
 * Table 20: destination identity and the way out — local records (their port and MAC),
 * remote records (the VNI's VXLAN port, the remote VTEP's MAC), other ipcache addresses
 * (identity only). The first of these to name an address wins.
 */
function destinationFlows(
  { out, state, ports }: Ctx,
  ids: Map<string, number>,
  defaultVni: number,
): void {
  const routed = new Set<string>();
  const route = (ip: string, identity: number, way: string): void => {
    const m = ipMatch(ip, 'dst');
    if (!m || routed.has(m)) return;
    routed.add(m);
    out.add({
      table: T.dst,
      priority: 100,
      match: m,
      actions: `set_field:${identity}->reg1,${way}goto_table:${T.state}`,
    });
  };
  for (const l of state.locals) {
    const port = ports.records.get(l.name);
    const mac = (l.mac || generateMac(l.name)).toLowerCase();
    const way =
      port === undefined
        ? ''
        : `set_field:${port}->reg3,set_field:${GATEWAY_MAC}->eth_src,set_field:${mac}->eth_dst,`;
    for (const ip of l.ips) route(ip, l.identity, `load:1->NXM_NX_REG2[1],${way}`);
  }
  for (const r of state.remotes) {
    const vni = r.vni ?? defaultVni;
    const tunnel = ports.tunnels.get(vni);
    const way =
      r.underlay && tunnel !== undefined
        ? `set_field:${tunnel}->reg3,set_field:${vtepMac(r.host, vni)}->eth_dst,`
        : '';
    for (const ip of r.ips) route(ip, r.identity, way);
  }
  for (const [ip, id] of ids) route(ip, id, '');
}

/** Table 21 (state dispatch) and the side tables' skip flows and fall-through drops. */
function stateFlows({ out }: Ctx): void {
  const add = (table: number, priority: number, match: string, actions: string): void =>
    out.add({ table, priority, match, actions });
  add(T.state, 100, 'ct_state=+trk+est', `goto_table:${T.output}`);
  add(T.state, 100, 'ct_state=+trk+rel', `goto_table:${T.output}`);
  add(T.state, 90, 'ct_state=+trk+inv', 'drop');
  add(T.state, 80, 'ct_state=+trk+new', `goto_table:${T.egress}`);
  add(T.state, 0, '', 'drop');
  add(T.egress, SKIP_SIDE, `reg2=0/${SRC_LOCAL}`, `goto_table:${T.ingress}`);
  add(T.egress, 0, '', 'drop');
  add(T.ingress, SKIP_SIDE, `reg2=0/${DST_LOCAL}`, `goto_table:${T.commit}`);
  add(T.ingress, 0, '', 'drop');
}

/** Table 50 (commit, ct_mark = source identity) and table 60 (output by reg3). */
function commitOutputFlows({ out }: Ctx): void {
  for (const fam of ['ip', 'ipv6'])
    out.add({
      table: T.commit,
      priority: 0,
      match: fam,
      actions: `ct(commit,zone=${CT_ZONE},exec(move:NXM_NX_REG0[]->NXM_NX_CT_MARK[],move:NXM_NX_REG6[0..7]->NXM_NX_CT_LABEL[0..7])),goto_table:${T.steerOut}`,
    });
  out.add({ table: T.output, priority: 0, match: '', actions: 'drop' });
  out.add({ table: T.output, priority: 10, match: 'reg3=0', actions: 'drop' });
  out.add({ table: T.output, priority: 5, match: '', actions: 'output:NXM_NX_REG3[]' });
}

/** Fixed flows and the address tables, table by table. */
export function frameFlows(
  out: FlowSet,
  state: HostState,
  ports: OvsPorts,
  defaultVni: number,
): void {
  const ctx: Ctx = { out, state, ports };
  const ids = addressIdentities(state);
  classifyFlows(ctx);
  ipcacheFlows(ctx, ids);
  destinationFlows(ctx, ids, defaultVni);
  stateFlows(ctx);
  commitOutputFlows(ctx);
}
