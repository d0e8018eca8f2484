/** `vnp watch [--since REV]`: follow committed changes as NDJSON (for scripts and debugging). */
import type { Command } from 'commander';
import { intArg } from '../arguments.js';
import type { CliContext } from '../context.js';

/**
 * Register `watch`.
 *
 * @example
 *   registerWatch(program, ctx) // vnp watch --since 0 | jq .revision
 */
export function registerWatch(program: Command, ctx: CliContext): void {
  program
    .command('watch')
    .description('Follow committed changes, one JSON object per line, until interrupted')
    .option(
      '--since <revision>',
      'start after this revision (default: now)',
      intArg(0, Number.MAX_SAFE_INTEGER),
    )
    .addHelpText(
      'after',
      `
Examples:
  vnp watch
  vnp watch --since 0 | jq -c '{revision, action}'`,
    )
    .action(async (opts: { since?: number }, cmd: Command) => {
      const client = await ctx.client(cmd);
      for await (const change of client.watch(opts.since)) ctx.out(JSON.stringify(change) + '\n');
    });
}
