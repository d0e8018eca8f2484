/**
 * The identity allocation table (migrations 3 and 5): read it, or claim a revision's
 * allocations first-writer-wins, writing only the rows it changed; and the PEP underlay table (migration 4)
 * (docs/adr/0007-distribution.md).
 */
import type { IdentityClaim, IdentityClaimResult, IdentityRow, IdentityTable } from '../types.js';
import type { SqlClient } from './sql-client.js';

interface Row {
  id: number;
  key: string;
  released_at: string | number | null;
}

async function read(c: SqlClient): Promise<IdentityTable> {
  const rev = await c.query<{ rev: string | number; fingerprint: string | null }>(
    'SELECT rev, fingerprint FROM vnp_identities_revision WHERE id',
  );
  const rows = await c.query<Row>('SELECT id, key, released_at FROM vnp_identities ORDER BY id');
  const fingerprint = rev.rows[0]?.fingerprint;
  return {
    revision: Number(rev.rows[0]?.rev ?? 0),
    ...(typeof fingerprint === 'string' ? { fingerprint } : {}),
    identities: rows.rows.map((r) => ({
      id: Number(r.id),
      key: r.key,
      ...(r.released_at !== null ? { releasedAt: Number(r.released_at) } : {}),
    })),
  };
}

/**
 * The persisted allocations.
 *
 * @example const { revision, identities } = await loadIdentities(client);
 */
export function loadIdentities(c: SqlClient): Promise<IdentityTable> {
  return read(c);
}

/**
 * Record a revision's allocations first-writer-wins (docs/adr/0007-distribution.md),
 * in one transaction: the revision row lock orders claimers. When the table holds the
 * claim's base, only the changed rows are written (O(changes)); otherwise the whole
 * table is replaced by `claim.all`, or the claim is refused without it.
 *
 * @example await claimIdentities(client, { revision: 42, base, fingerprint, upsert: [{ id: 256, key: '{"app":"web"}' }], remove: [] });
 */
export function claimIdentities(c: SqlClient, claim: IdentityClaim): Promise<IdentityClaimResult> {
  return c.transaction((tx) => claimIdentitiesIn(tx, claim));
}

/**
 * {@link claimIdentities} inside a transaction the caller holds (a group commit's).
 *
 * @example const result = await claimIdentitiesIn(tx, { ...claim, revision: last });
 */
export async function claimIdentitiesIn(
  tx: SqlClient,
  claim: IdentityClaim,
): Promise<IdentityClaimResult> {
  const claimed = { claimed: true, revision: claim.revision, fingerprint: claim.fingerprint };
  // The common case in one statement: the table holds the claim's base, so only the
  // changed rows are written. On PGlite every statement is a round trip through the
  // database, and a write that allocates an identity used to pay three of them here.
  const quick = await tx.query<{
    rev: string | number;
    fingerprint: string | null;
    claimed: boolean;
  }>(CLAIM_CHANGES, [
    claim.revision,
    claim.base,
    JSON.stringify(claim.remove),
    rowsJson(claim.upsert),
    claim.fingerprint,
  ]);
  if (quick.rows[0]?.claimed) return claimed;
  const revision = Number(quick.rows[0]?.rev ?? 0);
  const refused = { claimed: false, revision, fingerprint: quick.rows[0]?.fingerprint ?? null };
  // Not on the claim's base: the whole table is replaced by `claim.all`, or refused.
  if (revision >= claim.revision || !claim.all) return refused;
  await tx.query('DELETE FROM vnp_identities', []);
  await insertRows(tx, claim.all);
  await tx.query('UPDATE vnp_identities_revision SET rev = $1, fingerprint = $2 WHERE id', [
    claim.revision,
    claim.fingerprint,
  ]);
  return claimed;
}

/**
 * A claim's changed rows, applied only when the table is at an older revision and holds
 * the claim's base ($1 revision, $2 base, $3 ids to remove, $4 rows to upsert, $5 the
 * fingerprint after); returns where the table stood and whether the claim was applied.
 * The revision row lock orders claimers. The removed and upserted ids are disjoint
 * (IdentityAllocator.takeChanges), as the statement's parts see one snapshot.
 */
export const CLAIM_CHANGES = `
  WITH cur AS (
    SELECT rev, fingerprint FROM vnp_identities_revision WHERE id FOR UPDATE
  ), ok AS (
    SELECT true FROM cur WHERE rev < $1::bigint AND fingerprint IS NOT DISTINCT FROM $2::text
  ), gone AS (
    DELETE FROM vnp_identities
    WHERE EXISTS (SELECT 1 FROM ok)
      AND id IN (SELECT value::integer FROM jsonb_array_elements_text($3::jsonb))
  ), put AS (
    INSERT INTO vnp_identities (id, key, released_at)
    SELECT id, key, released_at FROM jsonb_to_recordset($4::jsonb)
      AS x(id integer, key text, released_at bigint)
    WHERE EXISTS (SELECT 1 FROM ok)
    ON CONFLICT (id) DO UPDATE SET key = excluded.key, released_at = excluded.released_at
  ), bump AS (
    UPDATE vnp_identities_revision SET rev = $1::bigint, fingerprint = $5::text
    WHERE id AND EXISTS (SELECT 1 FROM ok)
  )
  SELECT rev, fingerprint, EXISTS (SELECT 1 FROM ok) AS claimed FROM cur`;

/** Rows as the statements' JSON parameter. */
function rowsJson(rows: readonly IdentityRow[]): string {
  return JSON.stringify(
    rows.map((i) => ({ id: i.id, key: i.key, released_at: i.releasedAt ?? null })),
  );
}

/** Insert or replace rows by id (one statement). */
async function insertRows(c: SqlClient, rows: readonly IdentityRow[]): Promise<void> {
  if (rows.length === 0) return;
  await c.query(
    `INSERT INTO vnp_identities (id, key, released_at)
     SELECT id, key, released_at FROM jsonb_to_recordset($1::jsonb)
       AS x(id integer, key text, released_at bigint)
     ON CONFLICT (id) DO UPDATE SET key = excluded.key, released_at = excluded.released_at`,
    [rowsJson(rows)],
  );
}

/**
 * Record the underlay address a host reported (latest wins).
 *
 * @example await putUnderlay(client, 'h1', '192.0.2.1', new Date().toISOString());
 */
export async function putUnderlay(
  c: SqlClient,
  host: string,
  underlay: string,
  at: string,
): Promise<void> {
  await c.query(
    `INSERT INTO vnp_underlays (host, underlay, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (host) DO UPDATE SET underlay = excluded.underlay, updated_at = excluded.updated_at`,
    [host, underlay, at],
  );
}

/**
 * Every host's last reported underlay address.
 *
 * @example const rows = await listUnderlays(client); // [{ host: 'h1', underlay: '192.0.2.1' }]
 */
export async function listUnderlays(c: SqlClient): Promise<{ host: string; underlay: string }[]> {
  const r = await c.query<{ host: string; underlay: string }>(
    'SELECT host, underlay FROM vnp_underlays ORDER BY host',
  );
  return r.rows.map((x) => ({ host: x.host, underlay: x.underlay }));
}
