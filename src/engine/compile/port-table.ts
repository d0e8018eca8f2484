/**
 * Disjoint port ranges per protocol, each mapped to the index of the rule that decides
 * it. Built by "painting" rules in precedence order: a port takes the first rule that
 * covers it, so overlapping rules are resolved once, at compile time, and every lookup
 * is a short search in sorted disjoint ranges. This is also the shape nftables needs:
 * its interval maps refuse overlapping elements (design.md §4).
 *
 * @example
 *   const t = paintPorts([[{ proto: 0, lo: 80, hi: 90 }], [{ proto: 0, lo: 85, hi: 85 }]]);
 *   t.lookup(0, 85); // 0 (the first rule in precedence order wins)
 */

/** Protocol indexes used by every compiled table. */
export const PROTO_INDEX = { tcp: 0, udp: 1, sctp: 2, icmp: 3 } as const;
export const PROTO_NAMES = ['tcp', 'udp', 'sctp', 'icmp'] as const;
export const PROTO_COUNT = 4;

/** One protocol's inclusive port interval. */
export interface PortSpan {
  proto: number;
  lo: number;
  hi: number;
}

/** All ports of every protocol: a rule without `ports`. */
export const ALL_TRAFFIC: readonly PortSpan[] = PROTO_NAMES.map((_, proto) => ({
  proto,
  lo: 0,
  hi: 65535,
}));

/** A disjoint interval with the value (rule index) that decides it. */
export interface PortSegment {
  proto: number;
  lo: number;
  hi: number;
  value: number;
}

export class PortTable {
  /**
   * One packed array (one object per table keeps lookups cache-friendly):
   * [start(proto 0..3), end, …] — `PROTO_COUNT + 1` offsets — then per protocol flat
   * [lo0, hi0, v0, lo1, hi1, v1, …] sorted by lo.
   */
  private readonly data: Int32Array;

  /** `rows[proto]` is that protocol's flat [lo, hi, value, …] list, sorted and disjoint. */
  constructor(rows: readonly Int32Array[]) {
    let n = PROTO_COUNT + 1;
    for (let p = 0; p < PROTO_COUNT; p++) n += rows[p]?.length ?? 0;
    const data = new Int32Array(n);
    let at = PROTO_COUNT + 1;
    for (let p = 0; p < PROTO_COUNT; p++) {
      data[p] = at;
      const r = rows[p];
      if (r) {
        data.set(r, at);
        at += r.length;
      }
    }
    data[PROTO_COUNT] = at;
    this.data = data;
  }

  /** The deciding value for (proto, port), or -1 when no rule covers it. */
  lookup(proto: number, port: number): number {
    const d = this.data;
    const start = d[proto]!;
    const end = d[proto + 1]!;
    if (end - start <= 24) {
      for (let i = start; i < end; i += 3) {
        if (port < d[i]!) return -1;
        if (port <= d[i + 1]!) return d[i + 2]!;
      }
      return -1;
    }
    let lo = 0;
    let hi = (end - start) / 3 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = start + mid * 3;
      if (port < d[at]!) hi = mid - 1;
      else if (port > d[at + 1]!) lo = mid + 1;
      else return d[at + 2]!;
    }
    return -1;
  }

  isEmpty(): boolean {
    return this.data[0] === this.data[PROTO_COUNT];
  }

  /** Every segment, protocol by protocol, ascending. */
  segments(): PortSegment[] {
    const out: PortSegment[] = [];
    const d = this.data;
    for (let proto = 0; proto < PROTO_COUNT; proto++) {
      for (let i = d[proto]!; i < d[proto + 1]!; i += 3)
        out.push({ proto, lo: d[i]!, hi: d[i + 1]!, value: d[i + 2]! });
    }
    return out;
  }
}

export const EMPTY_PORT_TABLE = new PortTable(PROTO_NAMES.map(() => new Int32Array(0)));

/**
 * Paints rules (given in precedence order, each as its port spans) into a PortTable whose
 * values are the rules' positions in `rules`. `values` optionally maps position → value.
 */
export function paintPorts(
  rules: readonly (readonly PortSpan[])[],
  values?: readonly number[],
): PortTable {
  const perProto: number[][] = PROTO_NAMES.map(() => []);
  rules.forEach((spans, idx) => {
    const value = values ? values[idx]! : idx;
    for (const span of spans) paintSpan(perProto[span.proto]!, span.lo, span.hi, value);
  });
  return new PortTable(perProto.map((flat) => Int32Array.from(mergeAdjacent(flat))));
}

/** Adds [lo,hi]→value to a sorted disjoint flat list, only where nothing is painted yet. */
function paintSpan(flat: number[], lo: number, hi: number, value: number): void {
  const pieces: number[] = [];
  let cur = lo;
  for (let i = 0; i < flat.length && cur <= hi; i += 3) {
    const a = flat[i]!;
    const b = flat[i + 1]!;
    if (b < cur) continue;
    if (a > hi) break;
    if (a > cur) pieces.push(cur, Math.min(hi, a - 1), value);
    cur = Math.max(cur, b + 1);
  }
  if (cur <= hi) pieces.push(cur, hi, value);
  if (pieces.length === 0) return;
  // Merge pieces into place, keeping the list sorted by lo.
  const merged: number[] = [];
  let i = 0;
  let j = 0;
  while (i < flat.length || j < pieces.length) {
    if (j >= pieces.length || (i < flat.length && flat[i]! < pieces[j]!)) {
      merged.push(flat[i]!, flat[i + 1]!, flat[i + 2]!);
      i += 3;
    } else {
      merged.push(pieces[j]!, pieces[j + 1]!, pieces[j + 2]!);
      j += 3;
    }
  }
  flat.length = 0;
  for (const v of merged) flat.push(v);
}

function mergeAdjacent(flat: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < flat.length; i += 3) {
    const n = out.length;
    if (n > 0 && out[n - 1] === flat[i + 2] && out[n - 2]! + 1 === flat[i])
      out[n - 2] = flat[i + 1]!;
    else out.push(flat[i]!, flat[i + 1]!, flat[i + 2]!);
  }
  return out;
}
