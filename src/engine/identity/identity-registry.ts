/**
 * Live identities: id → identity-relevant tags, the records holding it, and indexes by
 * key and by (key, scalar value) so a new selector is evaluated only against the
 * identities its guard admits (see selector-guard.ts).
 */
import type { Tags } from '../../model/types.js';
import type { Guard, KeyGuard } from './selector-guard.js';

const EMPTY: ReadonlySet<number> = new Set();

export interface IdentityInfo {
  readonly id: number;
  /** Canonical JSON of `tags` (the allocator key). */
  key: string;
  /** Identity-relevant tags only. */
  tags: Tags;
  /** Names of the records holding this identity. */
  readonly records: Set<string>;
  /** Partitions (names, sorted) whose selector matches; maintained by the engine. */
  partitions: string[];
}

export class IdentityRegistry {
  private readonly byId = new Map<number, IdentityInfo>();
  private readonly byKey = new Map<string, Set<number>>();
  /** key → scalar value → ids (two levels: no "key=value" text built per identity). */
  private readonly byEq = new Map<string, Map<string | number | boolean, Set<number>>>();

  add(info: IdentityInfo): void {
    this.byId.set(info.id, info);
    this.index(info, +1);
  }

  remove(id: number): IdentityInfo | undefined {
    const info = this.byId.get(id);
    if (!info) return undefined;
    this.index(info, -1);
    this.byId.delete(id);
    return info;
  }

  /** Replaces an identity's tags (re-keyed in place), keeping indexes right. */
  retag(info: IdentityInfo, key: string, tags: Tags): void {
    this.index(info, -1);
    info.key = key;
    info.tags = tags;
    this.index(info, +1);
  }

  /**
   * An independent copy (for Engine.fork): infos copied with their own record sets, the
   * indexes copied set by set — not rebuilt, so they iterate in the same order and the
   * copy evaluates selectors, and lists what changed, in the source's order.
   */
  clone(): IdentityRegistry {
    const c = new IdentityRegistry();
    for (const info of this.byId.values())
      c.byId.set(info.id, {
        ...info,
        records: new Set(info.records),
        partitions: [...info.partitions],
      });
    for (const [k, ids] of this.byKey) c.byKey.set(k, new Set(ids));
    for (const [k, byValue] of this.byEq) {
      const copy = new Map<string | number | boolean, Set<number>>();
      for (const [v, ids] of byValue) copy.set(v, new Set(ids));
      c.byEq.set(k, copy);
    }
    return c;
  }

  get(id: number): IdentityInfo | undefined {
    return this.byId.get(id);
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  values(): IterableIterator<IdentityInfo> {
    return this.byId.values();
  }

  ids(): IterableIterator<number> {
    return this.byId.keys();
  }

  get size(): number {
    return this.byId.size;
  }

  /** Identities that may satisfy a guard (a superset of the matching ones). */
  candidates(g: Guard): Iterable<number> {
    if (g.kind === 'always') return this.byId.keys();
    // Every alternative is a necessary condition too: the smallest set is the cheapest.
    let best = this.guardSet(g);
    for (const alt of g.alternatives ?? []) {
      if (best.size === 0) break;
      const set = this.guardSet(alt);
      if (set.size < best.size) best = set;
    }
    return best;
  }

  private guardSet(g: KeyGuard): ReadonlySet<number> {
    const set = g.kind === 'eq' ? this.byEq.get(g.key)?.get(g.value) : this.byKey.get(g.key);
    return set ?? EMPTY;
  }

  private index(info: IdentityInfo, d: 1 | -1): void {
    for (const k of Object.keys(info.tags)) {
      bump(this.byKey, k, info.id, d);
      const v = info.tags[k]!;
      if (typeof v === 'object') continue; // eq guards compare scalars only (see guardOf)
      let byValue = this.byEq.get(k);
      if (!byValue) {
        if (d < 0) continue;
        this.byEq.set(k, (byValue = new Map()));
      }
      bump(byValue, v, info.id, d);
      if (byValue.size === 0) this.byEq.delete(k);
    }
  }
}

function bump<K>(map: Map<K, Set<number>>, k: K, id: number, d: 1 | -1): void {
  let set = map.get(k);
  if (d > 0) {
    if (!set) map.set(k, (set = new Set()));
    set.add(id);
  } else if (set) {
    set.delete(id);
    if (set.size === 0) map.delete(k);
  }
}
