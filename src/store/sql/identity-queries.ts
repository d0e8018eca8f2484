/**
 * The identity allocation table (migration 3): read it, or claim a revision's
 * allocations first-writer-wins; and the PEP underlay table (migration 4)
 * (docs/adr/0007-distribution.md).
 */
import type { IdentityRow, IdentityTable } from '../types.js';
import type { SqlClient } from './sql-client.js';

interface Row {
  id: number;
  key: string;
  released_at: string | number | null;
}

async function read(c: SqlClient): Promise<IdentityTable> {
  const rev = await c.query<{ rev: string | number }>(
    'SELECT rev FROM vnp_identities_revision WHERE id',
  );
  const rows = await c.query<Row>('SELECT id, key, released_at FROM vnp_identities ORDER BY id');
  return {
    revision: Number(rev.rows[0]?.rev ?? 0),
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
 * Write `identities` as those of `revision` unless the table already holds that
 * revision or a later one; one transaction (the revision row lock orders claimers).
 * Without `identities` (unchanged since the claimer's last claim) only the revision moves.
 *
 * @example await claimIdentities(client, 42, [{ id: 256, key: '{"app":"web"}' }]);
 */
export function claimIdentities(
  c: SqlClient,
  revision: number,
  identities: IdentityRow[] | undefined,
): Promise<IdentityTable & { claimed: boolean }> {
  return c.transaction(async (tx) => {
    const won = await tx.query(
      'UPDATE vnp_identities_revision SET rev = $1 WHERE id AND rev < $1 RETURNING rev',
      [revision],
    );
    if (won.rows.length === 0) return { ...(await read(tx)), claimed: false };
    if (identities === undefined) return { ...(await read(tx)), claimed: true };
    await tx.query('DELETE FROM vnp_identities', []);
    if (identities.length > 0) {
      await tx.query(
        `INSERT INTO vnp_identities (id, key, released_at)
         SELECT id, key, released_at FROM jsonb_to_recordset($1::jsonb)
           AS x(id integer, key text, released_at bigint)`,
        [
          JSON.stringify(
            identities.map((i) => ({ id: i.id, key: i.key, released_at: i.releasedAt ?? null })),
          ),
        ],
      );
    }
    return { revision, identities, claimed: true };
  });
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
