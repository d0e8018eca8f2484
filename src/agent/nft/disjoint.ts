/**
 * Defensive disjointness: the manager sends precedence-resolved, disjoint entries,
 * but the kernel refuses overlapping interval elements ("File exists"), so the
 * renderer never trusts that blindly. Overlaps are resolved by the §2 tie-break
 * (deny beats log beats allow); disjoint input passes through unchanged in
 * O(n log n).
 */
import type { SideVerdict } from '../../model/host-state.js';

/** A final verdict and, for `log`, the rule it logs as. */
export interface Verdict {
  kind: SideVerdict;
  policy: string;
  rule: string;
}

/** One inclusive interval with a verdict. */
export interface Interval<V> {
  lo: bigint;
  hi: bigint;
  v: V;
}

const STRICTNESS: Record<SideVerdict, number> = { allow: 0, log: 1, deny: 2 };

/**
 * The stricter of two verdicts; on a tie, the one naming the smaller (policy, rule), so
 * the result never depends on the entries' order (the incremental table meets a
 * group's entries in another order than a full render does). The engine's entries
 * never overlap; overlapping ones come from hand-made or random states.
 */
export function stricter(a: Verdict, b: Verdict): Verdict {
  if (STRICTNESS[b.kind] !== STRICTNESS[a.kind])
    return STRICTNESS[b.kind] > STRICTNESS[a.kind] ? b : a;
  if (b.policy !== a.policy) return b.policy < a.policy ? b : a;
  return b.rule < a.rule ? b : a;
}

/**
 * Whether two verdicts render the same: log and deny verdicts also by the rule they
 * name (each jumps to its rule's chain: a log line, an exact per-rule deny count).
 */
export function sameVerdict(a: Verdict, b: Verdict): boolean {
  return a.kind === b.kind && (a.kind === 'allow' || (a.policy === b.policy && a.rule === b.rule));
}

function sorted<V>(items: readonly Interval<V>[]): Interval<V>[] {
  return [...items].sort((a, b) =>
    a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : a.hi < b.hi ? -1 : a.hi > b.hi ? 1 : 0,
  );
}

/** Whether sorted intervals are pairwise disjoint. */
function isDisjoint<V>(items: readonly Interval<V>[]): boolean {
  for (let i = 1; i < items.length; i++) if (items[i]!.lo <= items[i - 1]!.hi) return false;
  return true;
}

/**
 * Makes intervals pairwise disjoint: where several cover a point, `pick` merges
 * their values; adjacent pieces with `same` values are joined again.
 *
 * @example resolveIntervals([{lo: 0n, hi: 9n, v: 'a'}, {lo: 5n, hi: 5n, v: 'b'}], (x, y) => x + y, (x, y) => x === y)
 *   // [{0..4 a}, {5..5 ab}, {6..9 a}]
 */
export function resolveIntervals<V>(
  items: readonly Interval<V>[],
  pick: (a: V, b: V) => V,
  same: (a: V, b: V) => boolean,
): Interval<V>[] {
  const s = sorted(items);
  if (isDisjoint(s)) return s;
  const points = [...new Set(s.flatMap((i) => [i.lo, i.hi + 1n]))].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const out: Interval<V>[] = [];
  for (let p = 0; p + 1 < points.length; p++) {
    const lo = points[p]!;
    const hi = points[p + 1]! - 1n;
    let v: V | undefined;
    for (const it of s) if (it.lo <= lo && it.hi >= lo) v = v === undefined ? it.v : pick(v, it.v);
    if (v === undefined) continue;
    const last = out[out.length - 1];
    if (last && last.hi + 1n === lo && same(last.v, v)) last.hi = hi;
    else out.push({ lo, hi, v });
  }
  return out;
}

/** Disjoint port intervals with the strictest verdict where entries overlap. */
export function resolvePorts(items: readonly Interval<Verdict>[]): Interval<Verdict>[] {
  return resolveIntervals(items, stricter, sameVerdict);
}

/** Port intervals as a comparable value (for joining address pieces). */
type PortList = Interval<Verdict>[];

function samePortList(a: PortList, b: PortList): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => x.lo === b[i]!.lo && x.hi === b[i]!.hi && sameVerdict(x.v, b[i]!.v))
  );
}

/** An address interval holding a port interval: one cidr element. */
export interface Cell {
  alo: bigint;
  ahi: bigint;
  plo: bigint;
  phi: bigint;
  v: Verdict;
}

/**
 * Makes (address range × port range) cells disjoint. Address ranges are split
 * at every boundary; each piece gets the resolved port list of the cells that
 * cover it; equal neighbouring pieces are joined.
 *
 * @example resolveCells([{alo: 0n, ahi: 255n, plo: 80n, phi: 80n, v: allow}]) // unchanged
 */
export function resolveCells(cells: readonly Cell[]): Cell[] {
  const byAddr = new Map<string, Interval<PortList>>();
  for (const c of cells) {
    const k = `${c.alo}-${c.ahi}`;
    const g = byAddr.get(k) ?? { lo: c.alo, hi: c.ahi, v: [] };
    g.v.push({ lo: c.plo, hi: c.phi, v: c.v });
    byAddr.set(k, g);
  }
  const groups = [...byAddr.values()];
  const merged = resolveIntervals(
    groups.map((g) => ({ ...g, v: resolvePorts(g.v) })),
    (a, b) => resolvePorts([...a, ...b]),
    samePortList,
  );
  return merged.flatMap((g) =>
    g.v.map((p) => ({ alo: g.lo, ahi: g.hi, plo: p.lo, phi: p.hi, v: p.v })),
  );
}
