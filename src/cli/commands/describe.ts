/** `vnp describe KIND NAME`: a resource and what it means in the model (kubectl describe). */
import type { Command } from 'commander';
import { outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { kindHelp, parseKind } from '../kinds.js';
import type { OutputFormat } from '../output.js';

/**
 * Register `describe`.
 *
 * @example
 *   registerDescribe(program, ctx) // vnp describe iface web-1
 */
export function registerDescribe(program: Command, ctx: CliContext): void {
  program
    .command('describe')
    .description(
      'Show a resource with its identity, partitions, the rules that apply in order, records, events and history',
    )
    .argument('<kind>', `one of: ${kindHelp()}`)
    .argument('[name]', 'the resource (settings: none)')
    .option('-o, --output <format>', 'table | json | yaml', outputArg, 'table' as OutputFormat)
    .addHelpText(
      'after',
      `
Examples:
  vnp describe iface web-1          # identity, partitions, rules in order, events, history
  vnp describe partition shop       # its members
  vnp describe policy quarantine -o yaml`,
    )
    .action(
      async (
        kindArg: string,
        name: string | undefined,
        opts: { output: OutputFormat },
        cmd: Command,
      ) => {
        const kind = parseKind(kindArg);
        if (name === undefined && kind !== 'Settings') {
          const { VnpError } = await import('../../model/errors.js');
          throw new VnpError('VNP_ERR_VALIDATION', `name: describe ${kindArg} needs a NAME`, {
            field: 'name',
          });
        }
        const client = await ctx.client(cmd);
        const [{ describe }, { formatDescribe }, { toJson, toYaml }] = await Promise.all([
          import('../describe-report.js'),
          import('../describe-format.js'),
          import('../output.js'),
        ]);
        const report = await describe(client, kind, name ?? 'default');
        if (opts.output === 'json') return ctx.out(toJson(report));
        if (opts.output === 'yaml') return ctx.out(toYaml(report));
        ctx.out(formatDescribe(report));
      },
    );
}
