/**
 * Deterministic names and addresses the agent owns. Everything the agent creates
 * starts with `vnp` so reconciliation can remove what is ours and never touch
 * anything else. Pure: the renderer and the link layer must agree on names.
 */

/** Prefix of every link the agent owns. */
export const OWNED_PREFIX = 'vnp';

/** MAC of every host-side veth end (Calico style: one well-known gateway MAC). */
export const GATEWAY_MAC = 'ee:ee:ee:ee:ee:ee';
/** Link-local IPv4 gateway the instances route through (answered by the host end). */
export const GATEWAY_V4 = '169.254.1.1';
/** Link-local IPv6 gateway the instances route through. */
export const GATEWAY_V6 = 'fe80::1';
/** Default VXLAN network id for records whose subnet has none. */
export const DEFAULT_VNI = 1;

/** 32-bit FNV-1a with a seed; two seeds give 64 bits of name hash. */
function fnv1a(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** 12 hex digits of a stable hash of `text`. */
function hash12(text: string): string {
  const a = fnv1a(text, 0).toString(16).padStart(8, '0');
  const b = fnv1a(text, 0x5bd1e995).toString(16).padStart(8, '0');
  return (a + b).slice(0, 12);
}

/**
 * Name of the veth pair of a local record (both ends: host side in the host's
 * namespace, instance side in the instance's). 15 characters (IFNAMSIZ - 1).
 *
 * @example vethName('web-1') // 'vnp' + 12 hex digits
 */
export function vethName(record: string): string {
  return OWNED_PREFIX + hash12(record);
}

/**
 * Name of the VXLAN device of a VNI.
 *
 * @example vxlanName(42) // 'vnpvx42'
 */
export function vxlanName(vni: number): string {
  return `${OWNED_PREFIX}vx${vni}`;
}

/**
 * MAC of a host's VTEP for a VNI: the same on every host, so a peer can program
 * the neighbour and FDB entries without asking (locally administered, unicast).
 *
 * @example vtepMac('host-a', 1) // '0a:..'
 */
export function vtepMac(host: string, vni: number): string {
  const h = hash12(`vtep:${host}:${vni}`);
  const bytes = ['0a', h.slice(0, 2), h.slice(2, 4), h.slice(4, 6), h.slice(6, 8), h.slice(8, 10)];
  return bytes.join(':');
}

/** Whether a link name is one the agent owns. */
export function isOwnedLink(name: string): boolean {
  return name.startsWith(OWNED_PREFIX);
}
