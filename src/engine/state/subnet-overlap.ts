/**
 * Subnets of one VNI (one L2 overlay segment) must not overlap: an address in both
 * would be ambiguous on the wire. Subnets of different VNIs may overlap (separate
 * segments), but record addresses stay unique across all records (README Limits:
 * the ipcache and `check` resolve an address to one record), so an overlap across
 * VNIs can never hold the same address twice.
 */
import { VnpError } from '../../model/errors.js';
import { cidrLast, parseCidr } from '../../model/net.js';
import type { Subnet } from '../../model/types.js';

interface Span {
  name: string;
  cidr: string;
  /** VNI, or -1 for "the default VNI" (absent). */
  vni: number;
  family: 4 | 6;
  lo: bigint;
  hi: bigint;
}

/**
 * Throw VNP_ERR_CONFLICT for the first two subnets with the same VNI whose ranges
 * overlap, where at least one is in `changed` (overlaps already stored are not
 * this write's fault). O(n log n): sorted by (VNI, family, start), one sweep.
 *
 * @example
 *   checkSubnetOverlaps([{ name: 'a', cidr: '10.0.0.0/16' }, { name: 'b', cidr: '10.0.1.0/24' }], new Set(['b']))
 *   // throws: Subnet "b": cidr: 10.0.1.0/24 overlaps Subnet "a" (10.0.0.0/16) on the same VNI
 */
export function checkSubnetOverlaps(
  subnets: Iterable<Pick<Subnet, 'name' | 'cidr' | 'vni'>>,
  changed: ReadonlySet<string>,
): void {
  const spans: Span[] = [];
  for (const subnet of subnets) {
    const c = parseCidr(subnet.cidr);
    if (c)
      spans.push({
        ...subnet,
        vni: subnet.vni ?? -1,
        family: c.family,
        lo: c.base,
        hi: cidrLast(c),
      });
  }
  spans.sort((a, b) =>
    a.vni !== b.vni ? a.vni - b.vni : a.family !== b.family ? a.family - b.family : cmp(a.lo, b.lo),
  );
  let widest: Span | undefined;
  for (const span of spans) {
    if (
      widest &&
      widest.vni === span.vni &&
      widest.family === span.family &&
      span.lo <= widest.hi
    ) {
      if (changed.has(span.name) || changed.has(widest.name))
        throw overlapError(span, widest, changed);
    }
    if (!widest || widest.vni !== span.vni || widest.family !== span.family || span.hi > widest.hi)
      widest = span;
  }
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function overlapError(a: Span, b: Span, changed: ReadonlySet<string>): VnpError {
  const [mine, other] = changed.has(a.name) ? [a, b] : [b, a];
  const vni = mine.vni < 0 ? 'the default VNI' : `VNI ${mine.vni}`;
  return new VnpError(
    'VNP_ERR_CONFLICT',
    `Subnet "${mine.name}": cidr: ${mine.cidr} overlaps Subnet "${other.name}" (${other.cidr}) on ${vni}; give one of them another vni or a disjoint cidr`,
    { field: 'cidr', kind: 'Subnet', name: mine.name, referrers: [other.name] },
  );
}
