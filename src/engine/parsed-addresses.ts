/**
 * Parsed addresses of an interface document, memoized by its `ips` array: a load of
 * 100k records would otherwise parse and format each address in validation, indexing
 * and identity derivation alike. Documents are treated as immutable once handed to the
 * engine, so the memo can never go stale.
 */
import { ipKey, parseIp, type Ip } from '../model/net.js';
import type { Interface } from '../model/types.js';

export interface ParsedAddress {
  text: string;
  /** Undefined when malformed (validation reports it). */
  ip: Ip | undefined;
  /** Canonical text (map key); undefined when malformed. */
  key: string | undefined;
}

const memo = new WeakMap<readonly string[], ParsedAddress[]>();

export function addressesOf(doc: Pick<Interface, 'ips'>): ParsedAddress[] {
  let out = memo.get(doc.ips);
  if (out === undefined) {
    out = doc.ips.map((text) => {
      const ip = parseIp(text);
      return { text, ip, key: ip && ipKey(ip) };
    });
    memo.set(doc.ips, out);
  }
  return out;
}
