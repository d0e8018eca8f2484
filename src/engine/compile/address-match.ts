/** Address-range membership for explanations (the hot path uses AddressTable). */
import type { Ip } from '../../model/net.js';
import type { AddressRange } from './address-table.js';

/** True when one of the disjoint ranges holds the address. */
export function cidrContainsRange(ranges: readonly AddressRange[], ip: Ip): boolean {
  for (const r of ranges)
    if (r.family === ip.family && r.lo <= ip.value && ip.value <= r.hi) return true;
  return false;
}
