/**
 * The reactions part of the Store (events, expiries) over a SqlClient; SqlStore
 * delegates to these so both backends share them.
 */
import { VnpError, fieldError } from '../../model/errors.js';
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
  const r = await client.query<EventRow>(Q.INSERT_EVENT, eventParams(e));
  return toEvent(r.rows[0]!);
}

/** $1..$8 of INSERT_EVENT and RECORD_EVENT. */
function eventParams(e: Omit<StoredEvent, 'id'>): unknown[] {
  return [
    e.at,
    e.type,
    e.target,
    e.record ?? null,
    e.severity ?? null,
    e.details === undefined ? null : JSON.stringify(e.details),
    e.actor,
    JSON.stringify(e.reactions),
  ];
}

/**
 * The event part of `Store.commitEvent`, inside the caller's transaction: store
 * the event, create or extend its expiries (see RECORD_EVENT). Expiries come back
 * in request order, as stored.
 *
 * @example
 *   await client.transaction((tx) => recordEvent(tx, event, [{ record: 'web-1', reaction: 'q', … }]))
 */
export async function recordEvent(
  tx: SqlClient,
  e: Omit<StoredEvent, 'id'>,
  expiries: readonly Omit<ReactionExpiry, 'eventId'>[],
): Promise<{ event: StoredEvent; expiries: ReactionExpiry[] }> {
  checkTime('at', e.at);
  const seen = new Set<string>();
  expiries.forEach((x, i) => {
    checkTime(`expiries[${i}].expiresAt`, x.expiresAt);
    const key = `${x.record}\u0000${x.reaction}`;
    if (seen.has(key)) {
      throw new VnpError(
        'VNP_ERR_VALIDATION',
        `expiries[${i}]: ${x.record}/${x.reaction} appears twice in one event`,
        { field: `expiries[${i}]` },
      );
    }
    seen.add(key);
  });
  const rows = expiries.map((x) => ({
    record: x.record,
    reaction: x.reaction,
    expires_at: x.expiresAt,
    set_tags: x.set,
    removed: x.removed,
    prior: x.prior,
  }));
  const r = await tx.query<EventRow & { expiries: unknown }>(Q.RECORD_EVENT, [
    ...eventParams(e),
    JSON.stringify(rows),
  ]);
  const row = r.rows[0]!;
  const stored = new Map(
    toJson<ExpiryRow[]>(row.expiries).map((x) => {
      const expiry = toExpiry(x);
      return [`${expiry.record}\u0000${expiry.reaction}`, expiry];
    }),
  );
  return {
    event: toEvent(row),
    expiries: expiries.map((x) => stored.get(`${x.record}\u0000${x.reaction}`)!),
  };
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
