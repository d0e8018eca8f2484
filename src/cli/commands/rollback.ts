/** `vnp rollback REV [--yes]`: restore the policy state of a revision, after a preview. */
import type { Command } from 'commander';
import type { DiffEntry } from '../../client/api-types.js';
import { intArg, outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import type { ImpactAnswer } from '../impact-format.js';
import { toJson, toYaml, type OutputFormat } from '../output.js';
import {
  addWaitOptions,
  waitQuery,
  waitSummary,
  type WaitFlags,
  type Waited,
} from './wait-options.js';

interface RollbackAnswer {
  dryRun?: boolean;
  revision: number;
  rolledBackTo: number;
  diff: DiffEntry[];
  impact: ImpactAnswer;
  waited?: Waited;
}

type RollbackFlags = WaitFlags & { yes?: boolean; output: OutputFormat; limit: number };

/**
 * Register `rollback`.
 *
 * @example
 *   registerRollback(program, ctx) // vnp rollback 42 --yes
 */
export function registerRollback(program: Command, ctx: CliContext): void {
  const command = program
    .command('rollback')
    .description(
      'Restore the policy state (policies, partitions, reactions, settings — not records) of a revision as a new revision',
    )
    .argument('<revision>', 'the revision to return to', intArg(0, Number.MAX_SAFE_INTEGER))
    .option('-y, --yes', 'apply after the preview (without it: preview only)')
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .option('--limit <n>', 'impact rows shown in the table (all are counted)', intArg(0, 5000), 20);
  addWaitOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  vnp rollback 42              # preview: what changes, how many flows flip, the first 20
  vnp rollback 42 --limit 100  # preview with more impact rows
  vnp rollback 42 --yes        # do it (audited as rollback:42)
  vnp rollback 42 --yes --wait # and wait for the PEPs`,
    )
    .action(async (revision: number, opts: RollbackFlags, cmd: Command) => {
      const client = await ctx.client(cmd);
      // One request: --yes commits (its answer carries the same diff and impact);
      // without it, a dry run. A no-op --yes is not a dry run and says so.
      const r = (await client.rollback(
        revision,
        !opts.yes,
        waitQuery(opts),
      )) as unknown as RollbackAnswer;
      const committed = opts.yes === true && r.diff.length > 0;
      const waited = waitSummary(ctx, opts, r.waited, committed ? r.revision : undefined);
      if (opts.output === 'json') return ctx.out(toJson(r));
      if (opts.output === 'yaml') return ctx.out(toYaml(r));
      const { formatChanges, formatImpact } = await import('../impact-format.js');
      ctx.out(formatChanges(r.diff));
      ctx.out(formatImpact(r.impact, opts.limit));
      if (r.diff.length === 0)
        ctx.out(`the policy state already equals revision ${revision}: nothing to do\n`);
      else if (opts.yes)
        ctx.out(`rolled back to revision ${revision}: now at revision ${r.revision}${waited}\n`);
      else ctx.out(`preview only: run \`vnp rollback ${revision} --yes\` to apply\n`);
    });
}
