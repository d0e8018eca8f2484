/**
 * Parsed addresses of an interface document. Not memoized: parsing and formatting an
 * address costs well under a microsecond, while a WeakMap memo keyed by the `ips`
 * array cost a load of 100k records ~200 ms (an identity hash and an ephemeron entry
 * per record, plus the garbage collector's ephemeron passes) — more than the three
 * parses per record it saved. The results are short-lived except the `ip` objects a
 * compiled record keeps.
 */
import { ipKey, parseIp, type Ip } from '../../model/net.js';
import type { Interface } from '../../model/types.js';

export interface ParsedAddress {
  text: string;
  /** Undefined when malformed (validation reports it). */
  ip: Ip | undefined;
  /** Canonical text (map key); undefined when malformed. */
  key: string | undefined;
}

export function addressesOf(doc: Pick<Interface, 'ips'>): ParsedAddress[] {
  const out: ParsedAddress[] = [];
  for (let i = 0; i < doc.ips.length; i++) {
    const text = doc.ips[i]!;
    const ip = parseIp(text);
    out.push({ text, ip, key: ip && ipKey(ip) });
  }
  return out;
}
