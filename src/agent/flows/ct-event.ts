/**
 * Parses conntrack-tools output (from ctnetlink): event lines of
 * `conntrack -E -o timestamp,id` and entry lines of `conntrack -L -o id` — the
 * original direction's tuple, the accounting counters of both directions (with
 * `nf_conntrack_acct=1`), the TCP state, the ct mark and the entry id. Pure.
 *
 *   [1796607334.768243]	    [NEW] tcp      6 120 SYN_SENT src=10.0.0.5 dst=10.0.1.7 sport=40000 dport=22 [UNREPLIED] src=… mark=1442840833 id=2821998908
 *   tcp      6 1 TIME_WAIT src=10.0.0.5 dst=10.0.1.7 sport=40000 dport=22 packets=7 bytes=100372 src=… packets=4 bytes=216 [ASSURED] mark=1442840833 use=1 id=2821998908
 */
import type { Protocol } from '../../model/types.js';

/** One conntrack entry as printed. */
export interface CtEntry {
  proto: Protocol;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** ICMP type and code (icmp, icmpv6). */
  icmpType?: number;
  icmpCode?: number;
  /** TCP state (`ESTABLISHED`, `TIME_WAIT`, …). */
  tcpState?: string;
  /** Both directions summed (when accounting is on). */
  packets?: number;
  bytes?: number;
  mark: number;
  id: number;
}

export interface CtEvent extends CtEntry {
  type: 'new' | 'update' | 'destroy';
  /** Epoch milliseconds of the event (conntrack's timestamp). */
  at: number;
}

const PROTOS: Record<string, Protocol> = {
  tcp: 'tcp',
  udp: 'udp',
  sctp: 'sctp',
  icmp: 'icmp',
  icmpv6: 'icmp',
};

const EVENT_RE = /^\[(\d+)\.(\d+)\]\s+\[(NEW|UPDATE|DESTROY)\]\s+(.*)$/;

/**
 * The entry id of a line printed with `-o id` (its `id=` field, the last), without
 * parsing the rest: a listing or an event stream is mostly entries the reader already
 * knows it does not need.
 *
 * @example ctLineId('tcp 6 1 CLOSE src=10.0.0.1 … mark=1 use=1 id=42') // 42
 */
export function ctLineId(line: string): number | undefined {
  const i = line.lastIndexOf(' id=');
  if (i < 0) return undefined;
  const id = Number(line.slice(i + 4).trim());
  return Number.isSafeInteger(id) ? id : undefined;
}

/**
 * One event line, or undefined for anything else (the summary line, protocols vnp
 * does not judge).
 *
 * @example parseCtEvent('[1.5]\t[NEW] tcp 6 120 SYN_SENT src=10.0.0.1 dst=10.0.0.2 sport=1 dport=80 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=80 dport=1 mark=1 id=7')
 */
export function parseCtEvent(line: string): CtEvent | undefined {
  const m = EVENT_RE.exec(line.trim());
  const entry = m && parseCtEntry(m[4]!);
  if (!entry) return undefined;
  return {
    type: m[3] === 'NEW' ? 'new' : m[3] === 'UPDATE' ? 'update' : 'destroy',
    at: Number(m[1]) * 1000 + Math.floor(Number(`0.${m[2]}`) * 1000),
    ...entry,
  };
}

/**
 * One entry (a `conntrack -L` line, or an event line after its prefix).
 *
 * @example parseCtEntry('udp 17 29 src=10.0.0.1 dst=10.0.0.2 sport=5 dport=53 packets=1 bytes=60 src=… mark=1 id=9')
 */
export function parseCtEntry(text: string): CtEntry | undefined {
  const m = /^(?:ipv[46]\s+\d+\s+)?([a-z0-9]+)\s+\d+\s+(.*)$/.exec(text.trim());
  const proto = m ? PROTOS[m[1]!] : undefined;
  if (!m || !proto) return undefined;
  // The original direction is everything before the second `src=`.
  const orig = new Map<string, string>();
  const totals = { packets: 0, bytes: 0, counted: false };
  let mark = 0;
  let id = 0;
  let srcSeen = 0;
  let tcpState: string | undefined;
  for (const f of m[2]!.split(/\s+/)) {
    const eq = f.indexOf('=');
    if (eq < 0) {
      if (proto === 'tcp' && srcSeen === 0 && /^[A-Z_]+$/.test(f)) tcpState = f;
      continue;
    }
    const key = f.slice(0, eq);
    const value = Number(f.slice(eq + 1));
    if (key === 'src') srcSeen++;
    if (key === 'packets') totals.packets += value;
    if (key === 'bytes') totals.bytes += value;
    totals.counted ||= key === 'packets';
    if (key === 'mark') mark = value;
    if (key === 'id') id = value;
    if (srcSeen === 1 && !orig.has(key)) orig.set(key, f.slice(eq + 1));
  }
  const src = orig.get('src');
  const dst = orig.get('dst');
  if (!src || !dst) return undefined;
  const num = (k: string) => (orig.has(k) ? Number(orig.get(k)) : undefined);
  const [sport, dport, icmpType, icmpCode] = ['sport', 'dport', 'type', 'code'].map(num);
  return {
    proto,
    src,
    dst,
    ...(sport !== undefined ? { sport } : {}),
    ...(dport !== undefined ? { dport } : {}),
    ...(proto === 'icmp' && icmpType !== undefined ? { icmpType, icmpCode: icmpCode ?? 0 } : {}),
    ...(tcpState ? { tcpState } : {}),
    ...(totals.counted ? { packets: totals.packets, bytes: totals.bytes } : {}),
    mark,
    id,
  };
}
