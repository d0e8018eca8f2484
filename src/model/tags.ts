/**
 * Tag rules (design.md §1 Tags). A tag value is a string, a safe integer, a
 * boolean, or a JSON object/array (at most 4 KiB as UTF-8 JSON, nesting depth at
 * most 8, `null` only inside it). Keys match `[A-Za-z0-9][A-Za-z0-9._/:-]{0,126}`;
 * a record carries at most 64 tags. String values are held to the same 4 KiB.
 */
import { VnpError, describeValue } from './errors.js';
import type { JsonValue, TagValue, Tags } from './types.js';
import {
  defineField,
  indexField,
  isPlainObject,
  joinField,
  shownField,
} from './validate-fields.js';

export const TAG_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._/:-]{0,126}$/;
export const MAX_TAGS = 64;
export const MAX_TAG_VALUE_BYTES = 4096;
export const MAX_TAG_JSON_DEPTH = 8;

const VALUE_EXPECTED =
  'a string, a safe integer, true/false, or a JSON object/array (≤ 4 KiB, depth ≤ 8)';

function tagError(field: string, message: string, extra: Record<string, unknown> = {}): VnpError {
  return new VnpError('VNP_ERR_TAG_INVALID', `${shownField(field)}: ${message}`, {
    field,
    ...extra,
  });
}

const encoder = new TextEncoder();
const utf8Length = (s: string): number => encoder.encode(s).length;
/** Whether s exceeds the byte limit; skips encoding when it cannot (≤ 3 bytes per UTF-16 unit). */
const tooLong = (s: string): boolean =>
  s.length * 3 > MAX_TAG_VALUE_BYTES &&
  (s.length > MAX_TAG_VALUE_BYTES || utf8Length(s) > MAX_TAG_VALUE_BYTES);

/**
 * Checks a tag key; returns it. `field` names where the key sits (the error's
 * `details.field`): `tags["bad key"]` inside a tags map, `removeTags[1]` in a list.
 *
 * @example validateTagKey('app.kubernetes.io/name') // 'app.kubernetes.io/name'
 * @example validateTagKey('bad key', 'remove[0]') // throws VNP_ERR_TAG_INVALID, field 'remove[0]'
 */
export function validateTagKey(key: unknown, field = 'key'): string {
  if (typeof key !== 'string' || !TAG_KEY_RE.test(key)) {
    throw tagError(
      field,
      `invalid tag key ${describeValue(key)}: expected 1..127 characters [A-Za-z0-9._/:-] starting with a letter or digit`,
      { key, expected: 'a tag key matching [A-Za-z0-9][A-Za-z0-9._/:-]{0,126}' },
    );
  }
  return key;
}

/** Copies a JSON value inside a JSON tag, checking types and depth. */
function copyJson(v: unknown, field: string, depth: number): JsonValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw tagError(field, `expected a finite number, found ${v}`);
    return v;
  }
  if (depth >= MAX_TAG_JSON_DEPTH) {
    throw tagError(field, `JSON tag values nest at most ${MAX_TAG_JSON_DEPTH} levels deep`);
  }
  if (Array.isArray(v)) return v.map((x, i) => copyJson(x, indexField(field, i), depth + 1));
  if (isPlainObject(v)) {
    const out: Record<string, JsonValue> = {};
    for (const [k, x] of Object.entries(v))
      defineField(out, k, copyJson(x, joinField(field, k), depth + 1));
    return out;
  }
  throw tagError(field, `expected a JSON value, found ${describeValue(v)}`);
}

/**
 * Checks one tag value and returns a copy (JSON values deep-copied).
 *
 * @example validateTagValue({ team: 'pay' }, 'tags.owner') // { team: 'pay' }
 * @example validateTagValue(2.5, 'tags.tier') // throws VNP_ERR_TAG_INVALID
 */
export function validateTagValue(v: unknown, field: string): TagValue {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    if (tooLong(v)) {
      throw tagError(field, `string values are at most ${MAX_TAG_VALUE_BYTES} bytes`);
    }
    return v;
  }
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) {
      throw tagError(
        field,
        `expected a safe integer (no fractions at the top level; put floats in a JSON object), found ${v}`,
        { expected: VALUE_EXPECTED },
      );
    }
    return v === 0 ? 0 : v;
  }
  if (Array.isArray(v) || isPlainObject(v)) {
    const copy = copyJson(v, field, 0) as TagValue;
    const json = JSON.stringify(copy);
    if (tooLong(json)) {
      const size = utf8Length(json);
      throw tagError(
        field,
        `JSON values are at most ${MAX_TAG_VALUE_BYTES} bytes encoded, found ${size}`,
      );
    }
    return copy;
  }
  const why =
    v === null ? 'null is allowed only inside a JSON object/array' : `found ${describeValue(v)}`;
  throw tagError(field, `expected ${VALUE_EXPECTED}; ${why}`, { expected: VALUE_EXPECTED });
}

/**
 * Validates a tags object and returns a checked copy (same key order).
 *
 * @example validateTags({ env: 'prod', tier: 2 }) // { env: 'prod', tier: 2 }
 * @example validateTags({ 'bad key': 1 }) // throws VNP_ERR_TAG_INVALID, details.field 'tags["bad key"]'
 */
export function validateTags(tags: unknown, field = 'tags'): Tags {
  if (!isPlainObject(tags)) {
    throw tagError(field, `expected an object of tag key → value, found ${describeValue(tags)}`);
  }
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS) {
    throw tagError(field, `at most ${MAX_TAGS} tags per record, found ${entries.length}`);
  }
  const out: Tags = {};
  for (const [k, v] of entries) {
    validateTagKey(k, joinField(field, k));
    defineField(out, k, validateTagValue(v, joinField(field, k)));
  }
  return out;
}

const INTEGER = /^-?(0|[1-9][0-9]*)$/;

/**
 * Parses a CLI tag assignment `key=value`: `tier=2` → 2, `pci=true` → true,
 * `owner={"team":"pay"}` → JSON, `name="007"` → the string "007" (double quotes
 * are JSON, single quotes literal), anything else → the string as written
 * (`zip=007` is the string "007": integers have no leading zeros).
 *
 * @example parseTagAssignment('tier=2') // { key: 'tier', value: 2 }
 */
export function parseTagAssignment(text: string): { key: string; value: TagValue } {
  const eq = text.indexOf('=');
  if (eq < 0) {
    throw tagError('', `expected key=value, found ${describeValue(text)}`, {
      expected: 'key=value',
    });
  }
  const key = validateTagKey(text.slice(0, eq), 'key');
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  if (raw === 'true' || raw === 'false') value = raw === 'true';
  else if (INTEGER.test(raw)) {
    value = Number(raw);
    if (!Number.isSafeInteger(value)) {
      throw tagError(key, `integer ${raw} is out of the safe range; quote it to store a string`);
    }
  } else if (/^[[{"]/.test(raw)) {
    try {
      value = JSON.parse(raw);
    } catch {
      throw tagError(
        key,
        `value starting with ${raw[0]} must be valid JSON, found ${describeValue(raw)}`,
      );
    }
  } else if (raw.length >= 2 && raw.startsWith("'") && raw.endsWith("'")) {
    value = raw.slice(1, -1);
  }
  return { key, value: validateTagValue(value, joinField('', key)) };
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * JSON of tags with keys sorted at every level (code-unit order): equal tags give
 * equal text, for hashing and identity derivation.
 *
 * @example canonicalTagsJson({ b: 1, a: { d: 1, c: 2 } }) // '{"a":{"c":2,"d":1},"b":1}'
 */
export function canonicalTagsJson(tags: Tags): string {
  return canonical(tags);
}
