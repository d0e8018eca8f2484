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

/** Fixed flows and the address tables (classify, ipcache, dst, output). */
export function frameFlows(
  out: FlowSet,
  state: HostState,
  ports: OvsPorts,
  defaultVni: number,
): void {
  const ct = (table: number) => `ct(zone=${CT_ZONE},table=${table})`;
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
  const ids = addressIdentities(state);
  for (const fam of ['ip', 'ipv6']) {
    out.add({
      table: T.srcIpcache,
      priority: 0,
      match: fam,
      actions: `set_field:${IDENTITY_WORLD}->reg0,goto_table:${T.conntrack}`,
    });
    out.add({ table: T.conntrack, priority: 0, match: fam, actions: ct(T.dst) });
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
  const routed = new Set<string>();
  for (const l of state.locals) {
    const port = ports.records.get(l.name);
    for (const ip of l.ips) {
      const m = ipMatch(ip, 'dst');
      if (!m || routed.has(m)) continue;
      routed.add(m);
      const way =
        port === undefined
          ? ''
          : `set_field:${port}->reg3,set_field:${GATEWAY_MAC}->eth_src,set_field:${(l.mac || generateMac(l.name)).toLowerCase()}->eth_dst,`;
      out.add({
        table: T.dst,
        priority: 100,
        match: m,
        actions: `set_field:${l.identity}->reg1,load:1->NXM_NX_REG2[1],${way}goto_table:${T.state}`,
      });
    }
  }
  for (const r of state.remotes) {
    for (const ip of r.ips) {
      const m = ipMatch(ip, 'dst');
      if (!m || routed.has(m)) continue;
      routed.add(m);
      const vni = r.vni ?? defaultVni;
      const tunnel = ports.tunnels.get(vni);
      const way =
        r.underlay && tunnel !== undefined
          ? `set_field:${tunnel}->reg3,set_field:${vtepMac(r.host, vni)}->eth_dst,`
          : '';
      out.add({
        table: T.dst,
        priority: 100,
        match: m,
        actions: `set_field:${r.identity}->reg1,${way}goto_table:${T.state}`,
      });
    }
  }
  for (const [ip, id] of ids) {
    const m = ipMatch(ip, 'dst');
    if (m && !routed.has(m))
      out.add({
        table: T.dst,
        priority: 100,
        match: m,
        actions: `set_field:${id}->reg1,goto_table:${T.state}`,
      });
  }
  out.add({
    table: T.state,
    priority: 100,
    match: 'ct_state=+trk+est',
    actions: `goto_table:${T.output}`,
  });
  out.add({
    table: T.state,
    priority: 100,
    match: 'ct_state=+trk+rel',
    actions: `goto_table:${T.output}`,
  });
  out.add({ table: T.state, priority: 90, match: 'ct_state=+trk+inv', actions: 'drop' });
  out.add({
    table: T.state,
    priority: 80,
    match: 'ct_state=+trk+new',
    actions: `goto_table:${T.egress}`,
  });
  out.add({ table: T.state, priority: 0, match: '', actions: 'drop' });
  out.add({
    table: T.egress,
    priority: SKIP_SIDE,
    match: `reg2=0/${SRC_LOCAL}`,
    actions: `goto_table:${T.ingress}`,
  });
  out.add({ table: T.egress, priority: 0, match: '', actions: 'drop' });
  out.add({
    table: T.ingress,
    priority: SKIP_SIDE,
    match: `reg2=0/${DST_LOCAL}`,
    actions: `goto_table:${T.commit}`,
  });
  out.add({ table: T.ingress, priority: 0, match: '', actions: 'drop' });
  for (const fam of ['ip', 'ipv6'])
    out.add({
      table: T.commit,
      priority: 0,
      match: fam,
      actions: `ct(commit,zone=${CT_ZONE},exec(move:NXM_NX_REG0[]->NXM_NX_CT_MARK[])),goto_table:${T.output}`,
    });
  out.add({ table: T.output, priority: 0, match: '', actions: 'drop' });
  out.add({ table: T.output, priority: 10, match: 'reg3=0', actions: 'drop' });
  out.add({ table: T.output, priority: 5, match: '', actions: 'output:NXM_NX_REG3[]' });
}
