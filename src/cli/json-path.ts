/**
 * kubectl's JSONPath for `vnp get -o jsonpath=…` and `--sort-by`, evaluated by
 * jsonpath-plus. The library is required on first use, as yaml.ts does for YAML:
 * it is as large as the rest of `vnp get` together and only these two options use
 * it, so the CLI's bundles leave it out (docs/adr/0073).
 */
import { createRequire } from 'node:module';
import type * as JsonPathPlus from 'jsonpath-plus';
import { VnpError } from '../model/errors.js';

const require = createRequire(import.meta.url);
let loaded: typeof JsonPathPlus | undefined;

function jsonPathPlus(): typeof JsonPathPlus {
  loaded ??= require('jsonpath-plus') as typeof JsonPathPlus;
  return loaded;
}

/**
 * Evaluate one JSONPath (`.items[*].name`, `{.name}`, `$.tags.tier`) on a value.
 *
 * @example jsonPathValues({ a: [1, 2] }, '.a[*]') // [1, 2]
 */
export function jsonPathValues(json: unknown, expr: string): unknown[] {
  const inner = expr
    .trim()
    .replace(/^\{(.*)\}$/s, '$1')
    .trim();
  const path = inner.startsWith('$')
    ? inner
    : `$${inner.startsWith('[') ? '' : inner.startsWith('.') ? '' : '.'}${inner}`;
  try {
    return jsonPathPlus().JSONPath({ path, json: json as object, wrap: true }) as unknown[];
  } catch (e) {
    throw new VnpError('VNP_ERR_VALIDATION', `jsonpath: ${expr}: ${(e as Error).message}`, {
      field: 'output',
      expected: 'a JSONPath such as {.items[*].name}',
    });
  }
}

/**
 * A kubectl-style template: text with `{JSONPATH}` segments (several results joined
 * by a space), `\n` and `\t` escapes.
 *
 * @example formatJsonPath({ items: [{ name: 'a' }, { name: 'b' }] }, '{.items[*].name}') // 'a b'
 */
export function formatJsonPath(json: unknown, template: string): string {
  const text = template.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  return text.replace(/\{([^{}]*)\}/g, (_m, expr: string) =>
    jsonPathValues(json, expr)
      .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
      .join(' '),
  );
}

/**
 * Sort items by a field (`--sort-by .priority`, `{.tags.tier}`): numbers by value,
 * the rest as text; items without the field last.
 *
 * @example sortItems([{ name: 'b' }, { name: 'a' }], '.name') // [{ name: 'a' }, { name: 'b' }]
 */
export function sortItems<T>(items: readonly T[], field: string): T[] {
  const key = (i: T): unknown => jsonPathValues(i, field)[0];
  return [...items].sort((a, b) => compare(key(a), key(b)));
}

function compare(a: unknown, b: unknown): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = typeof a === 'string' ? a : JSON.stringify(a);
  const y = typeof b === 'string' ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
