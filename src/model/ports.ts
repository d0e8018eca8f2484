/**
 * Port specs of rules and routes (design.md §1 Rules): `tcp/443`, `udp/53`,
 * `tcp/8000-8099`, `sctp/9`, and a bare protocol (`tcp`, `udp`, `sctp`, `icmp`)
 * for all of its ports. icmp has no ports: it is always the full range 0..65535
 * (PEPs match icmp on port 0). Explicit ports are 1..65535, lo <= hi.
 */
import { VnpError } from './errors.js';
import { PROTOCOLS, type Protocol } from './types.js';

/** A parsed port spec: inclusive range; a bare protocol is 0..65535. */
export interface PortSpec {
  proto: Protocol;
  lo: number;
  hi: number;
}

const PORT = /^[1-9][0-9]{0,4}$/;
const EXPECTED = 'a port spec: tcp|udp|sctp[/PORT[-PORT]] (ports 1..65535) or icmp';

function bad(field: string, text: unknown, why: string): VnpError {
  const shown = typeof text === 'string' ? JSON.stringify(text) : String(text);
  return new VnpError('VNP_ERR_VALIDATION', `${field}: ${why}, found ${shown}`, {
    field,
    expected: EXPECTED,
  });
}

function port(s: string, field: string, text: string): number {
  const n = Number(s);
  if (!PORT.test(s) || n > 65535)
    throw bad(field, text, 'expected ports 1..65535, as in tcp/443 or tcp/8000-8099');
  return n;
}

/**
 * Parses a port spec; errors are VNP_ERR_VALIDATION naming `field`. Protocol
 * names are case-insensitive (`TCP/443` is `tcp/443`).
 *
 * @example parsePortSpec('tcp/8000-8099', 'ingress[0].ports[1]') // { proto: 'tcp', lo: 8000, hi: 8099 }
 * @example parsePortSpec('udp', 'ports[0]') // { proto: 'udp', lo: 0, hi: 65535 }
 */
export function parsePortSpec(text: string, field: string): PortSpec {
  if (typeof text !== 'string') throw bad(field, text, `expected ${EXPECTED}`);
  const slash = text.indexOf('/');
  const proto = (slash < 0 ? text : text.slice(0, slash)).toLowerCase() as Protocol;
  if (!PROTOCOLS.includes(proto)) {
    throw bad(field, text, `expected ${EXPECTED}`);
  }
  if (slash < 0) return { proto, lo: 0, hi: 65535 };
  if (proto === 'icmp') throw bad(field, text, 'icmp takes no port: expected plain "icmp"');
  const range = text.slice(slash + 1);
  const dash = range.indexOf('-');
  const lo = port(dash < 0 ? range : range.slice(0, dash), field, text);
  const hi = dash < 0 ? lo : port(range.slice(dash + 1), field, text);
  if (lo > hi) throw bad(field, text, 'expected a range with low port <= high port');
  return { proto, lo, hi };
}

/**
 * Canonical text of a port spec (the inverse of `parsePortSpec`).
 *
 * @example formatPortSpec({ proto: 'tcp', lo: 443, hi: 443 }) // 'tcp/443'
 * @example formatPortSpec({ proto: 'icmp', lo: 0, hi: 65535 }) // 'icmp'
 */
export function formatPortSpec(p: PortSpec): string {
  if (p.proto === 'icmp' || (p.lo === 0 && p.hi === 65535)) return p.proto;
  return p.lo === p.hi ? `${p.proto}/${p.lo}` : `${p.proto}/${p.lo}-${p.hi}`;
}
