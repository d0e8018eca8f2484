/**
 * MAC addresses of interface records: normalized to lowercase `aa:bb:cc:dd:ee:ff`,
 * or generated from the record name when absent (stable across managers and
 * restarts, so a re-created record keeps its MAC).
 */

const encoder = new TextEncoder();

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** FNV-1a, 32-bit, over the UTF-8 bytes of s, from a given offset basis. */
function fnv1a32(s: string, basis: number): number {
  let h = basis >>> 0;
  // ASCII (every resource name) is its own UTF-8: hash the code units, skip the encoder.
  const bytes: ArrayLike<number> = isAscii(s) ? { length: s.length } : encoder.encode(s);
  const ascii = !(bytes instanceof Uint8Array);
  for (let i = 0; i < bytes.length; i++) {
    h ^= ascii ? s.charCodeAt(i) : bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * A deterministic locally administered unicast MAC for a name (first octet has
 * bit 1 set, bit 0 clear: `x2`, `x6`, `xa`, `xe`).
 *
 * @example generateMac('web-1') // e.g. '6e:3f:...' — always the same for 'web-1'
 */
export function generateMac(name: string): string {
  const a = fnv1a32(name, 0x811c9dc5);
  const b = fnv1a32(name, a ^ 0x9e3779b9); // a second pass, chained, for 48 bits
  const octets = [
    (a >>> 24) & 0xff,
    (a >>> 16) & 0xff,
    (a >>> 8) & 0xff,
    a & 0xff,
    (b >>> 8) & 0xff,
    b & 0xff,
  ];
  octets[0] = (octets[0]! & 0xfc) | 0x02;
  return octets.map((o) => o.toString(16).padStart(2, '0')).join(':');
}

/**
 * Normalizes `AA:BB:CC:DD:EE:FF`, `aa-bb-cc-dd-ee-ff`, `aabb.ccdd.eeff` or
 * `aabbccddeeff` to `aa:bb:cc:dd:ee:ff`; `undefined` when malformed.
 *
 * @example normalizeMac('02-00-5E-10-00-01') // '02:00:5e:10:00:01'
 */
export function normalizeMac(text: string): string | undefined {
  if (typeof text !== 'string') return undefined;
  let hex: string;
  if (/^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/.test(text)) {
    hex = text.replace(/[:-]/g, '');
  } else if (/^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/.test(text)) {
    hex = text.replace(/\./g, '');
  } else if (/^[0-9A-Fa-f]{12}$/.test(text)) {
    hex = text;
  } else {
    return undefined;
  }
  return hex.toLowerCase().match(/../g)!.join(':');
}

/**
 * Whether a normalized MAC may be an interface's own address: unicast and not
 * all zeros.
 *
 * @example isUnicastMac('01:00:5e:00:00:01') // false (multicast)
 */
export function isUnicastMac(mac: string): boolean {
  const first = parseInt(mac.slice(0, 2), 16);
  return (first & 1) === 0 && mac !== '00:00:00:00:00:00';
}
