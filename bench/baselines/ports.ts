/**
 * Port specs of rules (`tcp/443`, `tcp/8000-8099`, `udp`, `icmp`) for the baselines.
 * Deliberately simple: the baselines only need to read what the generator writes
 * and what §1 allows, and to fail loudly on anything else.
 */

/** One port spec: a protocol and an inclusive port range (0..65535 for a bare protocol). */
export interface PortRange {
  proto: string;
  lo: number;
  hi: number;
}

/**
 * Parses a port spec.
 *
 * @example
 *   parsePortSpec('tcp/8000-8099') // { proto: 'tcp', lo: 8000, hi: 8099 }
 *   parsePortSpec('icmp') // { proto: 'icmp', lo: 0, hi: 65535 }
 */
export function parsePortSpec(spec: string): PortRange {
  const m = /^(tcp|udp|sctp|icmp)(?:\/(\d{1,5})(?:-(\d{1,5}))?)?$/.exec(spec);
  if (!m) throw new Error(`bench baseline: unsupported port spec ${JSON.stringify(spec)}`);
  if (m[2] === undefined) return { proto: m[1]!, lo: 0, hi: 65535 };
  const lo = Number(m[2]);
  return { proto: m[1]!, lo, hi: m[3] === undefined ? lo : Number(m[3]) };
}

/**
 * True when a flow's protocol and port fall in one of the ranges (`undefined`: all traffic).
 * ICMP has no ports: any `icmp` spec matches any ICMP flow.
 *
 * @example
 *   portsMatch([parsePortSpec('tcp/443')], 'tcp', 443) // true
 */
export function portsMatch(
  ranges: readonly PortRange[] | undefined,
  proto: string,
  port: number,
): boolean {
  if (ranges === undefined) return true;
  for (const r of ranges) {
    if (r.proto !== proto) continue;
    if (proto === 'icmp' || (port >= r.lo && port <= r.hi)) return true;
  }
  return false;
}
