/**
 * Which reactions an event fires and what they do to the target's tags
 * (design.md §1 Reaction). Pure: the caller passes the reactions, the target's
 * tags and the time.
 *
 * Invariants:
 * - A reaction fires when its `on` equals the event type (or one of the event's
 *   aliases, e.g. `suricata:<category>` beside `suricata.alert`) and its `match`
 *   selector (absent = any record) matches the target's tags *before* the event.
 * - Reactions are applied in name order; a later one sees the tags the earlier
 *   ones produced, so the result does not depend on the order they were listed.
 * - With `ttl`, the undo is recorded against the tags before the firing. A
 *   repeated event while an expiry is pending is the store's to merge
 *   (Store.commitEvent keeps the first undo and only moves `expiresAt` later), so
 *   it never stacks a second undo that would "restore" reaction tags.
 */
import { canonicalTagsJson } from '../model/tags.js';
import type { Reaction, TagValue, Tags } from '../model/types.js';
import { compileSelectorCached } from '../selector/index.js';
import type { ReactionExpiry } from '../model/event-log.js';

/** What one event does to one record. */
export interface ReactionPlan {
  /** Names of the reactions that fired, sorted. */
  fired: string[];
  /** The target's tags after every fired reaction. */
  tags: Tags;
  /** True when `tags` differ from the tags before. */
  changed: boolean;
  /** Expiries to store (the store extends a pending one), one per fired reaction with a ttl. */
  expiries: ReactionExpiry[];
}

/** Deep equality of two tag values (JSON tags compared canonically). */
export function sameTagValue(a: TagValue | undefined, b: TagValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  return canonicalTagsJson({ v: a }) === canonicalTagsJson({ v: b });
}

/**
 * Does this reaction fire on this event type for a target with these tags?
 *
 * @example
 *   reactionFires({ name: 'q', on: 'ids.alert', match: 'env == "prod"' }, 'ids.alert', { env: 'prod' }) // true
 */
export function reactionFires(
  reaction: Reaction,
  type: string | readonly string[],
  tags: Tags,
): boolean {
  if (typeof type === 'string' ? reaction.on !== type : !type.includes(reaction.on)) return false;
  return reaction.match === undefined || compileSelectorCached(reaction.match)(tags);
}

/** Apply one reaction's tag change; returns the new tags. */
function applyReaction(r: Reaction, tags: Tags): Tags {
  const out: Tags = { ...tags };
  for (const k of r.removeTags ?? []) delete out[k];
  for (const [k, v] of Object.entries(r.addTags ?? {})) out[k] = structuredClone(v);
  return out;
}

/** The undo record of one firing, against the tags before it. */
function undoOf(r: Reaction, before: Tags): Pick<ReactionExpiry, 'set' | 'removed' | 'prior'> {
  const set = structuredClone(r.addTags ?? {});
  const removed = (r.removeTags ?? []).filter((k) => k in before && !(k in set));
  const prior: Tags = {};
  for (const k of [...Object.keys(set), ...removed])
    if (k in before) prior[k] = structuredClone(before[k]!);
  return { set, removed, prior };
}

/**
 * Plan an event on one record.
 *
 * @example
 *   planReactions({
 *     type: 'ids.alert', tags: { app: 'web' }, now: 0,
 *     reactions: [{ name: 'q', on: 'ids.alert', addTags: { quarantine: true }, ttl: 300 }],
 *     record: 'web-1',
 *   })
 *   // { fired: ['q'], tags: { app: 'web', quarantine: true }, changed: true,
 *   //   expiries: [{ record: 'web-1', reaction: 'q', expiresAt: '1970-01-01T00:05:00.000Z', set: { quarantine: true }, removed: [], prior: {} }] }
 */
export function planReactions(input: {
  /** The event type, or the type and its aliases. */
  type: string | readonly string[];
  record: string;
  tags: Tags;
  reactions: readonly Reaction[];
  now: number;
}): ReactionPlan {
  const fired = input.reactions
    .filter((r) => reactionFires(r, input.type, input.tags))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let tags = input.tags;
  const expiries: ReactionExpiry[] = [];
  for (const r of fired) {
    const before = tags;
    tags = applyReaction(r, tags);
    if (r.ttl === undefined) continue;
    expiries.push({
      record: input.record,
      reaction: r.name,
      expiresAt: new Date(input.now + r.ttl * 1000).toISOString(),
      ...undoOf(r, before),
    });
  }
  const changed = canonicalTagsJson(tags) !== canonicalTagsJson(input.tags);
  return { fired: fired.map((r) => r.name), tags, changed, expiries };
}

/**
 * The tags after undoing an expiry: a key the reaction set goes back to its prior
 * value (or away) only if it still holds what the reaction set — someone who
 * changed it since wins; a key it removed comes back only if still absent.
 * Idempotent: undoing twice equals undoing once.
 *
 * @example
 *   undoExpiry({ app: 'web', quarantine: true }, { set: { quarantine: true }, removed: [], prior: {} })
 *   // { app: 'web' }
 */
export function undoExpiry(tags: Tags, x: Pick<ReactionExpiry, 'set' | 'removed' | 'prior'>): Tags {
  const out: Tags = { ...tags };
  for (const [k, v] of Object.entries(x.set)) {
    if (!sameTagValue(out[k], v)) continue;
    if (k in x.prior) out[k] = structuredClone(x.prior[k]!);
    else delete out[k];
  }
  for (const k of x.removed) {
    if (!(k in out) && k in x.prior) out[k] = structuredClone(x.prior[k]!);
  }
  return out;
}
