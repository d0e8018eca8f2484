/**
 * The §2.2 default (design.md): the verdict of a side on which no rule matched. The
 * engine (check, host states, per-pair cache) and the impact preview both decide it
 * here, so a preview can never disagree with what the engine enforces.
 */
import type { IntraDefault, Settings } from '../../model/types.js';

/** A pair's default and which clause of §2.2 decided it. */
export interface PairDefault {
  verdict: IntraDefault;
  /** `intra`: a shared partition; else the settings default that applied. */
  by: 'intra' | 'unpartitioned' | 'crossPartition';
  /** Partitions both endpoints are in, in the source's order (empty unless `by` is intra). */
  shared: string[];
  /** The first shared partition whose `intra` is deny (set iff intra decided deny). */
  denying?: string;
}

/**
 * The default between endpoints in partitions `a` (source) and `b` (destination); an
 * address outside every record is in none (`[]`). `intraOf` reads a partition's
 * `intra`: only `deny` denies, so an unknown partition counts as allow.
 *
 * @example
 *   const defaults = { unpartitioned: 'allow', crossPartition: 'deny' } as const;
 *   pairDefault(['pay'], ['pay', 'ops'], (p) => (p === 'pay' ? 'deny' : 'allow'), defaults)
 *   // { verdict: 'deny', by: 'intra', shared: ['pay'], denying: 'pay' }
 *   pairDefault([], [], () => undefined, defaults)
 *   // { verdict: 'allow', by: 'unpartitioned', shared: [] }
 */
export function pairDefault(
  a: readonly string[],
  b: readonly string[],
  intraOf: (partition: string) => IntraDefault | undefined,
  defaults: Settings['defaults'],
): PairDefault {
  const shared = a.filter((p) => b.includes(p));
  if (shared.length > 0) {
    const denying = shared.find((p) => intraOf(p) === 'deny');
    return denying === undefined
      ? { verdict: 'allow', by: 'intra', shared }
      : { verdict: 'deny', by: 'intra', shared, denying };
  }
  if (a.length === 0 && b.length === 0)
    return { verdict: defaults.unpartitioned, by: 'unpartitioned', shared };
  return { verdict: defaults.crossPartition, by: 'crossPartition', shared };
}

/**
 * {@link pairDefault}'s verdict alone, allocating nothing: a new identity's default row
 * asks it of every member of its partition (a third of every identity at 6,000
 * records) on the write that makes it.
 *
 * @example pairDefaultVerdict(['pay'], ['pay'], () => 'deny', defaults) // 'deny'
 */
export function pairDefaultVerdict(
  a: readonly string[],
  b: readonly string[],
  intraOf: (partition: string) => IntraDefault | undefined,
  defaults: Settings['defaults'],
): IntraDefault {
  let shared = false;
  for (const p of a) {
    if (!b.includes(p)) continue;
    if (intraOf(p) === 'deny') return 'deny';
    shared = true;
  }
  if (shared) return 'allow';
  return a.length === 0 && b.length === 0 ? defaults.unpartitioned : defaults.crossPartition;
}

/**
 * The explanation of a default, as `check` reports it.
 *
 * @example
 *   pairDefaultReason({ verdict: 'deny', by: 'crossPartition', shared: [] })
 *   // 'no rule matched; the endpoints share no partition: defaults.crossPartition is deny'
 */
export function pairDefaultReason(d: PairDefault): string {
  if (d.by === 'intra') {
    const list = d.shared.map((p) => `"${p}"`).join(', ');
    return d.denying === undefined
      ? `no rule matched; source and destination share partition ${list} (intra allow)`
      : `no rule matched; source and destination share partition ${list} and "${d.denying}" has intra deny`;
  }
  if (d.by === 'unpartitioned')
    return `no rule matched; neither endpoint is in any partition: defaults.unpartitioned is ${d.verdict}`;
  return `no rule matched; the endpoints share no partition: defaults.crossPartition is ${d.verdict}`;
}
