/**
 * IPv4 and IPv6 addresses and prefixes as bigints (no dependencies).
 *
 * Parsing is strict so that one address has one spelling in the store: IPv4 is
 * dotted quad without leading zeros; IPv6 is RFC 4291 text (with `::` and an
 * embedded dotted quad in the last 32 bits), no zone ids. Formatting is
 * canonical: RFC 5952 for IPv6 (lowercase, shortest, longest zero run
 * compressed, IPv4-mapped addresses as `::ffff:a.b.c.d`).
 */

export type Family = 4 | 6;

/** An address; `value` is in 0..2^32-1 (v4) or 0..2^128-1 (v6). */
export interface Ip {
  family: Family;
  value: bigint;
}

/** A prefix; `base` has its host bits zero. */
export interface Cidr {
  family: Family;
  base: bigint;
  prefix: number;
}

/** Address width in bits. */
export function familyBits(family: Family): number {
  return family === 4 ? 32 : 128;
}

const V6_GROUP = /^[0-9A-Fa-f]{1,4}$/;

// Hand-rolled (no split, no regex): addresses are parsed on hot paths (loads of
// 100k records, every check), so this must stay allocation-free.
function parseV4(text: string): bigint | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return undefined; // leading zero
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return BigInt(value * 256 + octet);
}

/** Hex groups (and a trailing dotted quad as two groups) → numbers, or undefined. */
function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const out: number[] = [];
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i === parts.length - 1 && p.includes('.')) {
      const v4 = parseV4(p);
      if (v4 === undefined) return undefined;
      const n = Number(v4);
      out.push(n >>> 16, n & 0xffff);
    } else if (V6_GROUP.test(p)) {
      out.push(parseInt(p, 16));
    } else {
      return undefined;
    }
  }
  return out;
}

/** Eight 16-bit groups → a 128-bit value: four BigInt steps instead of eight. */
function groupsToBigint(g: readonly number[]): bigint {
  let v = 0n;
  for (let i = 0; i < 8; i += 2) v = (v << 32n) | BigInt(g[i]! * 65536 + g[i + 1]!);
  return v;
}

function parseV6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0]!);
  if (head === undefined) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const tail = parseGroups(halves[1]!);
    // An embedded IPv4 may only end the address, never precede '::'.
    if (tail === undefined || halves[0]!.includes('.')) return undefined;
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return undefined; // '::' stands for one or more zero groups
    groups = [...head, ...Array<number>(fill).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  return groupsToBigint(groups);
}

/**
 * Parses an IPv4 or IPv6 address strictly; `undefined` when malformed.
 *
 * @example parseIp('10.0.0.1') // { family: 4, value: 167772161n }
 * @example parseIp('010.0.0.1') // undefined (leading zero)
 */
export function parseIp(text: string): Ip | undefined {
  if (typeof text !== 'string' || text.length > 45) return undefined;
  if (text.includes(':')) {
    const value = parseV6(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseV4(text);
  return value === undefined ? undefined : { family: 4, value };
}

/**
 * Parses `address/length` (or a bare address: /32, /128) without requiring the
 * host bits to be zero: `ip` keeps them, so callers can say "did you mean ...".
 *
 * @example parsePrefix('10.1.2.3/8') // { ip: { family: 4, value: 167838211n }, prefix: 8 }
 */
export function parsePrefix(text: string): { ip: Ip; prefix: number } | undefined {
  if (typeof text !== 'string') return undefined;
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (ip === undefined) return undefined;
  const bits = familyBits(ip.family);
  if (slash < 0) return { ip, prefix: bits };
  const len = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(len) || Number(len) > bits) return undefined;
  return { ip, prefix: Number(len) };
}

/** Mask of the host bits of a prefix. */
function hostMask(family: Family, prefix: number): bigint {
  return (1n << BigInt(familyBits(family) - prefix)) - 1n;
}

/**
 * Parses a prefix whose host bits are zero; `undefined` otherwise.
 *
 * @example parseCidr('10.0.0.0/8') // { family: 4, base: 167772160n, prefix: 8 }
 * @example parseCidr('10.0.0.1/8') // undefined (host bits set)
 */
export function parseCidr(text: string): Cidr | undefined {
  const p = parsePrefix(text);
  if (p === undefined) return undefined;
  if ((p.ip.value & hostMask(p.ip.family, p.prefix)) !== 0n) return undefined;
  return { family: p.ip.family, base: p.ip.value, prefix: p.prefix };
}

/**
 * The prefix of that length holding an address (host bits cleared).
 *
 * @example formatCidr(cidrOf({ family: 4, value: 167838211n }, 8)) // '10.0.0.0/8'
 */
export function cidrOf(ip: Ip, prefix: number): Cidr {
  return { family: ip.family, base: ip.value & ~hostMask(ip.family, prefix), prefix };
}

function formatV4(v: bigint): string {
  const n = Number(v);
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function formatV6(v: bigint): string {
  const groups: number[] = [];
  for (let sh = 96n; sh >= 0n; sh -= 32n) {
    const w = Number((v >> sh) & 0xffffffffn);
    groups.push(w >>> 16, w & 0xffff);
  }
  // IPv4-mapped (::ffff:0:0/96): RFC 5952 §5 recommends the dotted quad.
  if (v >> 32n === 0xffffn) return '::ffff:' + formatV4(v & 0xffffffffn);
  // Longest run of 2+ zero groups, the first on a tie (RFC 5952 §4.2).
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return hex.slice(0, bestAt).join(':') + '::' + hex.slice(bestAt + bestLen).join(':');
}

/**
 * Canonical text of an address.
 *
 * @example formatIp(parseIp('2001:DB8:0:0:0:0:0:1')!) // '2001:db8::1'
 */
export function formatIp(ip: Ip): string {
  return ip.family === 4 ? formatV4(ip.value) : formatV6(ip.value);
}

/**
 * Canonical text of a prefix (always with its length).
 *
 * @example formatCidr(parseCidr('10.0.0.0')!) // '10.0.0.0/32'
 */
export function formatCidr(c: Cidr): string {
  return `${formatIp({ family: c.family, value: c.base })}/${c.prefix}`;
}

/**
 * The last address of a prefix.
 *
 * @example cidrLast(parseCidr('10.0.0.0/30')!) // 167772163n (10.0.0.3)
 */
export function cidrLast(c: Cidr): bigint {
  return c.base | hostMask(c.family, c.prefix);
}

/**
 * Whether a prefix holds an address (false across families).
 *
 * @example cidrContains(parseCidr('10.0.0.0/8')!, parseIp('10.1.2.3')!) // true
 */
export function cidrContains(c: Cidr, ip: Ip): boolean {
  return c.family === ip.family && ip.value >= c.base && ip.value <= cidrLast(c);
}

/**
 * Whether two prefixes share an address (false across families).
 *
 * @example cidrOverlaps(parseCidr('10.0.0.0/8')!, parseCidr('10.2.0.0/16')!) // true
 */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.base <= cidrLast(b) && b.base <= cidrLast(a);
}

/**
 * The minimal list of prefixes covering exactly the inclusive range [lo, hi],
 * in address order; empty when lo > hi.
 *
 * @example rangeToCidrs(4, 1n, 2n).map(formatCidr) // ['0.0.0.1/32', '0.0.0.2/32']
 */
export function rangeToCidrs(family: Family, lo: bigint, hi: bigint): Cidr[] {
  const bits = familyBits(family);
  const out: Cidr[] = [];
  let cur = lo;
  while (cur <= hi) {
    // The largest aligned block starting at cur that does not pass hi.
    let size = 0;
    while (size < bits) {
      const next = size + 1;
      const mask = (1n << BigInt(next)) - 1n;
      if ((cur & mask) !== 0n || cur + mask > hi) break;
      size = next;
    }
    out.push({ family, base: cur, prefix: bits - size });
    cur += 1n << BigInt(size);
  }
  return out;
}

/**
 * A canonical key for maps: the canonical text, so `ipKey(parseIp(s)!)` equals
 * the canonical spelling of `s`.
 *
 * @example ipKey(parseIp('::FFFF:1.2.3.4')!) // '::ffff:1.2.3.4'
 */
export function ipKey(ip: Ip): string {
  return formatIp(ip);
}
