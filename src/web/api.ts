/**
 * The UI's way to the manager: the shared typed client (src/client) over the browser's
 * fetch, same origin, the signed-in token on every call. Nothing else talks HTTP.
 */
import { VnpClient } from '../client/client.js';
import type { FetchLike } from '../client/http-fetch.js';
import { VnpError } from '../model/errors.js';

/** The browser's fetch in the client's transport shape. */
const browserFetch: FetchLike = (url, init) =>
  fetch(url, {
    method: init.method,
    headers: init.headers,
    ...(init.body !== undefined ? { body: init.body } : {}),
    ...(init.signal ? { signal: init.signal } : {}),
    // The token never goes anywhere but this origin, and no cookie is ever sent.
    credentials: 'omit',
    cache: 'no-store',
  }) as unknown as ReturnType<FetchLike>;

/**
 * A client of the manager that served this page.
 *
 * @example const client = clientFor(token); await client.request('GET', '/v1/whoami');
 */
export function clientFor(token: string): VnpClient {
  return new VnpClient({ server: window.location.origin, token, fetch: browserFetch });
}

/** An error as the UI shows it: the server's code, message and field. */
export interface ShownError {
  code: string;
  message: string;
  field?: string;
  details?: Record<string, unknown>;
}

/**
 * What to show for a failed call.
 *
 * @example shownError(new VnpError('VNP_ERR_VALIDATION', 'port: …', { field: 'port' })) // { code, message, field: 'port' }
 */
export function shownError(e: unknown): ShownError {
  if (e instanceof VnpError) {
    const details = (e.details ?? undefined) as Record<string, unknown> | undefined;
    const field = typeof details?.field === 'string' ? details.field : undefined;
    return {
      code: e.code,
      message: e.message,
      ...(field !== undefined ? { field } : {}),
      ...(details ? { details } : {}),
    };
  }
  return { code: 'ERROR', message: e instanceof Error ? e.message : String(e) };
}
