import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreparedStatements } from './prepared-statements.js';

describe('PreparedStatements (PGlite)', () => {
  let db: PGlite;
  let prepared: PreparedStatements;
  beforeAll(async () => {
    db = await PGlite.create();
    await db.exec('CREATE TABLE t (id int PRIMARY KEY, doc jsonb, at timestamptz)');
    prepared = new PreparedStatements(db);
  });
  afterAll(async () => {
    await db.close();
  });

  const INSERT = `INSERT INTO t (id, doc, at)
    SELECT x.id, x.doc, x.at FROM jsonb_to_recordset($1::jsonb) AS x(id int, doc jsonb, at timestamptz)
    RETURNING id, doc, at`;

  it('runs a named statement with the parameters and rows PGlite query would give', async () => {
    const rows = JSON.stringify([{ id: 1, doc: { a: 'x' }, at: '2026-01-01T00:00:00Z' }]);
    const r = await prepared.query<{ id: number; doc: unknown; at: Date }>('ins', INSERT, [rows]);
    const q = await db.query('SELECT id, doc, at FROM t WHERE id = $1', [1]);
    expect(r.rows).toEqual(q.rows);
    const again = await prepared.query<{ n: number }>(
      'count',
      'SELECT count(*)::int AS n FROM t WHERE id >= $1',
      [1],
    );
    expect(again.rows).toEqual([{ n: 1 }]);
  });

  it('throws the database error, and the statement runs again after it', async () => {
    const dup = JSON.stringify([{ id: 1, doc: {}, at: '2026-01-01T00:00:00Z' }]);
    await expect(prepared.query('ins', INSERT, [dup])).rejects.toMatchObject({ code: '23505' });
    await expect(
      db.transaction(async () => {
        await prepared.query('ins', INSERT, [dup.replace('"id":1', '"id":2')]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await db.query('SELECT id FROM t ORDER BY id')).rows).toEqual([{ id: 1 }]);
    const ok = JSON.stringify([{ id: 3, doc: null, at: null }]);
    expect((await prepared.query('ins', INSERT, [ok])).rows).toEqual([
      { id: 3, doc: null, at: null },
    ]);
  });

  it('prepares a name again on a fresh instance of the helper (a statement left behind is replaced)', async () => {
    const other = new PreparedStatements(db);
    const r = await other.query<{ n: number }>(
      'count',
      'SELECT count(*)::int AS n FROM t WHERE id >= $1',
      [2],
    );
    expect(r.rows).toEqual([{ n: 1 }]);
  });
});
