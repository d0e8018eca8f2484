/** `vnp get KIND [NAME] [-o json|yaml] [--selector S]` and `vnp delete KIND NAME`. */
import type { Command } from 'commander';
import { outputArg } from '../arguments.js';
import { VnpError } from '../../model/errors.js';
import type { CliContext } from '../context.js';
import { kindHelp, parseKind } from '../kinds.js';
import { toJson, toYaml, type OutputFormat } from '../output.js';

/**
 * Register `get` and `delete`.
 *
 * @example
 *   registerGet(program, ctx) // vnp get iface -o yaml
 */
export function registerGet(program: Command, ctx: CliContext): void {
  program
    .command('get')
    .description('List resources of a kind, or show one')
    .argument('<kind>', `resource kind: ${kindHelp()}`)
    .argument('[name]', 'one resource by name')
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .option(
      '-l, --selector <selector>',
      'interfaces only: records whose tags match, e.g. \'env == "prod"\'',
    )
    .addHelpText(
      'after',
      `
Examples:
  vnp get interfaces
  vnp get iface web-1 -o yaml
  vnp get iface --selector 'tier >= 2 && !has(quarantine)'
  vnp get pol -o json | jq '.[].name'
  vnp get iface -o yaml > backup.yaml && vnp apply -f backup.yaml`,
    )
    .action(
      async (
        kindArg: string,
        name: string | undefined,
        opts: { output: OutputFormat; selector?: string },
        cmd: Command,
      ) => {
        const kind = parseKind(kindArg);
        const client = await ctx.client(cmd);
        const { resourceTable } = await import('../resource-table.js');
        // Settings is a singleton: `vnp get settings` shows the one object.
        if (name !== undefined || kind === 'Settings') {
          const item = await client.get(kind, name ?? 'default');
          ctx.out(
            opts.output === 'json'
              ? toJson(item)
              : opts.output === 'yaml'
                ? toYaml(item)
                : resourceTable(kind, [item]),
          );
          return;
        }
        const items = await client.list(
          kind,
          opts.selector !== undefined ? { selector: opts.selector } : {},
        );
        if (opts.output === 'json') ctx.out(toJson(items));
        else if (opts.output === 'yaml')
          ctx.out(items.length === 0 ? '' : toYaml(items, { multiDocument: true }));
        else if (items.length === 0)
          ctx.err(`no ${kind} resources${opts.selector ? ' match the selector' : ''}\n`);
        else ctx.out(resourceTable(kind, items));
      },
    );

  program
    .command('delete')
    .description('Delete a resource by kind and name')
    .argument('<kind>', `resource kind: ${kindHelp()}`)
    .argument('<name>', 'resource name')
    .addHelpText(
      'after',
      `
Examples:
  vnp delete policy allow-web
  vnp delete iface web-3`,
    )
    .action(async (kindArg: string, name: string, _opts: unknown, cmd: Command) => {
      const kind = parseKind(kindArg);
      if (kind === 'Settings') {
        throw new VnpError(
          'VNP_ERR_VALIDATION',
          'Settings cannot be deleted: apply a Settings document to change the defaults',
          {
            field: 'kind',
          },
        );
      }
      const client = await ctx.client(cmd);
      await client.delete(kind, name);
      ctx.out(`${kind}/${name} deleted\n`);
    });
}
