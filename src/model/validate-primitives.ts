/**
 * Field-level validators shared by the document validators: each takes the value
 * and its full field path, returns the checked (normalized) value, or throws a
 * VnpError whose message and `details.field` name that path and say what was
 * expected and what was found.
 */
import { VnpError, describeValue } from './errors.js';
import { cidrOf, formatCidr, formatIp, parseIp, parsePrefix, type Cidr, type Ip } from './net.js';
import { isPlainObject, joinField, shownField } from './validate-fields.js';

export const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const NAME_EXPECTED = 'a name: 1..63 of [a-z0-9._-], starting with a letter or digit';

/** Instance hosts (and agent token hosts): a DNS-like name, never a path or an option. */
export const HOST_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
/** Network namespace names: one path component under /run/netns (no `/`, not `..`). */
export const NETNS_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/;
/** Event types (`Reaction.on`, `POST /v1/events {type}`). */
export const EVENT_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
/** Reaction TTLs: one second to one year. */
export const MAX_TTL_SECONDS = 31_536_000;

/** VNP_ERR_VALIDATION: `field: expected X, found Y`. */
export function invalid(field: string, expected: string, found: unknown): VnpError {
  return new VnpError(
    'VNP_ERR_VALIDATION',
    `${shownField(field)}: expected ${expected}, found ${describeValue(found)}`,
    { field, expected },
  );
}

/** VNP_ERR_VALIDATION for a required field that is absent. */
export function missing(field: string, expected: string): VnpError {
  return new VnpError(
    'VNP_ERR_VALIDATION',
    `${field}: required, expected ${expected}, found nothing`,
    {
      field,
      expected,
    },
  );
}

/** VNP_ERR_ADDRESS: `field: expected X, found Y`. */
export function badAddress(field: string, expected: string, found: unknown, hint = ''): VnpError {
  return new VnpError(
    'VNP_ERR_ADDRESS',
    `${field}: expected ${expected}, found ${describeValue(found)}${hint}`,
    { field, expected },
  );
}

/**
 * Checks that v is a plain object with only the allowed keys (`ignored` keys are
 * accepted and dropped by the caller).
 *
 * @example expectObject({ a: 1 }, 'spec', ['a']) // { a: 1 }
 */
export function expectObject(
  v: unknown,
  field: string,
  allowed: readonly string[],
  ignored: readonly string[] = [],
): Record<string, unknown> {
  if (!isPlainObject(v)) throw invalid(field, 'an object', v);
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k) && !ignored.includes(k)) {
      const f = joinField(field, k);
      throw new VnpError(
        'VNP_ERR_VALIDATION',
        `${f}: unknown field "${k}" (expected one of: ${allowed.join(', ')})`,
        { field: f, expected: `one of: ${allowed.join(', ')}` },
      );
    }
  }
  return v;
}

/** A required or optional own field (undefined when absent). */
export function fieldOf(o: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

/** A resource name (`[a-z0-9][a-z0-9._-]{0,62}`). */
export function checkName(v: unknown, field: string): string {
  if (v === undefined) throw missing(field, NAME_EXPECTED);
  if (typeof v !== 'string' || !NAME_RE.test(v)) throw invalid(field, NAME_EXPECTED, v);
  return v;
}

/** A string matching a pattern; `what` describes it. */
export function checkString(v: unknown, field: string, re: RegExp, what: string): string {
  if (v === undefined) throw missing(field, what);
  if (typeof v !== 'string' || !re.test(v)) throw invalid(field, what, v);
  return v;
}

/** Free text (descriptions): a string of at most `max` characters. */
export function checkText(v: unknown, field: string, max = 1024): string {
  const what = `a string of at most ${max} characters`;
  if (typeof v !== 'string' || v.length > max) throw invalid(field, what, v);
  return v;
}

/** An integer in [lo, hi]. */
export function checkInt(v: unknown, field: string, lo: number, hi: number): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi) return v === 0 ? 0 : v;
  // The message only when it is needed: flow batches check millions of these.
  const what = `an integer ${lo}..${hi}`;
  throw v === undefined ? missing(field, what) : invalid(field, what, v);
}

/** One of a fixed set of strings. */
export function checkEnum<T extends string>(v: unknown, field: string, values: readonly T[]): T {
  if (typeof v === 'string' && values.includes(v as T)) return v as T;
  const what = `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
  throw v === undefined ? missing(field, what) : invalid(field, what, v);
}

/** An array (possibly empty); items are checked by the caller. */
export function checkArray(v: unknown, field: string, what: string): unknown[] {
  if (v === undefined) throw missing(field, `an array of ${what}`);
  if (!Array.isArray(v)) throw invalid(field, `an array of ${what}`, v);
  return v;
}

const PREFIX_EXPECTED = 'an IPv4 or IPv6 prefix, e.g. 10.0.0.0/24 or 2001:db8::/64';

/**
 * A prefix with host bits zero; returns the parsed prefix (format it with
 * `formatCidr` for the canonical text). A bare address is a /32 or /128.
 *
 * @example formatCidr(checkCidr('10.0.0.0/8', 'cidr')) // '10.0.0.0/8'
 */
export function checkCidr(v: unknown, field: string): Cidr {
  if (v === undefined) throw missing(field, PREFIX_EXPECTED);
  const p = typeof v === 'string' ? parsePrefix(v) : undefined;
  if (p === undefined) throw badAddress(field, PREFIX_EXPECTED, v);
  const c = cidrOf(p.ip, p.prefix);
  if (c.base !== p.ip.value) {
    throw badAddress(
      field,
      'a prefix with its host bits zero',
      v,
      ` (did you mean ${formatCidr(c)}?)`,
    );
  }
  return c;
}

/** An IPv4 or IPv6 address (no prefix length). */
export function checkIp(v: unknown, field: string): Ip {
  const what = 'an IPv4 or IPv6 address, e.g. 10.0.0.5 or 2001:db8::5';
  if (v === undefined) throw missing(field, what);
  const ip = typeof v === 'string' ? parseIp(v) : undefined;
  if (ip === undefined) throw badAddress(field, what, v);
  return ip;
}

/** Canonical text of a checked address. */
export const ipText = formatIp;
