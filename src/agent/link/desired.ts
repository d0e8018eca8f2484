/**
 * What the links of a host should look like for a HostState (pure): VXLAN
 * devices per VNI, remote records' routes/neighbours/FDB entries, local records'
 * veths. The reconciler compares this with what `ip -j` reports.
 */
import type { HostState } from '../../model/host-state.js';
import { generateMac } from '../../model/mac.js';
import { parseIp, formatIp } from '../../model/net.js';
import { DEFAULT_VNI, vethName, vtepMac, vxlanName } from '../names.js';
import { steerCtMark } from '../nft/steer-maps.js';
import { activeSteering, STEER_TABLE_BASE } from '../steering.js';

/** One VXLAN device. */
export interface DesiredVxlan {
  name: string;
  vni: number;
  mac: string;
}

/** A remote record address reachable through a VXLAN device. */
export interface DesiredRemoteIp {
  ip: string;
  family: 4 | 6;
  dev: string;
  /** MAC of the remote host's VTEP (neighbour entry). */
  vtepMac: string;
  /** Underlay address of the remote host (FDB entry). */
  underlay: string;
}

/** A local record's veth pair. */
export interface DesiredVeth {
  record: string;
  name: string;
  netns: string;
  mac: string;
  ips: { ip: string; family: 4 | 6 }[];
  /** Stored as the host end's alias: a change of any part means re-plumbing. */
  alias: string;
}

/**
 * Policy routing of one steer class k (docs/adr/0008-steering.md): `ip rule`s into
 * table 7300+k — new and established steered connections of local sources (mark =
 * their ct mark `TAG | k << 16 | k`), and packets arriving over VXLAN with Group Policy
 * ID k for a local via record — per family with a next hop; in the table a default
 * route to the via record (its veth when local, the VXLAN device when remote).
 */
export interface DesiredSteer {
  class: number;
  table: number;
  rules: { mark: number; mask: number; iif?: string }[];
  routes: { family: 4 | 6; via: string; dev: string }[];
  /** The via record's veth when it is local (loose rp_filter: it forwards others' packets). */
  localVeth?: string;
}

/** The whole desired link state of a host. */
export interface DesiredLinks {
  vxlans: DesiredVxlan[];
  remotes: DesiredRemoteIp[];
  veths: DesiredVeth[];
  steer: DesiredSteer[];
  /** Remote records that cannot be reached (no underlay address known). */
  unreachable: string[];
}

function ipsOf(ips: readonly string[]): { ip: string; family: 4 | 6 }[] {
  return ips.flatMap((t) => {
    const p = parseIp(t);
    return p ? [{ ip: formatIp(p), family: p.family }] : [];
  });
}

/**
 * Computes the desired links of `state`.
 *
 * @example desiredLinks(state, { defaultVni: 1 }).veths.map((v) => v.name)
 */
export function desiredLinks(state: HostState, opts: { defaultVni?: number } = {}): DesiredLinks {
  const dv = opts.defaultVni ?? DEFAULT_VNI;
  const vnis = new Set<number>();
  const remotes: DesiredRemoteIp[] = [];
  const unreachable: string[] = [];
  for (const r of state.remotes) {
    const vni = r.vni ?? dv;
    if (!r.underlay) {
      unreachable.push(r.name);
      continue;
    }
    vnis.add(vni);
    for (const a of ipsOf(r.ips))
      remotes.push({
        ...a,
        dev: vxlanName(vni),
        vtepMac: vtepMac(r.host, vni),
        underlay: r.underlay,
      });
  }
  const veths: DesiredVeth[] = state.locals.map((l) => {
    vnis.add(l.vni ?? dv);
    const netns = l.netns ?? `vnp-${l.instance}`;
    // A record without a MAC gets src/model's deterministic one for its name.
    const mac = (l.mac || generateMac(l.name)).toLowerCase();
    const ips = ipsOf(l.ips);
    return {
      record: l.name,
      name: vethName(l.name),
      netns,
      mac,
      ips,
      alias: `vnp:${l.name}:${netns}:${mac}:${ips.map((i) => i.ip).join(',')}`,
    };
  });
  const vxlans = [...vnis]
    .sort((a, b) => a - b)
    .map((vni) => ({ name: vxlanName(vni), vni, mac: vtepMac(state.host, vni) }));
  const steer: DesiredSteer[] = [...activeSteering(state, { defaultVni: dv }).values()]
    .sort((a, b) => a.class - b.class)
    .map((a) => {
      const routes: DesiredSteer['routes'] = [];
      for (const fam of [4, 6] as const) {
        const hop = a.ips.find((i) => i.family === fam);
        if (hop) routes.push({ family: fam, via: hop.ip, dev: a.dev });
      }
      const rules: DesiredSteer['rules'] = [
        { mark: steerCtMark(a.class), mask: 0xffffffff },
        ...(a.arrival ? [{ mark: a.class, mask: 0xffff, iif: a.arrival }] : []),
      ];
      return {
        class: a.class,
        table: STEER_TABLE_BASE + a.class,
        rules,
        routes,
        ...(a.local ? { localVeth: a.dev } : {}),
      };
    });
  return { vxlans, remotes, veths, steer, unreachable };
}
