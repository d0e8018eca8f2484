/**
 * The one registry of error codes. Each code has a fixed HTTP status and is never
 * reused for another meaning (retire a code, never recycle it). Documented in
 * docs/errors.md; a test keeps the two in step.
 *
 * @example
 *   throw new VnpError('VNP_ERR_VALIDATION', 'spec.ingress[0].ports[1]: expected tcp/N', { field: 'ingress[0].ports[1]' });
 */
export const ERROR_CODES = {
  VNP_ERR_VALIDATION: { status: 400, summary: 'A field of the request or document is malformed.' },
  VNP_ERR_SELECTOR_SYNTAX: {
    status: 400,
    summary: 'A selector does not parse; details name the column and what was expected.',
  },
  VNP_ERR_TAG_INVALID: {
    status: 400,
    summary: 'A tag key or value breaks the tag rules (key pattern, type, size, depth, count).',
  },
  VNP_ERR_BODY_TOO_LARGE: { status: 413, summary: 'The request body exceeds the size limit.' },
  VNP_ERR_BAD_JSON: { status: 400, summary: 'The request body is not valid JSON.' },
  VNP_ERR_UNAUTHENTICATED: { status: 401, summary: 'No bearer token, or an unknown one.' },
  VNP_ERR_FORBIDDEN: { status: 403, summary: "The token's role may not do this." },
  VNP_ERR_NO_CLIENT_CERT: {
    status: 401,
    summary:
      "An agent token without a client certificate from the manager's CA (--agent-mtls required).",
  },
  VNP_ERR_CLIENT_CERT_HOST: {
    status: 403,
    summary: 'The client certificate names another host than the agent token.',
  },
  VNP_ERR_NOT_FOUND: { status: 404, summary: 'No resource of that kind and name.' },
  VNP_ERR_ROUTE_NOT_FOUND: { status: 404, summary: 'No such API route.' },
  VNP_ERR_ALREADY_EXISTS: {
    status: 409,
    summary: 'A resource of that kind and name exists already.',
  },
  VNP_ERR_CONFLICT: {
    status: 409,
    summary:
      'The change conflicts with the current state (revision mismatch, address in use, in use by another resource).',
  },
  VNP_ERR_LAST_ADMIN: {
    status: 409,
    summary: 'Revoking this token would leave no live admin token.',
  },
  VNP_ERR_REFERENCE: {
    status: 422,
    summary: 'The resource names another resource that does not exist.',
  },
  VNP_ERR_ADDRESS: {
    status: 422,
    summary: 'An address is malformed, outside its subnet, or already taken.',
  },
  VNP_ERR_TEST_FAILED: {
    status: 422,
    summary:
      'A kind: Test document failed against the state the apply would produce; nothing changed.',
  },
  VNP_ERR_RULE_WARNINGS: {
    status: 422,
    summary: 'A strict apply found rules that can never decide or match nothing; nothing changed.',
  },
  VNP_ERR_UNKNOWN_ENDPOINT: {
    status: 422,
    summary: 'A check names a source or destination that is neither a record nor an address.',
  },
  VNP_ERR_METHOD_NOT_ALLOWED: { status: 405, summary: 'The route does not take that method.' },
  VNP_ERR_UNSUPPORTED_MEDIA: { status: 415, summary: 'The body is not JSON.' },
  VNP_ERR_RATE_LIMITED: { status: 429, summary: 'Too many requests.' },
  VNP_ERR_HISTORY_GONE: {
    status: 410,
    summary: 'The requested revision is older than the retained change log; take a snapshot.',
  },
  VNP_ERR_TIMEOUT: { status: 504, summary: 'Waiting for acknowledgements timed out.' },
  VNP_ERR_UNAVAILABLE: {
    status: 503,
    summary: 'The manager is not ready (store unreachable or still loading).',
  },
  VNP_ERR_INTERNAL: { status: 500, summary: 'A bug: report it with the request id.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Structured details: which field, which column, what was expected. */
export interface ErrorDetails {
  field?: string;
  column?: number;
  expected?: string;
  [k: string]: unknown;
}

/** The one error type the whole codebase throws for expected failures. */
export class VnpError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, details?: ErrorDetails) {
    super(message);
    this.name = 'VnpError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  /** The wire form: `{error: {code, message, details?}}`. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: ErrorDetails } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/** Shorthand for a validation error on one field. */
export function fieldError(field: string, expected: string, got?: unknown): VnpError {
  const shown = got === undefined ? '' : `, got ${describeValue(got)}`;
  return new VnpError('VNP_ERR_VALIDATION', `${field}: expected ${expected}${shown}`, {
    field,
    expected,
  });
}

/** A short, safe rendering of a bad value for error messages. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
