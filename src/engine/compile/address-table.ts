/**
 * CIDR peers resolved into disjoint address intervals, each with the port table of the
 * CIDR rules that cover it (design.md §1 Rules: `cidr` minus `except`). Built per side
 * only when that side has CIDR rules, so the common case pays nothing.
 *
 * @example
 *   const t = buildAddressTable([[{ family: 4, lo: 0x0a000000n, hi: 0x0affffffn }]], [ALL_TRAFFIC]);
 *   t.lookup(4, 0x0a000001n)?.lookup(0, 443); // 0
 */
import type { Family } from '../../model/net.js';
import { paintPorts, type PortSpan, type PortTable } from './port-table.js';

/** An inclusive address interval of one family. */
export interface AddressRange {
  family: Family;
  lo: bigint;
  hi: bigint;
}

/** One disjoint interval and the rules (positions) covering it, in precedence order. */
export interface AddressSegment extends AddressRange {
  rules: number[];
  ports: PortTable;
}

export class AddressTable {
  private readonly byFamily: Record<Family, AddressSegment[]>;

  constructor(segments: AddressSegment[]) {
    this.byFamily = { 4: [], 6: [] };
    for (const segment of segments) this.byFamily[segment.family].push(segment);
  }

  /** The segment holding the address, if any rule covers it. */
  lookup(family: Family, addr: bigint): AddressSegment | undefined {
    const segs = this.byFamily[family];
    let lo = 0;
    let hi = segs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const segment = segs[mid]!;
      if (addr < segment.lo) hi = mid - 1;
      else if (addr > segment.hi) lo = mid + 1;
      else return segment;
    }
    return undefined;
  }

  segments(): AddressSegment[] {
    return [...this.byFamily[4], ...this.byFamily[6]];
  }

  isEmpty(): boolean {
    return this.byFamily[4].length === 0 && this.byFamily[6].length === 0;
  }
}

/**
 * Builds the table from rules in precedence order: `ranges[i]` are rule i's addresses
 * (already less its exceptions), `ports[i]` its port spans; `values[i]` (default i) is
 * what lookups return for rule i.
 */
export function buildAddressTable(
  ranges: readonly (readonly AddressRange[])[],
  ports: readonly (readonly PortSpan[])[],
  values?: readonly number[],
): AddressTable {
  const segments: AddressSegment[] = [];
  for (const family of [4, 6] as const) {
    const bounds = new Set<bigint>();
    ranges.forEach((rs) => {
      for (const r of rs) {
        if (r.family !== family) continue;
        bounds.add(r.lo);
        bounds.add(r.hi + 1n);
      }
    });
    const sorted = [...bounds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let prev: AddressSegment | undefined;
    for (let i = 0; i + 1 < sorted.length; i++) {
      const lo = sorted[i]!;
      const hi = sorted[i + 1]! - 1n;
      const covering: number[] = [];
      ranges.forEach((rs, idx) => {
        if (rs.some((r) => r.family === family && r.lo <= lo && hi <= r.hi)) covering.push(idx);
      });
      if (covering.length === 0) {
        prev = undefined;
        continue;
      }
      const vals = covering.map((r) => (values ? values[r]! : r));
      if (prev && prev.hi + 1n === lo && sameList(prev.rules, vals)) {
        prev.hi = hi;
        continue;
      }
      prev = {
        family,
        lo,
        hi,
        rules: vals,
        ports: paintPorts(
          covering.map((r) => ports[r]!),
          vals,
        ),
      };
      segments.push(prev);
    }
  }
  return new AddressTable(segments);
}

/** `range` less every range in `minus` (all of one family), as disjoint ranges. */
export function subtractRanges(
  range: AddressRange,
  minus: readonly AddressRange[],
): AddressRange[] {
  let parts: AddressRange[] = [range];
  for (const m of minus) {
    if (m.family !== range.family) continue;
    const next: AddressRange[] = [];
    for (const p of parts) {
      if (m.hi < p.lo || m.lo > p.hi) {
        next.push(p);
        continue;
      }
      if (m.lo > p.lo) next.push({ family: p.family, lo: p.lo, hi: m.lo - 1n });
      if (m.hi < p.hi) next.push({ family: p.family, lo: m.hi + 1n, hi: p.hi });
    }
    parts = next;
  }
  return parts;
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
