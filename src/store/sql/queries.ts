/**
 * Every SQL statement the store runs, written once for both backends.
 * Parameters only: batches travel as one JSON parameter expanded with
 * jsonb_to_recordset, so no statement text ever depends on a value.
 */

/** Check-and-bump: succeeds (one row) only when the revision is still $1. */
export const BUMP_REVISION =
  'UPDATE vnp_revision SET rev = rev + 1 WHERE id AND rev = $1 RETURNING rev';

export const CURRENT_REVISION = 'SELECT rev FROM vnp_revision WHERE id';

/**
 * Resource rows travel out as ONE row holding a JSON array (`j`), not one
 * protocol row each: for tens of thousands of rows this is several times
 * faster (PGlite especially), and JSON.parse is the only decoding.
 * Element: {kind, name, doc, revision, created_at, updated_at}.
 */
const AGG_RESOURCES = (from: string): string => `coalesce(json_agg(json_build_object(
    'kind', ${from}.kind, 'name', ${from}.name, 'doc', ${from}.doc, 'revision', ${from}.revision,
    'created_at', ${from}.created_at, 'updated_at', ${from}.updated_at)
    ORDER BY ${from}.kind COLLATE "C", ${from}.name COLLATE "C"), '[]')::text`;

/**
 * Check-and-bump, before-images and upsert in ONE statement (one round trip), for one
 * batch or a group of batches on distinct resources (src/store/sql/write-rows.ts):
 * $1: JSON array of {kind, name, doc, rev, at} (each row at its batch's revision and
 * time); $2: base revision; $3: number of batches (the revision moves by it). Every
 * part runs on one snapshot, so `before` holds the rows as they were; when the
 * revision is no longer $2 nothing is written and `rev` is null (a conflict).
 * The before-images are one primary-key probe per put (LIMIT 1 keeps the planner
 * from turning them into a hash join over a scan of every resource, which cost
 * more than the rest of a one-record write at 1,000 records and grows with the model).
 * Keeps created_at of existing rows. Returns rev (the last), before and after (JSON arrays).
 */
export const BUMP_AND_UPSERT = `WITH bump AS (
    UPDATE vnp_revision SET rev = rev + $3::bigint WHERE id AND rev = $2::bigint RETURNING rev),
  keys AS (
    SELECT t.kind, t.name, t.doc, t.rev, t.at FROM jsonb_to_recordset($1::jsonb)
      AS t(kind text, name text, doc jsonb, rev bigint, at timestamptz)),
  old AS (
    SELECT r.* FROM keys t CROSS JOIN LATERAL (
      SELECT * FROM vnp_resources r WHERE r.kind = t.kind AND r.name = t.name LIMIT 1) r),
  up AS (
    INSERT INTO vnp_resources AS r (kind, name, doc, revision, created_at, updated_at)
    SELECT t.kind, t.name, t.doc, t.rev, t.at, t.at FROM bump, keys t
    ON CONFLICT (kind, name) DO UPDATE
      SET doc = EXCLUDED.doc, revision = EXCLUDED.revision, updated_at = EXCLUDED.updated_at
    RETURNING r.*)
  SELECT (SELECT rev FROM bump) AS rev,
    (SELECT ${AGG_RESOURCES('old')} FROM old) AS before,
    (SELECT ${AGG_RESOURCES('up')} FROM up) AS after`;

/** $1: JSON array of {kind, name}. Returns the deleted rows (the "before" images). */
export const DELETE_RESOURCES = `WITH gone AS (
  DELETE FROM vnp_resources r
  USING jsonb_to_recordset($1::jsonb) AS t(kind text, name text)
  WHERE r.kind = t.kind AND r.name = t.name
  RETURNING r.*)
  SELECT ${AGG_RESOURCES('gone')} AS j FROM gone`;

export const INSERT_CHANGE = `INSERT INTO vnp_changes
  (revision, at, actor, action, changes, prev_hash, hash)
  VALUES ($1::bigint, $2::timestamptz, $3, $4, $5::jsonb, $6, $7)`;

/** Several change-log rows in one statement. $1: JSON array of {revision, at, actor, action, changes, prev_hash, hash}. */
export const INSERT_CHANGES = `INSERT INTO vnp_changes
  (revision, at, actor, action, changes, prev_hash, hash)
  SELECT t.revision, t.at, t.actor, t.action, t.changes, t.prev_hash, t.hash
  FROM jsonb_to_recordset($1::jsonb) AS t(revision bigint, at timestamptz, actor text,
    action text, changes jsonb, prev_hash text, hash text)`;

/**
 * The hash the next entry links to: the entry one revision before it. Its writer held
 * the revision row until it committed, so it is visible here (docs/adr/0024-audit-chain.md).
 */
export const PREVIOUS_HASH = 'SELECT hash FROM vnp_changes WHERE revision = $1::bigint';

/** $1: exclusive lower bound; $2: limit. Entries with their chain fields, ascending. */
export const AUDIT_CHAIN = `SELECT revision, at, actor, action, changes, prev_hash, hash
  FROM vnp_changes WHERE revision > $1::bigint ORDER BY revision LIMIT $2::bigint`;

/** The WAL segment holding the current write position (PGlite's WAL fsync, wal-sync.ts). */
export const CURRENT_WAL_FILE = 'SELECT pg_walfile_name(pg_current_wal_lsn()) AS f';

/** One notification per revision from $2 to $3, in order, on channel $1. */
export const NOTIFY_CHANGES =
  'SELECT pg_notify($1, r::text) FROM generate_series($2::bigint, $3::bigint) AS r';

/**
 * One statement, so one snapshot: the revision and the rows agree even while
 * other managers write. Sorted in byte order, the same on every server collation.
 */
export const LOAD_ALL = `SELECT v.rev, (SELECT ${AGG_RESOURCES('r')} FROM vnp_resources r) AS j
  FROM vnp_revision v WHERE v.id`;

const CHANGE_COLUMNS = 'revision, at, actor, action, changes';

/** $1: exclusive lower bound; $2: limit (null = all). */
export const CHANGES_SINCE = `SELECT ${CHANGE_COLUMNS} FROM vnp_changes
  WHERE revision > $1::bigint ORDER BY revision LIMIT $2::bigint`;

/** Oldest revision in the log, or the next revision when the log is empty. */
export const OLDEST_REVISION = `SELECT coalesce((SELECT min(revision) FROM vnp_changes),
  (SELECT rev + 1 FROM vnp_revision WHERE id)) AS oldest`;

/** $1: exclusive lower bound or null; $2: containment filter (JSON array) or null; $3: limit. */
export const AUDIT = `SELECT ${CHANGE_COLUMNS} FROM vnp_changes
  WHERE ($1::bigint IS NULL OR revision > $1::bigint)
    AND ($2::jsonb IS NULL OR changes @> $2::jsonb)
  ORDER BY revision DESC LIMIT $3::bigint`;

const TOKEN_COLUMNS =
  'id, role, host, hash, created_at, created_by, revoked_at, expires_at, last_used_at';

export const PUT_TOKEN = `INSERT INTO vnp_tokens (${TOKEN_COLUMNS})
  VALUES ($1, $2, $3, $4, $5::timestamptz, $6, $7::timestamptz, $8::timestamptz, $9::timestamptz)
  ON CONFLICT (id) DO UPDATE SET role = EXCLUDED.role, host = EXCLUDED.host, hash = EXCLUDED.hash,
    created_at = EXCLUDED.created_at, created_by = EXCLUDED.created_by, revoked_at = EXCLUDED.revoked_at,
    expires_at = EXCLUDED.expires_at, last_used_at = EXCLUDED.last_used_at`;

export const GET_TOKEN = `SELECT ${TOKEN_COLUMNS} FROM vnp_tokens WHERE id = $1`;

export const LIST_TOKENS = `SELECT ${TOKEN_COLUMNS} FROM vnp_tokens ORDER BY created_at, id COLLATE "C"`;

/** Of the ids $1 (a text array), those of tokens that exist, unrevoked and unexpired. */
export const LIVE_TOKEN_IDS = `SELECT id FROM vnp_tokens
  WHERE id = ANY($1::text[]) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`;

/** Advisory lock key serialising token revocations (the last-admin check): "vnpt". */
export const TOKEN_LOCK_KEY = 1986948724;

/**
 * Revokes once: a second revoke (or an unknown id) returns no row. An admin token is
 * revoked only while another admin token is live at $2 (run under TOKEN_LOCK_KEY).
 */
export const REVOKE_TOKEN = `UPDATE vnp_tokens SET revoked_at = $2::timestamptz
  WHERE id = $1 AND revoked_at IS NULL
    AND (role <> 'admin' OR EXISTS (SELECT 1 FROM vnp_tokens o
      WHERE o.role = 'admin' AND o.id <> $1 AND o.revoked_at IS NULL
        AND (o.expires_at IS NULL OR o.expires_at > $2::timestamptz)))
  RETURNING id`;

/** An expiry no later than $2; the earlier of two wins. No row: unknown or revoked. */
export const EXPIRE_TOKEN = `UPDATE vnp_tokens
  SET expires_at = LEAST(coalesce(expires_at, $2::timestamptz), $2::timestamptz)
  WHERE id = $1 AND revoked_at IS NULL RETURNING id`;

/** $1: JSON array of {id, at}; the later time wins. */
export const TOUCH_TOKENS = `UPDATE vnp_tokens t
  SET last_used_at = GREATEST(coalesce(t.last_used_at, u.at), u.at)
  FROM jsonb_to_recordset($1::jsonb) AS u(id text, at timestamptz)
  WHERE t.id = u.id`;

/** The model cache's key (src/store/pglite/model-cache.ts): revision and resource count. */
export const MODEL_KEY = `SELECT v.rev, (SELECT count(*) FROM vnp_resources) AS n
  FROM vnp_revision v WHERE v.id`;

/** LOAD_ALL with the resource count, in one statement (one consistent snapshot). */
export const LOAD_ALL_KEYED = `SELECT v.rev, (SELECT count(*) FROM vnp_resources) AS n,
  (SELECT ${AGG_RESOURCES('r')} FROM vnp_resources r) AS j
  FROM vnp_revision v WHERE v.id`;
