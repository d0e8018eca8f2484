/**
 * The vocabulary of the OVS program: flows, their keys, the tables and registers.
 *
 *   reg0  source identity          reg2  bit 0: source is local, bit 1: destination is local
 *   reg1  destination identity     reg3  the ofport the packet leaves by (0: nowhere)
 *   reg2  bit 2: transit (a steered packet back from a local via record, ADR 0041)
 *   reg6  steer class of a new connection (0: not steered); ct_label[0..7] keeps it
 */
import { rangeToCidrs } from '../../model/net.js';

/** One OpenFlow flow; `key` (table, priority, match) identifies it in the bridge. */
export interface OfFlow {
  table: number;
  priority: number;
  match: string;
  actions: string;
}

/** Where the program sends packets: ofports of local records and of the tunnel. */
export interface OvsPorts {
  /** ofport of each local record's port, by record name (absent: not plumbed yet). */
  records: ReadonlyMap<string, number>;
  /** ofport of the VXLAN device of each VNI. */
  tunnels: ReadonlyMap<number, number>;
}

export const T = {
  classify: 0,
  srcIpcache: 5,
  conntrack: 10,
  dst: 20,
  state: 21,
  egress: 30,
  steer: 35,
  ingress: 40,
  /** Denied packets: counted, a metered sample to the agent, dropped (samples.ts). */
  deny: 45,
  commit: 50,
  steerOut: 55,
  output: 60,
} as const;

/** reg2 bits. */
export const SRC_LOCAL = 1;
export const DST_LOCAL = 2;
export const TRANSIT = 4;
/** The conntrack zone of the bridge's connections. */
export const CT_ZONE = 7;

/** Value/mask prefixes covering the inclusive port range [lo, hi]. */
export function portPrefixes(lo: number, hi: number): string[] {
  if (lo === 0 && hi >= 65535) return [''];
  return rangeToCidrs(4, BigInt(lo), BigInt(hi)).map((c) => {
    // A 16-bit range in the low bits of a 32-bit "address": prefix 16 + n.
    const bits = 32 - c.prefix;
    const mask = (0xffff << bits) & 0xffff;
    return mask === 0xffff ? `${c.base}` : `0x${c.base.toString(16)}/0x${mask.toString(16)}`;
  });
}

/** The flow key: what identifies a flow in the bridge (ovs-ofctl `--strict`). */
export function flowKey(f: OfFlow): string {
  return `table=${f.table},priority=${f.priority}${f.match ? `,${f.match}` : ''}`;
}

/** The flow as an `ovs-ofctl add-flows` line. */
export function flowLine(f: OfFlow): string {
  return `${flowKey(f)} actions=${f.actions}`;
}

/** The `conjunction(id,i/n)` actions of a list (their commas are not separators). */
export function conjunctions(actions: string): string[] {
  return actions.match(/conjunction\(\d+,\d+\/\d+\)/g) ?? [];
}

/** Collects flows; equal keys merge their conjunction actions (one flow per match). */
export class FlowSet {
  readonly flows = new Map<string, OfFlow>();
  add(f: OfFlow): void {
    const k = flowKey(f);
    const prev = this.flows.get(k);
    if (prev && prev.actions.startsWith('conjunction(') && f.actions.startsWith('conjunction('))
      prev.actions = [...new Set([...conjunctions(prev.actions), ...conjunctions(f.actions)])].join(
        ',',
      );
    else this.flows.set(k, { ...f });
  }
}
