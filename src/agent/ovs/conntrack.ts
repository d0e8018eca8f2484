/**
 * `ovs-appctl dpctl/dump-conntrack` lines → connections, each with the ct-tuple that
 * `dpctl/flush-conntrack` deletes it by. Pure.
 */
import type { Protocol } from '../../model/types.js';

/** One tracked connection (original direction). */
export interface OvsCtEntry {
  proto: Protocol;
  src: string;
  dst: string;
  /** Destination port; 0 for ICMP. */
  dport: number;
  /** Source port (tcp, udp, sctp). */
  sport?: number;
  /** ICMP type and code (icmp, icmpv6). */
  icmpType?: number;
  icmpCode?: number;
  /** TCP state as the dump summarises it (`ESTABLISHED`, `TIME_WAIT`, …). */
  state?: string;
  /** `ct_nw_src=…,ct_nw_dst=…,ct_nw_proto=…[,ct_tp_src=…,ct_tp_dst=…]` (orig direction). */
  tuple: string;
}

const PROTOS: Record<string, [Protocol, number]> = {
  tcp: ['tcp', 6],
  udp: ['udp', 17],
  sctp: ['sctp', 132],
  icmp: ['icmp', 1],
  icmpv6: ['icmp', 58],
};

/**
 * @example parseOvsConntrack('tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=5000,dport=80),reply=(…),zone=7')
 */
export function parseOvsConntrack(text: string): OvsCtEntry[] {
  const out: OvsCtEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\w+),orig=\(([^)]*)\)/.exec(line.trim());
    if (!m) continue;
    const p = PROTOS[m[1]!];
    if (!p) continue;
    const f = new Map(m[2]!.split(',').map((kv) => kv.split('=') as [string, string]));
    const src = f.get('src');
    const dst = f.get('dst');
    if (!src || !dst) continue;
    const v6 = src.includes(':');
    const nw = v6 ? ['ct_ipv6_src', 'ct_ipv6_dst'] : ['ct_nw_src', 'ct_nw_dst'];
    let tuple = `${nw[0]}=${src},${nw[1]}=${dst},ct_nw_proto=${p[1]}`;
    const state = /protoinfo=\(state=([A-Z_0-9]+)/.exec(line)?.[1];
    const extra = state ? { state } : {};
    if (p[0] !== 'icmp') {
      const dport = Number(f.get('dport'));
      const sport = Number(f.get('sport'));
      tuple += `,ct_tp_src=${sport},ct_tp_dst=${dport}`;
      out.push({ proto: p[0], src, dst, dport, sport, tuple, ...extra });
    } else {
      const [icmpType, icmpCode] = [Number(f.get('type')), Number(f.get('code'))];
      tuple += `,icmp_id=${f.get('id')},icmp_type=${icmpType},icmp_code=${icmpCode}`;
      out.push({ proto: p[0], src, dst, dport: 0, icmpType, icmpCode, tuple });
    }
  }
  return out;
}

/**
 * Successive dumps of one zone: a line listed unchanged since the last dump is not
 * parsed again (most lines of a large zone: UDP flows, established TCP).
 */
export class OvsConntrackReader {
  private last = new Map<string, OvsCtEntry | undefined>();

  read(text: string): OvsCtEntry[] {
    const next = new Map<string, OvsCtEntry | undefined>();
    const out: OvsCtEntry[] = [];
    for (const line of text.split('\n')) {
      const e = this.last.has(line) ? this.last.get(line) : parseOvsConntrack(line)[0];
      next.set(line, e);
      if (e) out.push(e);
    }
    this.last = next;
    return out;
  }
}
