/**
 * The few address and port questions the §2 oracle asks, answered by the
 * shared parsers of src/model (net.ts, ports.ts) with no caching.
 */
import {
  cidrContains,
  cidrLast,
  formatIp,
  parseCidr,
  parseIp,
  type Ip,
} from '../../../src/model/net.js';
import { parsePortSpec, type PortSpec } from '../../../src/model/ports.js';
import { VnpError } from '../../../src/model/errors.js';
import type { Protocol } from '../../../src/model/types.js';

/** A port spec as an inclusive range of one protocol (a bare protocol: 0..65535). */
export interface PortSpecRange {
  protocol: Protocol;
  lo: number;
  hi: number;
}

/**
 * The parsed address, or undefined when the text is not one.
 *
 * @example parseAddress('fd00::1')?.family // 6
 */
export function parseAddress(text: string): Ip | undefined {
  return parseIp(text);
}

/**
 * Canonical text of an address (as given when it does not parse).
 *
 * @example canonicalAddress('FD00:0::1') // 'fd00::1'
 */
export function canonicalAddress(text: string): string {
  const ip = parseIp(text);
  return ip ? formatIp(ip) : text;
}

/**
 * Whether two texts spell the same address.
 *
 * @example sameAddress('fd00::1', 'fd00:0::1') // true
 */
export function sameAddress(a: string, b: string): boolean {
  const x = parseIp(a);
  const y = parseIp(b);
  return x !== undefined && y !== undefined && x.family === y.family && x.value === y.value;
}

/**
 * Whether the address lies in the range (`a.b.c.d/n` or a bare address); false
 * across families.
 *
 * @example addressInCidr('10.1.0.5', '10.1.0.0/24') // true
 */
export function addressInCidr(address: string, range: string): boolean {
  const ip = parseIp(address);
  const cidr = parseCidr(range);
  if (cidr === undefined)
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `cidr: expected a prefix, got ${JSON.stringify(range)}`,
      { field: 'cidr' },
    );
  return ip !== undefined && cidrContains(cidr, ip);
}

/**
 * A rule's port spec as a range.
 *
 * @example portSpecRanges('tcp/8000-8099') // { protocol: 'tcp', lo: 8000, hi: 8099 }
 */
export function portSpecRanges(spec: string): PortSpecRange {
  const p: PortSpec = parsePortSpec(spec, 'ports');
  return { protocol: p.proto, lo: p.lo, hi: p.hi };
}

/** A set of addresses of one family as sorted, disjoint inclusive ranges. */
export interface AddressSet {
  family: 4 | 6;
  ranges: [bigint, bigint][];
}

/**
 * The addresses a cidr peer matches: the range less its exceptions.
 *
 * @example cidrPeerSet('10.0.0.0/30', ['10.0.0.1/32']).ranges // [[10.0.0.0, 10.0.0.0], [10.0.0.2, 10.0.0.3]] as bigints
 */
export function cidrPeerSet(range: string, except: readonly string[] = []): AddressSet {
  const c = parseCidr(range);
  if (c === undefined)
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `cidr: expected a prefix, got ${JSON.stringify(range)}`,
      { field: 'cidr' },
    );
  let ranges: [bigint, bigint][] = [[c.base, cidrLast(c)]];
  for (const text of except) {
    const x = parseCidr(text);
    if (x === undefined || x.family !== c.family) continue;
    const lo = x.base;
    const hi = cidrLast(x);
    ranges = ranges.flatMap(([a, b]): [bigint, bigint][] => {
      if (hi < a || lo > b) return [[a, b]];
      const keep: [bigint, bigint][] = [];
      if (a < lo) keep.push([a, lo - 1n]);
      if (hi < b) keep.push([hi + 1n, b]);
      return keep;
    });
  }
  return { family: c.family, ranges };
}
