/**
 * Turning HTTP failures into VnpError. The server answers expected failures with
 * `{error: {code, message, details?}}`; the client rebuilds the same VnpError so a
 * caller sees one error type whether it ran in-process or over HTTP.
 */
import { ERROR_CODES, VnpError, type ErrorCode, type ErrorDetails } from '../model/errors.js';

/**
 * A VnpError rebuilt from a server response. `status` is the HTTP status the
 * server sent (it also covers codes newer than this client's registry).
 *
 * @example
 *   try { await client.get('Interface', 'x'); } catch (e) { if (e instanceof RemoteVnpError) e.httpStatus; }
 */
export class RemoteVnpError extends VnpError {
  readonly httpStatus: number;

  constructor(code: string, message: string, httpStatus: number, details?: ErrorDetails) {
    // A code unknown to this build is kept verbatim: hiding it would lose the
    // one thing a user can search for.
    super(code as ErrorCode, message, details);
    this.httpStatus = httpStatus;
  }

  override get status(): number {
    return this.httpStatus;
  }
}

/** Fallback code for an error body that is not in the `{error:{…}}` form. */
function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'VNP_ERR_VALIDATION';
    case 401:
      return 'VNP_ERR_UNAUTHENTICATED';
    case 403:
      return 'VNP_ERR_FORBIDDEN';
    case 404:
      return 'VNP_ERR_ROUTE_NOT_FOUND';
    case 405:
      return 'VNP_ERR_METHOD_NOT_ALLOWED';
    case 409:
      return 'VNP_ERR_CONFLICT';
    case 410:
      return 'VNP_ERR_HISTORY_GONE';
    case 413:
      return 'VNP_ERR_BODY_TOO_LARGE';
    case 415:
      return 'VNP_ERR_UNSUPPORTED_MEDIA';
    case 429:
      return 'VNP_ERR_RATE_LIMITED';
    case 503:
      return 'VNP_ERR_UNAVAILABLE';
    case 504:
      return 'VNP_ERR_TIMEOUT';
    default:
      return status >= 500 ? 'VNP_ERR_INTERNAL' : 'VNP_ERR_VALIDATION';
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Rebuild the error a server response describes.
 *
 * @example
 *   errorFromResponse(404, { error: { code: 'VNP_ERR_NOT_FOUND', message: 'no Interface "x"' } })
 *   // → RemoteVnpError { code: 'VNP_ERR_NOT_FOUND', status: 404 }
 *   errorFromResponse(500, {...}, '', 'req-7') // message ends with "(request id req-7)"
 */
export function errorFromResponse(
  status: number,
  body: unknown,
  statusText = '',
  requestId?: string,
): RemoteVnpError {
  const e = rebuild(status, body, statusText);
  if (requestId === undefined || requestId === '' || status < 500) return e;
  // A 5xx is a bug: the request id is what lets someone find it in the manager's log.
  return new RemoteVnpError(e.code, `${e.message} (request id ${requestId})`, status, {
    ...e.details,
    requestId,
  });
}

function rebuild(status: number, body: unknown, statusText: string): RemoteVnpError {
  const err = isRecord(body) ? body.error : undefined;
  if (isRecord(err) && typeof err.code === 'string' && typeof err.message === 'string') {
    const details = isRecord(err.details) ? (err.details as ErrorDetails) : undefined;
    return new RemoteVnpError(err.code, err.message, status, details);
  }
  // Not our error form (a proxy, a framework default page): say what we got.
  const text =
    isRecord(body) && typeof body.message === 'string'
      ? body.message
      : typeof body === 'string' && body.trim() !== ''
        ? body.trim().split('\n')[0]!.slice(0, 200)
        : `HTTP ${status}${statusText ? ' ' + statusText : ''}`;
  return new RemoteVnpError(codeForStatus(status), text, status, { status });
}

/**
 * The error for a manager that cannot be reached at all (refused, DNS, timeout).
 *
 * @example
 *   connectionError('http://127.0.0.1:7400', new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }))
 *   // message: 'cannot reach the manager at http://127.0.0.1:7400: connection refused (ECONNREFUSED)'
 */
export function connectionError(server: string, cause: unknown): VnpError {
  return new VnpError(
    'VNP_ERR_UNAVAILABLE',
    `cannot reach the manager at ${server}: ${describeCause(cause)}`,
    {
      server,
    },
  );
}

const CAUSE_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
  // TLS: the manager's certificate does not chain to a trusted (or the pinned) CA.
  ...Object.fromEntries(
    [
      'SELF_SIGNED_CERT_IN_CHAIN',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'CERT_SIGNATURE_FAILURE',
    ].map((code) => [
      code,
      `its TLS certificate is not trusted: pass the manager's CA with --ca-file FILE or VNP_CA_FILE`,
    ]),
  ),
  ERR_TLS_CERT_ALTNAME_INVALID:
    'its TLS certificate does not name this host: vnp server --tls-san NAME adds one',
};

function describeCause(cause: unknown): string {
  if (isRecord(cause) || cause instanceof Error) {
    const c = cause as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown };
    if (c.name === 'TimeoutError') return 'request timed out';
    // undici wraps the socket error: `TypeError('fetch failed', { cause })`.
    if (c.cause !== undefined && c.message === 'fetch failed') return describeCause(c.cause);
    if (typeof c.code === 'string')
      return `${CAUSE_TEXT[c.code] ?? String(c.message ?? c.code)} (${c.code})`;
    if (typeof c.message === 'string' && c.message !== '') return c.message;
  }
  return String(cause);
}

/** True when `code` is one this build's registry knows. */
export function isKnownCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}
