/**
 * The verdict of traffic between two identities for every port, as disjoint segments per
 * protocol: the source of the fast path's pair tables and of `Engine.flowTable`.
 */
import { IDENTITY_WORLD } from '../../model/host-state.js';
import type { Ip } from '../../model/net.js';
import { PROTO_NAMES } from '../compile/port-table.js';
import type { ResolvedSide } from '../compile/resolved-side.js';
import type { FlowSegment } from '../types.js';
import type { Sides } from './sides.js';

/** A flow endpoint by identity (1 = world), with an address when CIDR rules should count. */
export interface FlowEnd {
  identity: number;
  ip?: Ip;
}

/**
 * Segments of [0, 65535] per protocol (adjacent equal verdicts merged). Both sides and
 * defaults apply exactly as in `check`.
 */
export function flowTable(sides: Sides, src: FlowEnd, dst: FlowEnd): FlowSegment[] {
  const egress = src.identity === IDENTITY_WORLD ? undefined : sides.side(src.identity, 'egress');
  const ingress = dst.identity === IDENTITY_WORLD ? undefined : sides.side(dst.identity, 'ingress');
  const out: FlowSegment[] = [];
  for (let proto = 0; proto < PROTO_NAMES.length; proto++) {
    const cuts = new Set<number>([0]);
    addCuts(cuts, proto, egress, dst.identity, dst.ip);
    addCuts(cuts, proto, ingress, src.identity, src.ip);
    const points = [...cuts].filter((c) => c <= 65535).sort((a, b) => a - b);
    points.forEach((lo, i) => {
      const hi = i + 1 < points.length ? points[i + 1]! - 1 : 65535;
      const allow =
        (!egress || sideAllowsAt(sides, egress, dst, proto, lo)) &&
        (!ingress || sideAllowsAt(sides, ingress, src, proto, lo));
      const verdict = allow ? ('allow' as const) : ('deny' as const);
      const last = out[out.length - 1];
      if (
        last &&
        last.proto === PROTO_NAMES[proto] &&
        last.verdict === verdict &&
        last.hi + 1 === lo
      )
        last.hi = hi;
      else out.push({ proto: PROTO_NAMES[proto]!, lo, hi, verdict });
    });
  }
  return out;
}

/** Adds the port boundaries of a side's entries for `peer` (and its address) to `cuts`. */
function addCuts(
  cuts: Set<number>,
  proto: number,
  side: ResolvedSide | undefined,
  peer: number,
  ip: Ip | undefined,
): void {
  if (!side) return;
  for (const seg of side.peerTable(peer).segments())
    if (seg.proto === proto) cuts.add(seg.lo).add(seg.hi + 1);
  const cidrSegment = ip && side.cidrTable?.lookup(ip.family, ip.value);
  if (cidrSegment)
    for (const seg of cidrSegment.ports.segments())
      if (seg.proto === proto) cuts.add(seg.lo).add(seg.hi + 1);
}

/** Whether a side lets the peer through at (proto, port): its deciding rule, else the default. */
export function sideAllowsAt(
  sides: Sides,
  side: ResolvedSide,
  peer: FlowEnd,
  proto: number,
  port: number,
): boolean {
  const pos = side.decide(peer.identity, peer.ip?.family ?? 4, peer.ip?.value, proto, port);
  if (pos >= 0) return side.rules[pos]!.action !== 'deny';
  return sides.cachedDefault(side.identity, peer.identity) === 'allow';
}
