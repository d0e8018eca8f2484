/**
 * SQL of the reactions tables (migration 2), for both backends. Parameters only.
 */

const EVENT_COLUMNS = 'id, at, type, target, record, severity, details, actor, reactions';

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
