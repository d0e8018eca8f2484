/**
 * SqlClient over a `pg` Pool: a query borrows any pooled connection; a
 * transaction holds one connection from BEGIN to COMMIT/ROLLBACK.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { preparedName } from '../sql/prepared.js';
import type { SqlClient, SqlResult } from '../sql/sql-client.js';

/** A statement for `pg`: the commit path's statements named, so each connection plans them once (sql/prepared.ts). */
function statement(text: string, params: unknown[] | undefined): pg.QueryConfig {
  const name = preparedName(text);
  return { text, values: params ?? [], ...(name !== undefined ? { name } : {}) };
}

/** Stream `data` into `COPY … FROM STDIN` on one connection (one chunk: the array's one element). */
async function copyOn(conn: pg.PoolClient, statement: string, data: Uint8Array): Promise<void> {
  await pipeline(Readable.from([data]), conn.query(copyFrom(statement)));
}

function connectionClient(conn: pg.PoolClient): SqlClient {
  const client: SqlClient = {
    async query<Row>(text: string, params?: unknown[]): Promise<SqlResult<Row>> {
      const r = await conn.query(statement(text, params));
      return { rows: r.rows as Row[] };
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      // Nested use joins the open transaction.
      return fn(client);
    },
    copyIn: (statement, data) => copyOn(conn, statement, data),
  };
  return client;
}

/**
 * Wrap a Pool as a SqlClient.
 *
 * @example
 *   const client = poolClient(new pg.Pool({ connectionString: url }));
 *   await client.transaction(async (tx) => tx.query('SELECT 1'));
 */
export function poolClient(pool: pg.Pool): SqlClient {
  return {
    async query<Row>(text: string, params?: unknown[]): Promise<SqlResult<Row>> {
      const r = await pool.query(statement(text, params));
      return { rows: r.rows as Row[] };
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      const conn = await pool.connect();
      try {
        await conn.query('BEGIN');
      } catch (e) {
        conn.release(e as Error);
        throw e;
      }
      try {
        const result = await fn(connectionClient(conn));
        await conn.query('COMMIT');
        conn.release();
        return result;
      } catch (e) {
        // A failed ROLLBACK means the connection is unusable: the pool drops it.
        const broken = await conn.query('ROLLBACK').then(
          () => undefined,
          (rollbackError: Error) => rollbackError,
        );
        conn.release(broken);
        throw e;
      }
    },
    async copyIn(statement: string, data: Uint8Array): Promise<void> {
      const conn = await pool.connect();
      try {
        await copyOn(conn, statement, data);
        conn.release();
      } catch (e) {
        conn.release(e as Error);
        throw e;
      }
    },
  };
}
