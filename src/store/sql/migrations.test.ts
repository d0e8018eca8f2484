import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pgliteClient } from '../pglite/pglite-client.js';
import type { Migration } from './migration.js';
import { MIGRATIONS, migrate } from './migrations.js';
import type { SqlClient } from './sql-client.js';

describe('migrate', () => {
  let db: PGlite;
  let client: SqlClient;
  // One in-memory database (initdb is slow); each test starts from an empty schema.
  beforeAll(async () => {
    db = await PGlite.create();
    client = pgliteClient(db);
  });
  beforeEach(async () => {
    await client.query('DROP SCHEMA public CASCADE');
    await client.query('CREATE SCHEMA public');
  });
  afterAll(async () => {
    await db.close();
  });

  const versions = async (): Promise<number[]> =>
    (
      await client.query<{ version: number }>('SELECT version FROM vnp_migrations ORDER BY version')
    ).rows.map((r) => r.version);

  it('applies every migration once and records it', async () => {
    expect(await migrate(client)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(client)).toEqual([]);
    expect(await versions()).toEqual(MIGRATIONS.map((m) => m.version));
    const rev = await client.query<{ rev: number }>('SELECT rev FROM vnp_revision');
    expect(rev.rows).toEqual([{ rev: 0 }]);
  });

  it('applies only a newly appended migration', async () => {
    await migrate(client);
    const next: Migration = {
      version: 1000,
      name: 'test',
      statements: ['CREATE TABLE vnp_test_extra (x int)'],
    };
    expect(await migrate(client, [...MIGRATIONS, next])).toEqual([1000]);
    expect(await migrate(client, [...MIGRATIONS, next])).toEqual([]);
    expect((await versions()).at(-1)).toBe(1000);
  });

  it('checks a migrated database with one read: no transaction, no lock, no DDL', async () => {
    await migrate(client);
    const seen: string[] = [];
    const spy: SqlClient = {
      query: (text, params) => (seen.push(text), client.query(text, params)),
      transaction: (fn) => (seen.push('BEGIN'), client.transaction(fn)),
      copyIn: (statement, data) => client.copyIn(statement, data),
    };
    expect(await migrate(spy)).toEqual([]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^SELECT count\(\*\)/);
    // One unknown to the database still takes the locked path.
    const next: Migration = { version: 1001, name: 'test', statements: ['SELECT 1'] };
    expect(await migrate(spy, [...MIGRATIONS, next])).toEqual([1001]);
    expect(seen).toContain('BEGIN');
  });

  it('applies nothing when one migration fails', async () => {
    const bad: Migration = {
      version: 1000,
      name: 'bad',
      statements: ['CREATE TABLE vnp_half (x int)', 'SELECT nope'],
    };
    await expect(migrate(client, [...MIGRATIONS, bad])).rejects.toThrow();
    const tables = await client.query(
      "SELECT 1 FROM pg_tables WHERE tablename IN ('vnp_half', 'vnp_revision', 'vnp_migrations')",
    );
    expect(tables.rows).toEqual([]);
    expect(await migrate(client)).toEqual(MIGRATIONS.map((m) => m.version));
  });
});
