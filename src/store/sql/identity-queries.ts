/**
 * The identity allocation table (migration 3): read it, or claim a revision's
 * allocations first-writer-wins (docs/adr/0007-distribution.md).
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
