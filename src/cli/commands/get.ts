/**
 * `vnp get KIND[,KIND…]|all [NAME…]` and `vnp delete KIND NAME…|-l SELECTOR|-f FILE`,
 * with the habits of kubectl: several kinds and names, `-o wide|name|jsonpath=…`,
 * `--no-headers`, `--sort-by`, `--selector`, `delete --dry-run` with the impact.
 */
import type { Command } from 'commander';
import { getOutputArg, type GetOutput } from '../arguments.js';
import { VnpError } from '../../model/errors.js';
import { KINDS, type Kind } from '../../model/types.js';
import type { CliContext } from '../context.js';
import { kindHelp, parseKind } from '../kinds.js';

/** `all`: every kind but the Settings singleton. */
const ALL_KINDS = KINDS.filter((k) => k !== 'Settings');

/**
 * Parse `iface,pol` or `all` into kinds (duplicates dropped, order kept).
 *
 * @example parseKinds('iface,pol') // ['Interface', 'Policy']
 */
export function parseKinds(arg: string): Kind[] {
  if (arg.trim().toLowerCase() === 'all') return [...ALL_KINDS];
  return [...new Set(arg.split(',').map((k) => parseKind(k)))];
}

interface GetFlags {
  output: GetOutput;
  selector?: string;
  /** `--no-headers` (commander's negated `headers`). */
  headers?: boolean;
  sortBy?: string;
}

/**
 * Register `get` (`delete` is delete.ts's).
 *
 * @example
 *   registerGet(program, ctx) // vnp get iface -o yaml
 */
export function registerGet(program: Command, ctx: CliContext): void {
  program
    .command('get')
    .description('List resources of one or more kinds, or show some by name')
    .argument('<kinds>', `KIND, KIND,KIND… or all; kinds: ${kindHelp()}`)
    .argument('[names...]', 'resources by name (one kind only)')
    .option(
      '-o, --output <format>',
      'table | wide | json | yaml | name | jsonpath=TEMPLATE',
      getOutputArg,
      { format: 'table' } as GetOutput,
    )
    .option(
      '-l, --selector <selector>',
      'interfaces: records whose tags match; instances: those holding such a record',
    )
    .option('--no-headers', 'tables without their header line')
    .option('--sort-by <jsonpath>', 'sort by a field, e.g. .priority or {.tags.tier}')
    .addHelpText(
      'after',
      `
Examples:
  vnp get interfaces
  vnp get iface web-1 web-2 -o yaml
  vnp get iface,pol                              # several kinds
  vnp get all -o name
  vnp get iface --selector 'tier >= 2 && !has(quarantine)' -o wide
  vnp get pol --sort-by .priority --no-headers
  vnp get iface -o jsonpath='{.items[*].name}'
  vnp get iface web-1 -o jsonpath='{.ips[0]}'
  vnp get iface -o yaml > backup.yaml && vnp apply -f backup.yaml`,
    )
    .action(async (kindsArg: string, names: string[], opts: GetFlags, cmd: Command) => {
      const kinds = parseKinds(kindsArg);
      if (names.length > 0 && kinds.length > 1) {
        throw new VnpError('VNP_ERR_VALIDATION', 'names: give one kind to get resources by name', {
          field: 'names',
        });
      }
      const client = await ctx.client(cmd);
      const [{ formatGet }, { sortItems }] = await Promise.all([
        import('../get-output.js'),
        import('../json-path.js'),
      ]);
      const groups: [Kind, Record<string, unknown>[]][] = [];
      const recordNames =
        opts.selector === undefined ? undefined : await selected(client, opts.selector);
      for (const kind of kinds) {
        let items: Record<string, unknown>[];
        if (names.length > 0)
          items = (await Promise.all(names.map((n) => client.get(kind, n)))) as unknown as Record<
            string,
            unknown
          >[];
        else if (kind === 'Settings')
          items = [(await client.get(kind, 'default')) as unknown as Record<string, unknown>];
        else items = (await client.list(kind)) as unknown as Record<string, unknown>[];
        if (recordNames !== undefined)
          items = filterBySelector(kind, items, recordNames, opts.selector!);
        groups.push([kind, opts.sortBy ? sortItems(items, opts.sortBy) : items]);
      }
      const single =
        names.length === 1 || (names.length === 0 && kinds.length === 1 && kinds[0] === 'Settings');
      const total = groups.reduce((n, [, items]) => n + items.length, 0);
      if (total === 0 && (opts.output.format === 'table' || opts.output.format === 'wide')) {
        ctx.err(`no ${kinds.join(', ')} resources${opts.selector ? ' match the selector' : ''}\n`);
        return;
      }
      ctx.out(formatGet(groups, opts.output, { single, noHeaders: opts.headers === false }));
    });
}

/** The names of the records a selector matches (the manager evaluates it). */
async function selected(
  client: { list(kind: Kind, o: { selector: string }): Promise<unknown[]> },
  selector: string,
): Promise<Set<string>> {
  const records = (await client.list('Interface', { selector })) as {
    name: string;
    instance?: string;
  }[];
  return new Set(
    records.flatMap((r) => [
      `Interface/${r.name}`,
      ...(r.instance ? [`Instance/${r.instance}`] : []),
    ]),
  );
}

/** Interfaces the selector matches, instances holding one; other kinds have no tags. */
function filterBySelector(
  kind: Kind,
  items: Record<string, unknown>[],
  matched: Set<string>,
  selector: string,
): Record<string, unknown>[] {
  if (kind !== 'Interface' && kind !== 'Instance') {
    throw new VnpError(
      'VNP_ERR_VALIDATION',
      `--selector: ${kind} resources carry no tags; filter interfaces (and the instances holding them) with ${JSON.stringify(selector)}`,
      { field: 'selector' },
    );
  }
  return items.filter((i) => matched.has(`${kind}/${String(i.name)}`));
}
