/**
 * A union of address ranges, merged into disjoint sorted intervals per family, that
 * answers "is this address inside any of them?" in O(log n). The engine keeps one over
 * every CIDR peer in the documents so that the verdict fast path can tell, per record,
 * whether any CIDR rule could ever see its address (see Engine.verdict).
 *
 * @example new AddressSet([{ family: 4, lo: 10n, hi: 20n }]).has({ family: 4, value: 15n }) // true
 */
import type { Family, Ip } from '../../model/net.js';
import type { AddressRange } from './address-table.js';

interface Intervals {
  lo: bigint[];
  hi: bigint[];
}

export class AddressSet {
  private readonly byFamily: Record<Family, Intervals>;

  constructor(ranges: Iterable<AddressRange>) {
    const all = [...ranges];
    this.byFamily = { 4: merge(all, 4), 6: merge(all, 6) };
  }

  has(ip: Ip): boolean {
    const { lo, hi } = this.byFamily[ip.family];
    let a = 0;
    let b = lo.length - 1;
    while (a <= b) {
      const mid = (a + b) >> 1;
      if (ip.value < lo[mid]!) b = mid - 1;
      else if (ip.value > hi[mid]!) a = mid + 1;
      else return true;
    }
    return false;
  }

  get size(): number {
    return this.byFamily[4].lo.length + this.byFamily[6].lo.length;
  }
}

/** Disjoint, sorted, non-adjacent intervals covering exactly the family's ranges. */
function merge(ranges: readonly AddressRange[], family: Family): Intervals {
  const sorted = ranges
    .filter((r) => r.family === family)
    .sort((x, y) => (x.lo < y.lo ? -1 : x.lo > y.lo ? 1 : 0));
  const out: Intervals = { lo: [], hi: [] };
  for (const r of sorted) {
    const last = out.hi.length - 1;
    if (last >= 0 && r.lo <= out.hi[last]! + 1n) {
      if (r.hi > out.hi[last]!) out.hi[last] = r.hi;
    } else {
      out.lo.push(r.lo);
      out.hi.push(r.hi);
    }
  }
  return out;
}
