/**
 * The vocabulary of the `inet vnp` table: nftables JSON expressions, statements and
 * element values (libnftables-json(5)) that the base chains, the side maps and the
 * steering maps are written in, and the ct mark layout they share. Pure.
 */
import { familyBits, formatIp, parseIp, parsePrefix, type Family } from '../../model/net.js';
import type { SideEntry } from '../../model/host-state.js';
import type { NftValue } from './types.js';

export const ACCEPT = { accept: null };
export const RETURN = { return: null };
export const DROP = { drop: null };
export const COUNTER = { counter: { packets: 0, bytes: 0 } };
export const mark = { meta: { key: 'mark' } };
export const ctMark = { ct: { key: 'mark' } };
/**
 * Connections vnp marked carry this tag in the top byte of their ct mark (identity in
 * the low 16 bits), so the agent never reads or rewrites ct marks it did not set.
 */
export const CT_MARK_TAG = 0x56000000;
export const CT_TAG_MASK = 0xff000000;
/**
 * Bits 16..23 of a vnp ct mark: the steer class of a steered connection (0: not
 * steered). Such a connection's ct mark is `TAG | k << 16 | k`, so its packets leave
 * with Group Policy ID k (docs/adr/0008-steering.md).
 */
export const CT_STEER_MASK = 0x00ff0000;
export const l4proto = { meta: { key: 'l4proto' } };
export const dport = { payload: { protocol: 'th', field: 'dport' } };
export const ICMP_PROTOS = { set: ['icmp', 'ipv6-icmp'] };
export const iif = { meta: { key: 'iifname' } };
export const oif = { meta: { key: 'oifname' } };
export const ctState = { ct: { key: 'state' } };
export const nfproto = { meta: { key: 'nfproto' } };

export const addr = (family: Family, field: 'saddr' | 'daddr'): NftValue => ({
  payload: { protocol: family === 4 ? 'ip' : 'ip6', field },
});
export const match = (left: NftValue, right: NftValue, op = '=='): NftValue => ({
  match: { op, left, right },
});
export const vmap = (key: NftValue, name: string): NftValue => ({
  vmap: { key, data: `@${name}` },
});
export const setMark = (value: NftValue): NftValue => ({ mangle: { key: mark, value } });
export const lookup = (key: NftValue, name: string): NftValue => ({
  map: { key, data: `@${name}` },
});
/** The packet's source is not an address of the record behind its input veth. */
export const notOwnSource = (family: Family): NftValue[] => [
  match(nfproto, family === 4 ? 'ipv4' : 'ipv6'),
  match({ concat: [iif, addr(family, 'saddr')] }, family === 4 ? '@spoof4' : '@spoof6', '!='),
];

/** The ct mark of connections whose local end is `identity` (set from the `ifct` map). */
export function identityCtMark(identity: number): number {
  return (CT_MARK_TAG | identity) >>> 0;
}

/** Interval element value: a single value or a range. */
function span(lo: NftValue, hi: NftValue, single: boolean): NftValue {
  return single ? lo : { range: [lo, hi] };
}

/**
 * Ports are the last field of every concatenated key, and always a range: nft 1.0.6
 * cannot delete a concatenated interval element whose last field is a single value
 * ("No such file or directory"), while `80-80` adds and deletes fine.
 */
export function portSpan(lo: bigint, hi: bigint): NftValue {
  return { range: [Number(lo), Number(hi)] };
}

export function addrSpan(family: Family, lo: bigint, hi: bigint): NftValue {
  return span(formatIp({ family, value: lo }), formatIp({ family, value: hi }), lo === hi);
}

/** Parses a cidr entry's range (`a-b` or a prefix) into an inclusive bigint range. */
export function parseRange(text: string): { family: Family; lo: bigint; hi: bigint } | undefined {
  const dash = text.indexOf('-');
  if (dash > 0) {
    const a = parseIp(text.slice(0, dash));
    const b = parseIp(text.slice(dash + 1));
    if (!a || !b || a.family !== b.family || a.value > b.value) return undefined;
    return { family: a.family, lo: a.value, hi: b.value };
  }
  const p = parsePrefix(text);
  if (!p) return undefined;
  const host = (1n << BigInt(familyBits(p.ip.family) - p.prefix)) - 1n;
  return { family: p.ip.family, lo: p.ip.value & ~host, hi: (p.ip.value & ~host) | host };
}

/** ICMP entries (verdict or route) carry port 0: they apply when their range holds 0. */
export const icmpApplies = (e: Pick<SideEntry, 'proto' | 'ports'>): boolean =>
  e.proto === 'icmp' && e.ports[0] === 0;
