/** `vnp identities [-l SELECTOR] [--record NAME]`: live identities, like `cilium identity list`. */
import type { Command } from 'commander';
import { outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import type { OutputFormat } from '../output.js';

/** Show at most this many record names per identity in the table (`-o json` has all). */
const SHOWN = 5;

/**
 * Register `identities`.
 *
 * @example
 *   registerIdentities(program, ctx) // vnp identities -l 'tier == 2'
 */
export function registerIdentities(program: Command, ctx: CliContext): void {
  program
    .command('identities')
    .alias('identity')
    .description('List identities: identity-relevant tags, partitions, records and their hosts')
    .option('-l, --selector <selector>', 'only identities of the records this selector matches')
    .option('--record <name>', 'only the identity of this record')
    .option('-o, --output <format>', 'table | json | yaml', outputArg, 'table' as OutputFormat)
    .addHelpText(
      'after',
      `
Examples:
  vnp identities
  vnp identities -l 'tier == 2'
  vnp identities --record web-1 -o yaml`,
    )
    .action(
      async (opts: { selector?: string; record?: string; output: OutputFormat }, cmd: Command) => {
        const client = await ctx.client(cmd);
        const items = await client.identities({ selector: opts.selector, record: opts.record });
        const { formatTable, formatTags, toJson, toYaml } = await import('../output.js');
        if (opts.output === 'json') return ctx.out(toJson(items));
        if (opts.output === 'yaml') return ctx.out(toYaml(items));
        if (items.length === 0) return ctx.err('no identities\n');
        const names = (r: string[]) =>
          r.slice(0, SHOWN).join(',') + (r.length > SHOWN ? `,… (${r.length})` : '');
        ctx.out(
          formatTable(
            ['ID', 'TAGS', 'PARTITIONS', 'RECORDS', 'HOSTS'],
            items.map((i) => [
              String(i.id),
              formatTags(i.tags),
              i.partitions.join(',') || '-',
              names(i.records),
              i.hosts.join(',') || '-',
            ]),
          ),
        );
      },
    );
}
