/**
 * What `vnp get` prints: tables per kind (wide, without headers), `kind/name`
 * lines, JSON/YAML, or a kubectl-style JSONPath template evaluated by
 * jsonpath-plus. Pure: returns strings.
 */
import { JSONPath } from 'jsonpath-plus';
import { VnpError } from '../model/errors.js';
import type { Kind } from '../model/types.js';
import type { GetOutput } from './arguments.js';
import { toJson, toYaml } from './output.js';
import { resourceTable } from './resource-table.js';

type Item = Record<string, unknown> & { kind?: string; name?: string };

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
    return JSONPath({ path, json: json as object, wrap: true }) as unknown[];
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

/**
 * Print what `get` found, grouped by kind (in the order asked).
 *
 * @example formatGet([['Subnet', [{ name: 'a', cidr: '10.0.0.0/24' }]]], { format: 'name' }, { single: false })
 *   // 'subnet/a\n'
 */
export function formatGet(
  groups: readonly [Kind, readonly Item[]][],
  out: GetOutput,
  opts: { single: boolean; noHeaders?: boolean },
): string {
  const all = groups.flatMap(([, items]) => items);
  switch (out.format) {
    case 'json':
      return toJson(opts.single ? all[0] : all);
    case 'yaml':
      if (opts.single) return toYaml(all[0]);
      return all.length === 0 ? '' : toYaml(all, { multiDocument: true });
    case 'name':
      return all.map((i) => `${String(i.kind).toLowerCase()}/${String(i.name)}\n`).join('');
    case 'jsonpath': {
      const text = formatJsonPath(
        opts.single ? all[0] : { kind: 'List', items: all },
        out.template,
      );
      return text.endsWith('\n') ? text : text + '\n';
    }
    default: {
      const several = groups.filter(([, items]) => items.length > 0).length > 1;
      return groups
        .filter(([, items]) => items.length > 0)
        .map(([kind, items]) =>
          resourceTable(kind, items, {
            wide: out.format === 'wide',
            noHeaders: opts.noHeaders === true,
            prefix: several ? `${kind.toLowerCase()}/` : '',
          }),
        )
        .join('\n');
    }
  }
}
