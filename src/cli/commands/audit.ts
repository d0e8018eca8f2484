/** `vnp audit [--limit N]`: who changed what, newest first. */
import type { Command } from 'commander';
import { intArg, outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { parseKind } from '../kinds.js';
import { formatTable, toJson, toYaml, truncate, type OutputFormat } from '../output.js';

interface AuditFlags {
  limit: number;
  kind?: string;
  name?: string;
  since?: number;
  output: OutputFormat;
}

/**
 * Register `audit`.
 *
 * @example
 *   registerAudit(program, ctx) // vnp audit --limit 20
 */
export function registerAudit(program: Command, ctx: CliContext): void {
  program
    .command('audit')
    .description('Show the audit log: committed changes by actor and time, newest first')
    .option('-n, --limit <n>', 'at most this many entries', intArg(1, 1000), 50)
    .option('--kind <kind>', 'only changes to this kind')
    .option('--name <name>', 'only changes to resources of this name')
    .option(
      '--since <revision>',
      'only changes after this revision',
      intArg(0, Number.MAX_SAFE_INTEGER),
    )
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .addHelpText(
      'after',
      `
Examples:
  vnp audit
  vnp audit --limit 5 --kind iface --name web-1
  vnp audit -o json | jq '.[0].revision'`,
    )
    .action(async (opts: AuditFlags, cmd: Command) => {
      const client = await ctx.client(cmd);
      const entries = await client.audit({
        limit: opts.limit,
        ...(opts.kind !== undefined ? { kind: parseKind(opts.kind) } : {}),
        ...(opts.name !== undefined ? { name: opts.name } : {}),
        ...(opts.since !== undefined ? { since: opts.since } : {}),
      });
      if (opts.output === 'json') ctx.out(toJson(entries));
      else if (opts.output === 'yaml') ctx.out(toYaml(entries));
      else
        ctx.out(
          formatTable(
            ['REVISION', 'AT', 'ACTOR', 'ACTION', 'CHANGES'],
            entries.map((e) => [
              String(e.revision),
              e.at,
              e.actor,
              truncate(e.action, 40),
              truncate(
                (e.changes ?? [])
                  .map((c) => `${c.op === 'delete' ? '-' : ''}${c.kind}/${c.name}`)
                  .join(','),
                70,
              ),
            ]),
          ),
        );
    });
}
