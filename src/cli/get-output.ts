/**
 * What `vnp get` prints: tables per kind (wide, without headers), `kind/name`
 * lines, JSON/YAML, or a kubectl-style JSONPath template evaluated by
 * jsonpath-plus (json-path.ts). Pure: returns strings.
 */
import type { Kind } from '../model/types.js';
import type { GetOutput } from './arguments.js';
import { formatJsonPath } from './json-path.js';
import { toJson, toYaml } from './output.js';
import { resourceTable } from './resource-table.js';

type Item = Record<string, unknown> & { kind?: string; name?: string };

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
