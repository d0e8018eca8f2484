/**
 * Validation of `POST /v1/events` bodies: `{type, target, severity?, details?}`.
 */
import { VnpError, fieldError } from '../model/errors.js';
import type { JsonValue } from '../model/types.js';
import { EVENT_TYPE_RE } from '../model/validate-primitives.js';

/** A validated event as received. */
export interface EventInput {
  type: string;
  /** A record name or an address. */
  target: string;
  severity?: number;
  details?: JsonValue;
  /** More types reactions may fire on (set by ingesters, never by the HTTP body). */
  aliases?: string[];
}

const MAX_DETAILS_BYTES = 16 * 1024;

/**
 * Validate an event body.
 *
 * @example
 *   validateEventInput({ type: 'ids.alert', target: 'web-1' }) // { type: 'ids.alert', target: 'web-1' }
 */
export function validateEventInput(body: unknown): EventInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw fieldError('body', 'an object {type, target}', body);
  }
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!['type', 'target', 'severity', 'details'].includes(k)) {
      throw new VnpError('VNP_ERR_VALIDATION', `${k}: unknown field`, { field: k });
    }
  }
  if (typeof b.type !== 'string' || !EVENT_TYPE_RE.test(b.type)) {
    throw fieldError('type', `an event type matching ${EVENT_TYPE_RE.source}`, b.type);
  }
  if (typeof b.target !== 'string' || b.target.length === 0 || b.target.length > 253) {
    throw fieldError('target', 'a record name or an address', b.target);
  }
  if (
    b.severity !== undefined &&
    (typeof b.severity !== 'number' ||
      !Number.isInteger(b.severity) ||
      b.severity < 0 ||
      b.severity > 255)
  ) {
    throw fieldError('severity', 'an integer 0..255', b.severity);
  }
  if (b.details !== undefined && JSON.stringify(b.details).length > MAX_DETAILS_BYTES) {
    throw fieldError('details', `JSON of at most ${MAX_DETAILS_BYTES} bytes`);
  }
  return {
    type: b.type,
    target: b.target,
    ...(b.severity !== undefined ? { severity: b.severity as number } : {}),
    ...(b.details !== undefined ? { details: b.details as JsonValue } : {}),
  };
}
