/**
 * SqlClient over one PGlite instance, with every statement and transaction
 * serialized (see SerialQueue for why).
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { preparedName } from '../sql/prepared.js';
import type { SqlClient, SqlResult } from '../sql/sql-client.js';
import { PreparedStatements } from './prepared-statements.js';
import { SerialQueue } from './serial-queue.js';

/** PGlite reads COPY input from a Blob it names `/dev/blob` instead of STDIN. */
function blobCopy(statement: string): string {
  const text = statement.replace(/\bFROM\s+STDIN\b/i, "FROM '/dev/blob'");
  if (text === statement)
    throw new Error(`copyIn: not a COPY … FROM STDIN statement: ${statement}`);
  return text;
}

/** A handle bound to an open PGlite transaction; it does not take the queue again. */
function txClient(tx: Transaction, prepared: PreparedStatements): SqlClient {
  const client: SqlClient = {
    async query<Row>(text: string, params?: unknown[]): Promise<SqlResult<Row>> {
      const name = preparedName(text);
      if (name !== undefined) return prepared.query<Row>(name, text, params ?? []);
      const r = await tx.query<Row>(text, params ?? []);
      return { rows: r.rows };
    },
    transaction<T>(fn: (inner: SqlClient) => Promise<T>): Promise<T> {
      // Already inside the one transaction PGlite can have: join it.
      return fn(client);
    },
    async copyIn(statement: string, data: Uint8Array): Promise<void> {
      // COPY input is built in an ordinary ArrayBuffer (CopyLines), never a shared one.
      await tx.query(blobCopy(statement), [], {
        blob: new Blob([data as Uint8Array<ArrayBuffer>]),
      });
    },
  };
  return client;
}

/**
 * Wrap a PGlite instance as a SqlClient.
 *
 * @example
 *   const client = pgliteClient(await PGlite.create({ dataDir }));
 *   await client.query('SELECT 1');
 */
export function pgliteClient(db: PGlite): SqlClient {
  const queue = new SerialQueue();
  const prepared = new PreparedStatements(db);
  return {
    query<Row>(text: string, params?: unknown[]): Promise<SqlResult<Row>> {
      return queue.run(async () => {
        const name = preparedName(text);
        if (name !== undefined) return prepared.query<Row>(name, text, params ?? []);
        const r = await db.query<Row>(text, params ?? []);
        return { rows: r.rows };
      });
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      return queue.run(() => db.transaction((tx) => fn(txClient(tx, prepared))));
    },
    copyIn(statement: string, data: Uint8Array): Promise<void> {
      return queue.run(async () => {
        await db.query(blobCopy(statement), [], {
          blob: new Blob([data as Uint8Array<ArrayBuffer>]),
        });
      });
    },
  };
}
