/**
 * The selector cache (Cilium `pkg/policy` style): each distinct selector, by canonical
 * text, is parsed and compiled once and maps to the set of identities it selects.
 * Users (policies, partitions, rule peers) retain and release entries; the union of
 * the keys read by retained selectors is the identity-relevant key set (design.md §3).
 *
 * Invariant: for every retained entry E and live identity X,
 *   E.members.has(X.id) === E.matches(X.tags)
 * once the engine has evaluated pending entries/identities (see Engine.apply).
 *
 * @example
 *   const cache = new SelectorCache();
 *   const e = cache.retain('app == "web"');
 *   e.matches({ app: 'web' }); // true
 */
import {
  canonicalSelector,
  compileSelector,
  parseSelectorCached,
  selectorKeys,
  type TagPredicate,
} from '../../selector/index.js';
import type { Tags } from '../../model/types.js';
import { guardOf, type Guard } from './selector-guard.js';
import { TagKeyInterner } from './tag-key-interner.js';

export interface SelectorEntry {
  /** Canonical text (the cache key). */
  readonly text: string;
  readonly matches: TagPredicate;
  readonly keys: ReadonlySet<string>;
  /** Necessary condition used to index candidates (see selector-guard.ts). */
  readonly guard: Guard;
  /** Identities currently selected. */
  readonly members: Set<number>;
  /** Number of users holding it. */
  users: number;
  /** True until evaluated against every live identity. */
  pending: boolean;
}

export class SelectorCache {
  private readonly entries = new Map<string, SelectorEntry>();
  /** key → number of retained entries reading it. */
  private readonly keyRefs = new Map<string, number>();
  /** The relevant key set as of the last `takeKeysChanged`. */
  private lastKeys = new Set<string>();
  /** Entries with an eq guard: key → scalar value → entries (no "key=value" text per lookup). */
  private readonly byEq = new Map<string, Map<string | number | boolean, Set<SelectorEntry>>>();
  private readonly byKey = new Map<string, Set<SelectorEntry>>();
  private readonly always = new Set<SelectorEntry>();
  /** Reused by projectedKey (one array, not one per record). */
  private readonly keyScratch: string[] = [];
  private readonly keyTexts = new TagKeyInterner();

  /** Retains (creating if needed) the entry for selector text. Throws on a syntax error. */
  retain(text: string): SelectorEntry {
    const canon = canonicalSelector(text);
    let e = this.entries.get(canon);
    if (!e) {
      const ast = parseSelectorCached(canon);
      e = {
        text: canon,
        matches: compileSelector(ast),
        keys: selectorKeys(ast),
        guard: guardOf(ast),
        members: new Set(),
        users: 0,
        pending: true,
      };
      this.entries.set(canon, e);
      this.indexSet(e)?.add(e);
      for (const k of e.keys) this.bumpKey(k, +1);
    }
    e.users++;
    return e;
  }

  /** Releases one use; an entry without users is dropped. */
  release(e: SelectorEntry): void {
    e.users--;
    if (e.users > 0) return;
    this.entries.delete(e.text);
    this.indexSet(e)?.delete(e);
    for (const k of e.keys) this.bumpKey(k, -1);
  }

  /** Entries that may match these (identity) tags: a superset of the matching ones. */
  candidates(tags: Tags): SelectorEntry[] {
    const out: SelectorEntry[] = [...this.always];
    for (const k of Object.keys(tags)) {
      const byKey = this.byKey.get(k);
      if (byKey) for (const e of byKey) out.push(e);
      const v = tags[k]!;
      const byEq = typeof v === 'object' ? undefined : this.byEq.get(k)?.get(v);
      if (byEq) for (const e of byEq) out.push(e);
    }
    return out;
  }

  private indexSet(e: SelectorEntry): Set<SelectorEntry> | undefined {
    const g = e.guard;
    if (g.kind === 'always') return this.always;
    let map = this.byKey as Map<string | number | boolean, Set<SelectorEntry>>;
    let k: string | number | boolean = g.key;
    if (g.kind === 'eq') {
      const byValue = this.byEq.get(g.key);
      if (byValue) map = byValue;
      else this.byEq.set(g.key, (map = new Map()));
      k = g.value;
    }
    let set = map.get(k);
    if (!set) {
      set = new Set();
      map.set(k, set);
    }
    return set;
  }

  /**
   * An independent copy (for Engine.fork): every entry copied with its own member set
   * (predicates, keys and guards are immutable: shared), the indexes rebuilt. Returns
   * the copy and each entry's counterpart, for the holders of entries to re-point.
   */
  clone(): { cache: SelectorCache; entryOf: Map<SelectorEntry, SelectorEntry> } {
    const cache = new SelectorCache();
    const entryOf = new Map<SelectorEntry, SelectorEntry>();
    for (const e of this.entries.values()) {
      const copy: SelectorEntry = { ...e, members: new Set(e.members) };
      entryOf.set(e, copy);
      cache.entries.set(copy.text, copy);
      cache.indexSet(copy)?.add(copy);
    }
    for (const [k, n] of this.keyRefs) cache.keyRefs.set(k, n);
    cache.lastKeys = new Set(this.lastKeys);
    return { cache, entryOf };
  }

  get(text: string): SelectorEntry | undefined {
    return this.entries.get(canonicalSelector(text));
  }

  all(): IterableIterator<SelectorEntry> {
    return this.entries.values();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Identity-relevant keys: read by some retained selector. */
  relevantKeys(): ReadonlySet<string> {
    return new Set(this.keyRefs.keys());
  }

  isRelevant(key: string): boolean {
    return this.keyRefs.has(key);
  }

  /** True when the relevant key set differs from what it was at the last call. */
  takeKeysChanged(): boolean {
    const now = this.keyRefs;
    const changed =
      now.size !== this.lastKeys.size || [...now.keys()].some((k) => !this.lastKeys.has(k));
    if (changed) this.lastKeys = new Set(now.keys());
    return changed;
  }

  /** The tags restricted to relevant keys (what an identity is made of). */
  project(tags: Tags): Tags {
    const out: Tags = {};
    for (const k of Object.keys(tags)) if (this.keyRefs.has(k)) out[k] = tags[k]!;
    return out;
  }

  /**
   * `canonicalTagsJson(project(tags))` without building the projection or the text: the
   * identity key of a record, derived for every record of a load (see TagKeyInterner).
   */
  projectedKey(tags: Tags): string {
    const keys = this.keyScratch;
    keys.length = 0;
    for (const k of Object.keys(tags)) if (this.keyRefs.has(k)) keys.push(k);
    // Insertion sort: a record has a handful of relevant keys.
    for (let i = 1; i < keys.length; i++) {
      const k = keys[i]!;
      let j = i - 1;
      for (; j >= 0 && keys[j]! > k; j--) keys[j + 1] = keys[j]!;
      keys[j + 1] = k;
    }
    return this.keyTexts.keyOf(tags, keys);
  }

  private bumpKey(k: string, d: number): void {
    const n = (this.keyRefs.get(k) ?? 0) + d;
    if (n <= 0) this.keyRefs.delete(k);
    else this.keyRefs.set(k, n);
  }
}
