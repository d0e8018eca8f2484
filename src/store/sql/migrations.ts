/**
 * Versioned schema migrations. Each migration has a number, a name and a list of
 * single statements (PGlite's parameterized `query` takes one statement at a time).
 * `migrate()` applies every pending one in ONE transaction while holding a
 * transaction-scoped advisory lock, so two managers starting at once on the
 * same database serialize: the second waits, then sees everything applied.
 * To extend the schema, append a migration with the next number; never edit
 * an applied one.
 */
import { MIGRATION_002_REACTIONS } from './migration-002-reactions.js';
import { MIGRATION_003_IDENTITIES } from './migration-003-identities.js';
import { MIGRATION_004_UNDERLAYS } from './migration-004-underlays.js';
import { MIGRATION_005_IDENTITY_FINGERPRINT } from './migration-005-identity-fingerprint.js';
import { MIGRATION_006_TOKEN_LIFECYCLE } from './migration-006-token-lifecycle.js';
import { MIGRATION_007_FLOWS } from './migration-007-flows.js';
import { MIGRATION_008_AUDIT_CHAIN } from './migration-008-audit-chain.js';
import { MIGRATION_009_FLOW_TUPLES } from './migration-009-flow-tuples.js';
import { MIGRATION_010_FLOW_COLUMNS } from './migration-010-flow-columns.js';
import { MIGRATION_011_FLOW_TIME_BRIN } from './migration-011-flow-time-brin.js';
import type { Migration } from './migration.js';
import type { SqlClient } from './sql-client.js';

/** Advisory lock key for migrations: ASCII "vnp" (0x766e70); any fixed number works. */
export const MIGRATION_LOCK_KEY = 7761520;

/** The schema, in order. Append only. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'revision, resources, change log, tokens',
    statements: [
      // One row holds the global revision. Every commit bumps it with
      // UPDATE … RETURNING: the row lock serializes writers, so change-log
      // order equals revision order and revisions have no gaps.
      `CREATE TABLE vnp_revision (
         id boolean PRIMARY KEY DEFAULT true CHECK (id),
         rev bigint NOT NULL
       )`,
      `INSERT INTO vnp_revision (id, rev) VALUES (true, 0)`,
      `CREATE TABLE vnp_resources (
         kind text NOT NULL,
         name text NOT NULL,
         doc jsonb NOT NULL,
         revision bigint NOT NULL,
         created_at timestamptz NOT NULL,
         updated_at timestamptz NOT NULL,
         PRIMARY KEY (kind, name)
       )`,
      `CREATE TABLE vnp_changes (
         revision bigint PRIMARY KEY,
         at timestamptz NOT NULL,
         actor text NOT NULL,
         action text NOT NULL,
         changes jsonb NOT NULL
       )`,
      // Audit filters by kind/name use jsonb containment on the changes array.
      `CREATE INDEX vnp_changes_changes_idx ON vnp_changes USING gin (changes jsonb_path_ops)`,
      `CREATE TABLE vnp_tokens (
         id text PRIMARY KEY,
         role text NOT NULL,
         host text,
         hash text NOT NULL,
         created_at timestamptz NOT NULL,
         created_by text NOT NULL,
         revoked_at timestamptz
       )`,
    ],
  },
  MIGRATION_002_REACTIONS,
  MIGRATION_003_IDENTITIES,
  MIGRATION_004_UNDERLAYS,
  MIGRATION_005_IDENTITY_FINGERPRINT,
  MIGRATION_006_TOKEN_LIFECYCLE,
  MIGRATION_007_FLOWS,
  MIGRATION_008_AUDIT_CHAIN,
  MIGRATION_009_FLOW_TUPLES,
  MIGRATION_010_FLOW_COLUMNS,
  MIGRATION_011_FLOW_TIME_BRIN,
];

/**
 * Whether every migration in `migrations` is recorded: one read, no lock and no DDL,
 * the common case at every start (the full path's transaction, advisory lock and
 * CREATE TABLE IF NOT EXISTS each touched the catalog on a cold database). Migrations
 * are recorded in the transaction that applies them, so a recorded one is complete.
 */
async function allApplied(client: SqlClient, migrations: readonly Migration[]): Promise<boolean> {
  try {
    const r = await client.query<{ n: unknown }>(
      'SELECT count(*) AS n FROM vnp_migrations WHERE version = ANY($1::int[])',
      [migrations.map((m) => m.version)],
    );
    return Number(r.rows[0]?.n) === migrations.length;
  } catch {
    // No vnp_migrations yet (a new database): the full path creates it.
    return false;
  }
}

/**
 * Apply pending migrations; idempotent and safe to call concurrently.
 *
 * @example
 *   await migrate(client); // creates vnp_* tables on a fresh database, no-op after
 */
export async function migrate(
  client: SqlClient,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  if (await allApplied(client, migrations)) return [];
  return client.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS vnp_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = await tx.query<{ version: number }>('SELECT version FROM vnp_migrations');
    const applied = new Set(done.rows.map((r) => Number(r.version)));
    const ran: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      for (const statement of m.statements) await tx.query(statement);
      await tx.query('INSERT INTO vnp_migrations (version, name) VALUES ($1, $2)', [
        m.version,
        m.name,
      ]);
      ran.push(m.version);
    }
    return ran;
  });
}
