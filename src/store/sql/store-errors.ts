/**
 * Maps driver failures to the error registry: a database that cannot be
 * reached (refused, reset, shut down, too many connections) is the manager's
 * VNP_ERR_UNAVAILABLE (503), not a bug. Every other non-VnpError is left as
 * is: an unexpected SQL error is a bug and surfaces as a 500.
 */
import { VnpError } from '../../model/errors.js';
import type { SqlClient, SqlResult } from './sql-client.js';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

/** SQLSTATE classes/codes meaning "the server is not available to us". */
function isUnavailableSqlState(code: string): boolean {
  return (
    code.startsWith('08') || // connection exception
    code === '57P01' || // admin_shutdown
    code === '57P02' || // crash_shutdown
    code === '57P03' || // cannot_connect_now
    code === '53300' // too_many_connections
  );
}

/**
 * True when `e` says the database cannot be reached right now.
 *
 * @example
 *   isUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })) // true
 */
export function isUnavailable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || isUnavailableSqlState(code)))
    return true;
  return /Connection terminated|Client has encountered a connection error|not queryable|Cannot use a pool after calling end/i.test(
    e.message,
  );
}

/**
 * Rethrow `e`, as VNP_ERR_UNAVAILABLE when the database is unreachable.
 *
 * @example
 *   await client.query(sql).catch(rethrowStoreError);
 */
export function rethrowStoreError(e: unknown): never {
  if (e instanceof VnpError || !isUnavailable(e)) throw e;
  throw new VnpError('VNP_ERR_UNAVAILABLE', `store unavailable: ${(e as Error).message}`, {
    cause: (e as { code?: unknown }).code ?? 'connection',
  });
}

/**
 * The same client, with unreachable-database errors mapped (see rethrowStoreError).
 *
 * @example
 *   const client = guardClient(poolClient(pool));
 */
export function guardClient(client: SqlClient): SqlClient {
  return {
    query<Row>(text: string, params?: unknown[]): Promise<SqlResult<Row>> {
      return client.query<Row>(text, params).catch(rethrowStoreError);
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      return client.transaction(fn).catch(rethrowStoreError);
    },
    copyIn(statement: string, data: Uint8Array): Promise<void> {
      return client.copyIn(statement, data).catch(rethrowStoreError);
    },
  };
}
