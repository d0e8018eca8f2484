/**
 * `ovs-ofctl monitor BRIDGE 65535` output → the copies the program sends the agent
 * (samples.ts). A packet-in is three lines: the header (`NXT_PACKET_IN2 … table_id=N
 * …`), ` userdata=XX`, then the packet as a flow (`tcp,…,nw_src=…,nw_dst=…,tp_src=…,
 * tp_dst=… tcp_csum:…`). Pure.
 */
import type { Protocol } from '../../model/types.js';
import type { FlowTuple } from '../flows/flow-builder.js';

/** One copy: the table that sent it, its userdata, and the packet's tuple. */
export interface PacketIn {
  table: number;
  userdata: string;
  tuple: Omit<FlowTuple, 'at'>;
}

const PROTOS: Record<string, Protocol> = {
  tcp: 'tcp',
  tcp6: 'tcp',
  udp: 'udp',
  udp6: 'udp',
  sctp: 'sctp',
  sctp6: 'sctp',
  icmp: 'icmp',
  icmp6: 'icmp',
};

/** The packet line's fields (`k=v` before the first space) as a tuple. */
function packetTuple(line: string): Omit<FlowTuple, 'at'> | undefined {
  const [head] = line.trim().split(' ');
  const parts = head!.split(',');
  const proto = PROTOS[parts[0]!];
  if (!proto) return undefined;
  const f = new Map(parts.slice(1).map((kv) => kv.split('=') as [string, string]));
  const src = f.get('nw_src') ?? f.get('ipv6_src');
  const dst = f.get('nw_dst') ?? f.get('ipv6_dst');
  if (!src || !dst) return undefined;
  if (proto === 'icmp')
    return {
      proto,
      src,
      dst,
      icmpType: Number(f.get('icmp_type') ?? 0),
      icmpCode: Number(f.get('icmp_code') ?? 0),
    };
  return { proto, src, dst, sport: Number(f.get('tp_src')), dport: Number(f.get('tp_dst')) };
}

/** Reads monitor output line by line; yields each complete packet-in. */
export class PacketInReader {
  private pending: { table: number; userdata: string } | undefined;

  /**
   * @example r.line('NXT_PACKET_IN2 (OF1.5) (xid=0x0): table_id=45 cookie=0x0 …'); r.line(' userdata=01'); r.line('tcp,…') // PacketIn
   */
  line(text: string): PacketIn | undefined {
    if (/^(NXT|OFPT)_PACKET_IN/.test(text)) {
      const table = /table_id=(\d+)/.exec(text)?.[1];
      this.pending = table === undefined ? undefined : { table: Number(table), userdata: '' };
      return undefined;
    }
    const p = this.pending;
    if (!p) return undefined;
    const userdata = /^\s+userdata=(\S+)/.exec(text)?.[1];
    if (userdata !== undefined) {
      p.userdata = userdata;
      return undefined;
    }
    // Any other line ends the packet-in: the packet's flow, or something unknown.
    this.pending = undefined;
    const tuple = packetTuple(text);
    return tuple && { ...p, tuple };
  }
}
