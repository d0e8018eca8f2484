/**
 * Which steer classes this host acts on, and how (docs/adr/0008-steering.md). Pure;
 * shared by the nftables table and the link layer so they always agree.
 *
 * A class is active on a host when its via record is attached somewhere this host can
 * reach (a local record, or a remote one whose host's underlay address is known) and
 * the host needs it: some local source's route entries name it, or the via record is
 * local (steered packets from other hosts arrive here for it). Everything else is
 * inert: the datapath treats its entries as "not steered".
 */
import type { HostState } from '../model/host-state.js';
import { formatIp, parseIp } from '../model/net.js';
import { DEFAULT_VNI, vethName, vxlanName } from './names.js';

/** Routing table of steer class k: `STEER_TABLE_BASE + k` (7302..7555). */
export const STEER_TABLE_BASE = 7300;
/** Priority of the agent's `ip rule`s (see {@link ActiveSteer}). */
export const STEER_RULE_PREF = 7300;

/** One active steer class on this host. */
export interface ActiveSteer {
  class: number;
  via: string;
  /** True when the via record is attached on this host. */
  local: boolean;
  /** Where its packets go: the via record's veth (local) or the VXLAN device of its VNI. */
  dev: string;
  /** The via record's addresses (the next hop per family, and never steered to itself). */
  ips: { ip: string; family: 4 | 6 }[];
  /** VXLAN device steered packets for a local via record arrive on (mark = k from GBP). */
  arrival?: string;
}

/**
 * The active steer classes of a host, by class.
 *
 * @example activeSteering(state).get(2)?.dev // 'vnp…' (the via record's veth) or 'vnpvx1'
 */
export function activeSteering(
  state: HostState,
  opts: { defaultVni?: number } = {},
): Map<number, ActiveSteer> {
  const out = new Map<number, ActiveSteer>();
  if (!state.steering?.length) return out;
  const used = new Set<number>();
  for (const s of state.sides) {
    if (!s.routes) continue;
    for (const e of [...s.routes.cidr, ...s.routes.peers, ...s.routes.any]) used.add(e.steer);
  }
  const dv = opts.defaultVni ?? DEFAULT_VNI;
  const locals = new Map(state.locals.map((l) => [l.name, l]));
  const remotes = new Map(state.remotes.map((r) => [r.name, r]));
  for (const c of state.steering) {
    const local = locals.get(c.via);
    const remote = remotes.get(c.via);
    if (!local && !used.has(c.class)) continue;
    const rec = local ?? (remote?.underlay ? remote : undefined);
    if (!rec) continue;
    const ips = rec.ips.flatMap((t) => {
      const p = parseIp(t);
      return p ? [{ ip: formatIp(p), family: p.family }] : [];
    });
    out.set(c.class, {
      class: c.class,
      via: c.via,
      local: local !== undefined,
      dev: local ? vethName(c.via) : vxlanName(rec.vni ?? dv),
      ips,
      ...(local ? { arrival: vxlanName(rec.vni ?? dv) } : {}),
    });
  }
  return out;
}
