/**
 * Events and reaction expiries as stored (design.md §1 Reaction): what the store keeps,
 * and what the reactor plans and reads.
 */
import type { JsonValue, Tags } from './types.js';
import type { ChangeRecord, CommitRequest } from './change-log.js';

/** An event received by the manager (design.md §1 Reaction), as stored. */
export interface StoredEvent {
  /** Assigned by the store, increasing. */
  id: number;
  at: string;
  /** Event type, e.g. `ids.alert`, `suricata.alert`. */
  type: string;
  /** As given: a record name or an address. */
  target: string;
  /** The interface record the target resolved to, if any. */
  record?: string;
  severity?: number;
  details?: JsonValue;
  actor: string;
  /** Names of the reactions that fired. */
  reactions: string[];
}

/**
 * A pending undo of a reaction with a `ttl` on one record: at `expiresAt` the
 * tags the reaction set are removed (or their prior values restored) and the
 * tags it removed are restored. One row per (record, reaction): a repeated
 * event moves `expiresAt` and keeps the original prior values.
 */
export interface ReactionExpiry {
  record: string;
  reaction: string;
  expiresAt: string;
  /** Tags the reaction set, with the values it set. */
  set: Tags;
  /** Tags the reaction removed (keys). */
  removed: string[];
  /** Values before the reaction of keys it set or removed (only keys that were present). */
  prior: Tags;
  eventId?: number;
}

/**
 * An event and everything it causes, committed in ONE transaction by
 * `Store.commitEvent`: the event row, its expiries and (optionally) the resource
 * change with its change-log/audit row. One durable commit per event, and no
 * state where one part exists without the others.
 */
export interface EventCommit {
  event: Omit<StoredEvent, 'id'>;
  /**
   * Expiries to create or extend (their `eventId` becomes the new event's id). A
   * pending expiry of the same (record, reaction) keeps its undo (`set`, `removed`,
   * `prior`, recorded at the first firing) and its `expiresAt` moves to the later
   * of the two: a repeated event extends, it never stacks.
   */
  expiries: Omit<ReactionExpiry, 'eventId'>[];
  /**
   * The resource change the event causes, committed at `event.at` like
   * `Store.commit` (same conflict check); absent when the event changes no resource.
   * The audit action is built from the event id the store assigns.
   */
  change?: Omit<CommitRequest, 'at' | 'action'> & { action: (eventId: number) => string };
}

/** What `Store.commitEvent` committed. */
export interface EventCommitted {
  event: StoredEvent;
  /** The expiries as stored (after extension), in request order. */
  expiries: ReactionExpiry[];
  /** The committed change record, when the request carried a change. */
  record?: ChangeRecord;
}
