/**
 * SQL of the reactions tables (migration 2), for both backends. Parameters only.
 */

// details as JSON text: a driver that parses jsonb would hand back the string "1" as a
// string, which toJson then took for JSON (the number 1; "abc" a 500).
const EVENT_COLUMNS =
  'id, at, type, target, record, severity, details::text AS details, actor, reactions';

/** $1..$8: at, type, target, record, severity, details, actor, reactions. */
export const INSERT_EVENT = `INSERT INTO vnp_events (at, type, target, record, severity, details, actor, reactions)
  VALUES ($1::timestamptz, $2, $3, $4, $5::integer, $6::jsonb, $7, $8::jsonb)
  RETURNING ${EVENT_COLUMNS}`;

/** $1: limit. Newest first. */
export const LIST_EVENTS = `SELECT ${EVENT_COLUMNS} FROM vnp_events ORDER BY id DESC LIMIT $1::bigint`;

const EXPIRY_COLUMNS = 'record, reaction, expires_at, set_tags, removed, prior, event_id';

/** $1..$7 in EXPIRY_COLUMNS order; replaces the row of (record, reaction). */
export const PUT_EXPIRY = `INSERT INTO vnp_expiries (${EXPIRY_COLUMNS})
  VALUES ($1, $2, $3::timestamptz, $4::jsonb, $5::jsonb, $6::jsonb, $7::bigint)
  ON CONFLICT (record, reaction) DO UPDATE SET expires_at = EXCLUDED.expires_at,
    set_tags = EXCLUDED.set_tags, removed = EXCLUDED.removed, prior = EXCLUDED.prior,
    event_id = EXCLUDED.event_id`;

export const LIST_EXPIRIES = `SELECT ${EXPIRY_COLUMNS} FROM vnp_expiries
  ORDER BY expires_at, record COLLATE "C", reaction COLLATE "C"`;

/** $1: record, $2: reaction. */
export const DELETE_EXPIRY = `DELETE FROM vnp_expiries WHERE record = $1 AND reaction = $2 RETURNING record`;

/**
 * One statement (one round trip) for the event part of `Store.commitEvent`:
 * $1..$8 as INSERT_EVENT; $9: JSON array of {record, reaction, expires_at,
 * set_tags, removed, prior}. Each expiry is created, or — when (record, reaction)
 * is pending — extended: the stored undo stays, `expires_at` becomes the later of
 * the two, `event_id` the new event. Returns the event row plus `expiries`, the
 * expiry rows as stored (JSON array text).
 */
export const RECORD_EVENT = `WITH ev AS (
    INSERT INTO vnp_events (at, type, target, record, severity, details, actor, reactions)
    VALUES ($1::timestamptz, $2, $3, $4, $5::integer, $6::jsonb, $7, $8::jsonb)
    RETURNING ${EVENT_COLUMNS}),
  ex AS (
    INSERT INTO vnp_expiries AS x (${EXPIRY_COLUMNS})
    SELECT t.record, t.reaction, t.expires_at, t.set_tags, t.removed, t.prior, ev.id
    FROM ev, jsonb_to_recordset($9::jsonb) AS t(record text, reaction text,
      expires_at timestamptz, set_tags jsonb, removed jsonb, prior jsonb)
    ON CONFLICT (record, reaction) DO UPDATE
      SET expires_at = greatest(x.expires_at, EXCLUDED.expires_at), event_id = EXCLUDED.event_id
    RETURNING x.*)
  SELECT ev.*, (SELECT coalesce(json_agg(ex), '[]') FROM ex)::text AS expiries FROM ev`;
