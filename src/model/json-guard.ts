/**
 * Limits every JSON input shares, checked without recursion (so the check itself
 * cannot overflow the stack it protects):
 *
 * - nesting depth at most {@link MAX_JSON_DEPTH}, measured on the text before it is
 *   parsed (merge-patch, validation and serialisation all recurse: 20,000 levels
 *   overflowed them);
 * - no string — value or object key — holding U+0000 or an unpaired UTF-16 surrogate:
 *   neither store can hold them (PostgreSQL text and jsonb refuse NUL; a lone
 *   surrogate is not Unicode), so they are refused up front, naming the field, rather
 *   than failing in the store. Decided in docs/api.md ("Strings").
 */
import { VnpError, describeValue } from './errors.js';
import { indexField, joinField } from './validate-fields.js';

/** Deepest nesting of arrays and objects a request body (or event line) may have. */
export const MAX_JSON_DEPTH = 64;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a string cannot be stored, or undefined when it can.
 *
 * @example unstorable('a\u0000b') // 'a NUL character (U+0000)'
 */
export function unstorable(s: string): string | undefined {
  if (s.includes('\u0000')) return 'a NUL character (U+0000)';
  if (LONE_SURROGATE.test(s)) return 'an unpaired UTF-16 surrogate (not Unicode)';
  return undefined;
}

/**
 * VNP_ERR_VALIDATION for a JSON text nested deeper than `max`, scanned without
 * parsing (strings and their escapes skipped); undefined when within the limit.
 *
 * @example jsonDepthError('[[1]]', 1)?.message // 'body: nested 2 levels deep at offset 1; at most 1 allowed'
 */
export function jsonDepthError(
  text: string,
  field = 'body',
  max = MAX_JSON_DEPTH,
): VnpError | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max)
        return new VnpError(
          'VNP_ERR_VALIDATION',
          `${field}: nested ${depth} levels deep at offset ${i}; at most ${max} allowed`,
          { field, expected: `JSON nested at most ${max} levels deep` },
        );
    } else if (c === 93 || c === 125) depth--;
  }
  return undefined;
}

/**
 * VNP_ERR_VALIDATION naming the first string (value or key) of a parsed JSON value
 * that cannot be stored (see {@link unstorable}); undefined when there is none.
 * Iterative: any depth is walked without recursion.
 *
 * @example unstorableStringError({ tags: { env: 'a\u0000' } })?.details?.field // 'tags.env'
 */
export function unstorableStringError(value: unknown, root = ''): VnpError | undefined {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [v, field] = stack.pop()!;
    if (typeof v === 'string') {
      const why = unstorable(v);
      if (why) return stringError(field, why, v);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], indexField(field, i)]);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const f = joinField(field, k);
        const why = unstorable(k);
        if (why) return stringError(f, `a key with ${why}`, k);
        stack.push([x, f]);
      }
    }
  }
  return undefined;
}

function stringError(field: string, why: string, v: string): VnpError {
  const shown = field === '' ? 'body' : field;
  return new VnpError(
    'VNP_ERR_VALIDATION',
    `${shown}: ${why} is not allowed, found ${describeValue(v)}`,
    { field: shown, expected: 'text without U+0000 or unpaired surrogates' },
  );
}
