/**
 * The reactions part of the Store (events, expiries) over a SqlClient; SqlStore
 * delegates to these so both backends share them.
 */
import { fieldError } from '../../model/errors.js';
import type { JsonValue, Tags } from '../../model/types.js';
import type { ReactionExpiry, StoredEvent } from '../types.js';
import * as Q from './reaction-queries.js';
import { toIso, toJson, toRevision } from './rows.js';
import type { SqlClient } from './sql-client.js';

interface EventRow {
  id: unknown;
  at: unknown;
  type: string;
  target: string;
  record: string | null;
  severity: number | null;
  details: unknown;
  actor: string;
  reactions: unknown;
}

interface ExpiryRow {
  record: string;
  reaction: string;
  expires_at: unknown;
  set_tags: unknown;
  removed: unknown;
  prior: unknown;
  event_id: unknown;
}

function checkTime(field: string, v: string): void {
  if (typeof v !== 'string' || Number.isNaN(new Date(v).getTime())) {
    throw fieldError(field, 'an ISO-8601 time', v);
  }
}

function toEvent(r: EventRow): StoredEvent {
  const details = toJson<JsonValue | null>(r.details);
  return {
    id: toRevision(r.id),
    at: toIso(r.at),
    type: r.type,
    target: r.target,
    ...(r.record !== null ? { record: r.record } : {}),
    ...(r.severity !== null ? { severity: Number(r.severity) } : {}),
    ...(details !== null && details !== undefined ? { details } : {}),
    actor: r.actor,
    reactions: toJson<string[]>(r.reactions),
  };
}

function toExpiry(r: ExpiryRow): ReactionExpiry {
  return {
    record: r.record,
    reaction: r.reaction,
    expiresAt: toIso(r.expires_at),
    set: toJson<Tags>(r.set_tags),
    removed: toJson<string[]>(r.removed),
    prior: toJson<Tags>(r.prior),
    ...(r.event_id !== null && r.event_id !== undefined ? { eventId: toRevision(r.event_id) } : {}),
  };
}

/**
 * Store an event; the store assigns its id.
 *
 * @example
 *   await insertEvent(client, { at, type: 'ids.alert', target: 'web-1', actor: 'operator:ab', reactions: [] })
 */
export async function insertEvent(
  client: SqlClient,
  e: Omit<StoredEvent, 'id'>,
): Promise<StoredEvent> {
  checkTime('at', e.at);
  const r = await client.query<EventRow>(Q.INSERT_EVENT, [
    e.at,
    e.type,
    e.target,
    e.record ?? null,
    e.severity ?? null,
    e.details === undefined ? null : JSON.stringify(e.details),
    e.actor,
    JSON.stringify(e.reactions),
  ]);
  return toEvent(r.rows[0]!);
}

/** The newest events first. @example await listEvents(client, 50) */
export async function listEvents(client: SqlClient, limit: number): Promise<StoredEvent[]> {
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw fieldError('limit', 'a positive integer', limit);
  const r = await client.query<EventRow>(Q.LIST_EVENTS, [limit]);
  return r.rows.map(toEvent);
}

/** Create or replace the expiry of (record, reaction). @example await putExpiry(client, x) */
export async function putExpiry(client: SqlClient, x: ReactionExpiry): Promise<void> {
  checkTime('expiresAt', x.expiresAt);
  await client.query(Q.PUT_EXPIRY, [
    x.record,
    x.reaction,
    x.expiresAt,
    JSON.stringify(x.set),
    JSON.stringify(x.removed),
    JSON.stringify(x.prior),
    x.eventId ?? null,
  ]);
}

/** Every pending expiry, soonest first. @example await listExpiries(client) */
export async function listExpiries(client: SqlClient): Promise<ReactionExpiry[]> {
  const r = await client.query<ExpiryRow>(Q.LIST_EXPIRIES);
  return r.rows.map(toExpiry);
}

/** Drop one expiry. @example await deleteExpiry(client, 'web-1', 'quarantine') */
export async function deleteExpiry(
  client: SqlClient,
  record: string,
  reaction: string,
): Promise<boolean> {
  const r = await client.query(Q.DELETE_EXPIRY, [record, reaction]);
  return r.rows.length > 0;
}
