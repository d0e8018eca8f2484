/** `vnp history [--limit N]` and `vnp diff REV1 REV2`: revisions and what differs between two. */
import type { Command } from 'commander';
import { intArg, outputArg } from '../arguments.js';
import type { DiffEntry } from '../../client/api-types.js';
import type { CliContext } from '../context.js';
import { formatTable, toJson, toYaml, truncate, type OutputFormat } from '../output.js';

interface HistoryItem {
  revision: number;
  at: string;
  actor: string;
  action: string;
  summary: string;
}

/**
 * Register `history` and `diff`.
 *
 * @example
 *   registerHistory(program, ctx) // vnp history -n 10; vnp diff 3 7
 */
export function registerHistory(program: Command, ctx: CliContext): void {
  program
    .command('history')
    .description('Show revisions, newest first: time, actor, action and what changed')
    .option('-n, --limit <n>', 'at most this many revisions', intArg(1, 1000), 20)
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .addHelpText('after', '\nExamples:\n  vnp history\n  vnp history -n 5 -o json')
    .action(async (opts: { limit: number; output: OutputFormat }, cmd: Command) => {
      const client = await ctx.client(cmd);
      const r = await client.request<{ items: HistoryItem[] }>('GET', '/v1/history', {
        query: { limit: opts.limit },
      });
      if (opts.output === 'json') return ctx.out(toJson(r.items));
      if (opts.output === 'yaml') return ctx.out(toYaml(r.items));
      ctx.out(
        formatTable(
          ['REVISION', 'AT', 'ACTOR', 'ACTION', 'SUMMARY'],
          r.items.map((i) => [
            String(i.revision),
            i.at,
            i.actor,
            truncate(i.action, 40),
            truncate(i.summary, 70),
          ]),
        ),
      );
    });

  program
    .command('diff')
    .description('Show the resources that differ between two revisions')
    .argument('<from>', 'first revision', intArg(0, Number.MAX_SAFE_INTEGER))
    .argument('<to>', 'second revision', intArg(0, Number.MAX_SAFE_INTEGER))
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .addHelpText('after', '\nExamples:\n  vnp diff 12 15\n  vnp diff 12 15 -o yaml')
    .action(async (from: number, to: number, opts: { output: OutputFormat }, cmd: Command) => {
      const client = await ctx.client(cmd);
      const r = await client.request<{ changes: DiffEntry[] }>('GET', '/v1/diff', {
        query: { from, to },
      });
      if (opts.output === 'json') return ctx.out(toJson(r.changes));
      if (opts.output === 'yaml') return ctx.out(toYaml(r.changes));
      const { formatChanges } = await import('../impact-format.js');
      ctx.out(formatChanges(r.changes));
    });
}
