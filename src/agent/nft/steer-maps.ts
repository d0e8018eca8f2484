/**
 * Steering in the `inet vnp` table (docs/adr/0008-steering.md). Pure.
 *
 * Per local identity L that some route applies to: chain `st-S`, named by L's slot S
 * (local-slots.ts), jumped from the prerouting chain `pre-steer` for new connections of
 * L's records, and seven maps shaped like the verdict maps of `eg-S` (cidr per family, icmp, peers, any), whose
 * values are `goto steer-k` (steer class k is active here) or `return` (the deciding
 * route is inert). Per active class k: chain `steer-k` that marks the connection
 * (`ct mark = TAG | k << 16 | k`) and the packet (mark k, which the policy routing
 * rule `fwmark <that ct mark>` sends to table 7300+k), unless the packet comes from the
 * via record itself or goes to it. The routing mark is the whole ct mark, not k: the
 * forward chain then sets the mark to k (the Group Policy ID), and the VXLAN device's
 * own underlay route lookup, which uses the packet's mark, must not match the rule.
 */
import type { HostState, SteeringEntries } from '../../model/host-state.js';
import { IDENTITY_WORLD } from '../../model/host-state.js';
import type { Family } from '../../model/net.js';
import { vethName } from '../names.js';
import type { ActiveSteer } from '../steering.js';
import {
  ACCEPT,
  addr,
  addrSpan,
  CT_MARK_TAG,
  ctMark,
  ICMP_PROTOS,
  icmpApplies,
  iif,
  l4proto,
  dport,
  lookup,
  mark,
  match,
  nfproto,
  parseRange,
  portSpan,
  setMark,
  vmap,
} from './expressions.js';
import { lookupSets } from './side-maps.js';
import { put, type NftTable } from './table.js';
import type { NftValue } from './types.js';

/** Chain steering the new connections of the local identity in slot `slot` (local-slots.ts). */
export function steerChainName(slot: string): string {
  return `st-${slot}`;
}

/** Chain marking a connection for steer class k. */
export function steerClassChainName(k: number): string {
  return `steer-${k}`;
}

/** ct mark of a connection steered through class k. */
export function steerCtMark(k: number): number {
  return (CT_MARK_TAG | (k << 16) | k) >>> 0;
}

/**
 * Adds the steering chains, maps and elements of `state` to `table` (whose global sets
 * `via-ifs`, `steer-via` and `steer-dispatch` exist already).
 */
export function addSteering(
  table: NftTable,
  state: HostState,
  slots: ReadonlyMap<number, string>,
  active: ReadonlyMap<number, ActiveSteer>,
): void {
  const value = (k: number): NftValue =>
    active.has(k) ? { goto: { target: steerClassChainName(k) } } : { return: null };
  for (const s of active.values()) {
    const rules: NftValue[][] = [];
    for (const fam of [4, 6] as const) {
      const own = s.ips.filter((i) => i.family === fam).map((i) => i.ip);
      // No address of the packet's family: no next hop, not steered (as `check` says).
      if (own.length) rules.push([match(addr(fam, 'daddr'), { set: own }), { return: null }]);
      else rules.push([match(nfproto, fam === 4 ? 'ipv4' : 'ipv6'), { return: null }]);
    }
    if (s.local) {
      const ifn = vethName(s.via);
      rules.push([match(iif, ifn), { return: null }]);
      put(table.sets.get('via-ifs')!, ifn);
      put(table.sets.get('steer-via')!, { concat: [s.class, ifn] });
    }
    rules.push([{ mangle: { key: ctMark, value: steerCtMark(s.class) } }]);
    rules.push([setMark(steerCtMark(s.class)), ACCEPT]);
    const name = steerClassChainName(s.class);
    table.chains.set(name, { name, rules });
  }
  const routed = new Map<number, SteeringEntries>();
  for (const side of state.sides)
    if (side.direction === 'egress' && side.routes) routed.set(side.identity, side.routes);
  for (const r of state.locals) {
    if (!routed.has(r.identity)) continue;
    put(table.sets.get('steer-dispatch')!, vethName(r.name), {
      jump: { target: steerChainName(slots.get(r.identity)!) },
    });
  }
  for (const [id, routes] of [...routed].sort(([a], [b]) => a - b)) {
    const slot = slots.get(id);
    if (slot !== undefined) steerSide(table, slot, routes, value);
  }
}

function steerSide(
  table: NftTable,
  slot: string,
  routes: SteeringEntries,
  value: (k: number) => NftValue,
): void {
  const c = steerChainName(slot);
  const sets = lookupSets(c);
  // The engine's entries are disjoint per (peer or address, protocol): one element each.
  for (const e of routes.cidr) {
    const r = parseRange(e.range);
    if (!r) continue;
    const a = addrSpan(r.family, r.lo, r.hi);
    if (e.proto === 'icmp') {
      if (icmpApplies(e)) put(r.family === 4 ? sets.c4i : sets.c6i, a, value(e.steer));
      continue;
    }
    const key = { concat: [a, e.proto, portSpan(BigInt(e.ports[0]), BigInt(e.ports[1]))] };
    put(r.family === 4 ? sets.c4 : sets.c6, key, value(e.steer));
  }
  for (const e of routes.peers) {
    if (e.proto === 'icmp') {
      if (icmpApplies(e)) put(sets.pi, e.peer, value(e.steer));
      continue;
    }
    const key = { concat: [e.peer, e.proto, portSpan(BigInt(e.ports[0]), BigInt(e.ports[1]))] };
    put(sets.p, key, value(e.steer));
  }
  let anyIcmp: NftValue | undefined;
  for (const e of routes.any) {
    if (e.proto === 'icmp') {
      if (icmpApplies(e)) anyIcmp = value(e.steer);
      continue;
    }
    put(
      sets.a,
      { concat: [e.proto, portSpan(BigInt(e.ports[0]), BigInt(e.ports[1]))] },
      value(e.steer),
    );
  }
  for (const s of Object.values(sets)) table.sets.set(s.name, s);
  const daddr = (f: Family) => addr(f, 'daddr');
  const rules: NftValue[][] = [
    // The peer identity (destination), held in the mark while the maps decide.
    [setMark(IDENTITY_WORLD)],
    [setMark(lookup(daddr(4), 'ipcache4'))],
    [setMark(lookup(daddr(6), 'ipcache6'))],
    [vmap({ concat: [daddr(4), l4proto, dport] }, sets.c4.name)],
    [vmap({ concat: [daddr(6), l4proto, dport] }, sets.c6.name)],
    [match(l4proto, 'icmp'), vmap(daddr(4), sets.c4i.name)],
    [match(l4proto, 'ipv6-icmp'), vmap(daddr(6), sets.c6i.name)],
    [vmap({ concat: [mark, l4proto, dport] }, sets.p.name)],
    [match(l4proto, ICMP_PROTOS), vmap(mark, sets.pi.name)],
    [vmap({ concat: [l4proto, dport] }, sets.a.name)],
    ...(anyIcmp ? [[match(l4proto, ICMP_PROTOS), anyIcmp]] : []),
  ];
  table.chains.set(c, { name: c, rules });
}
