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
  /** Per protocol: flat [lo0, hi0, v0, lo1, hi1, v1, …] sorted by lo. */
  private readonly rows: Int32Array[];

  constructor(rows: Int32Array[]) {
    this.rows = rows;
  }

  /** The deciding value for (proto, port), or -1 when no rule covers it. */
  lookup(proto: number, port: number): number {
    const r = this.rows[proto]!;
    const n = r.length;
    if (n <= 24) {
      for (let i = 0; i < n; i += 3) {
        if (port < r[i]!) return -1;
        if (port <= r[i + 1]!) return r[i + 2]!;
      }
      return -1;
    }
    let lo = 0;
    let hi = n / 3 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = mid * 3;
      if (port < r[at]!) hi = mid - 1;
      else if (port > r[at + 1]!) lo = mid + 1;
      else return r[at + 2]!;
    }
    return -1;
  }

  isEmpty(): boolean {
    return this.rows.every((r) => r.length === 0);
  }

  /** Every segment, protocol by protocol, ascending. */
  segments(): PortSegment[] {
    const out: PortSegment[] = [];
    this.rows.forEach((r, proto) => {
      for (let i = 0; i < r.length; i += 3)
        out.push({ proto, lo: r[i]!, hi: r[i + 1]!, value: r[i + 2]! });
    });
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
    for (const s of spans) paintSpan(perProto[s.proto]!, s.lo, s.hi, value);
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
