/**
 * Model state at a past revision, reconstructed from the change log's before/after
 * images (pure). Walking back from the current state: an entry with a before-image
 * restores it; one without (a create) removes the resource.
 */
import { stripMeta } from '../model/strip-meta.js';
import { canonicalTagsJson } from '../model/tags.js';
import type { Document, Kind, Tags } from '../model/types.js';
import type { ChangeRecord } from '../model/change-log.js';

/** The kinds a rollback restores: the policy state, never records. */
export const POLICY_KINDS: readonly Kind[] = ['Policy', 'Partition', 'Reaction', 'Settings'];

/** kind/name → document (metadata dropped). */
export type DocumentSet = Map<string, Document>;

const key = (kind: string, name: string) => `${kind}/${name}`;

/**
 * The state as a map, filtered to `kinds` (all when absent).
 *
 * @example stateOf(engine.allDocuments(), POLICY_KINDS)
 */
export function stateOf(docs: readonly Document[], kinds?: readonly Kind[]): DocumentSet {
  const out: DocumentSet = new Map();
  for (const d of docs)
    if (!kinds || kinds.includes(d.kind)) out.set(key(d.kind, d.name), stripMeta(d));
  return out;
}

/**
 * Undo `records` (every revision after the target, any order) on `current`.
 *
 * @example stateAt(stateOf(engine.allDocuments()), await store.changesSince(5))
 */
export function stateAt(
  current: DocumentSet,
  records: readonly ChangeRecord[],
  kinds?: readonly Kind[],
): DocumentSet {
  const out: DocumentSet = new Map(current);
  const newestFirst = [...records].sort((a, b) => b.revision - a.revision);
  for (const r of newestFirst)
    for (const e of [...r.changes].reverse()) {
      if (kinds && !kinds.includes(e.kind)) continue;
      if (e.before) out.set(key(e.kind, e.name), stripMeta(e.before));
      else out.delete(key(e.kind, e.name));
    }
  return out;
}

/** One resource that differs between two states. */
export interface StateDiff {
  op: 'create' | 'replace' | 'delete';
  kind: Kind;
  name: string;
  before?: Document;
  after?: Document;
}

const same = (a: Document, b: Document) =>
  canonicalTagsJson(a as unknown as Tags) === canonicalTagsJson(b as unknown as Tags);

/**
 * Resources that differ from `from` to `to`, sorted by kind then name.
 *
 * @example diffStates(stateAt(now, log5), stateAt(now, log9)) // [{ op: 'replace', kind: 'Policy', name: 'db-in', … }]
 */
export function diffStates(from: DocumentSet, to: DocumentSet): StateDiff[] {
  const out: StateDiff[] = [];
  for (const k of new Set([...from.keys(), ...to.keys()])) {
    const a = from.get(k);
    const b = to.get(k);
    const d = (a ?? b)!;
    if (a && b && same(a, b)) continue;
    const op = !a ? 'create' : !b ? 'delete' : 'replace';
    out.push({
      op,
      kind: d.kind,
      name: d.name,
      ...(a ? { before: a } : {}),
      ...(b ? { after: b } : {}),
    });
  }
  return out.sort((x, y) =>
    x.kind !== y.kind ? (x.kind < y.kind ? -1 : 1) : x.name < y.name ? -1 : x.name > y.name ? 1 : 0,
  );
}

/**
 * A one-line summary of a change record: "put Interface/web-1, delete Policy/x (+3 more)".
 *
 * @example summarize(record) // 'put Interface/web-1'
 */
export function summarize(r: ChangeRecord, max = 3): string {
  if (r.changes.length === 0) return '(no resource changed)';
  const parts = r.changes.slice(0, max).map((c) => `${c.op} ${c.kind}/${c.name}`);
  const more = r.changes.length - max;
  return parts.join(', ') + (more > 0 ? ` (+${more} more)` : '');
}
