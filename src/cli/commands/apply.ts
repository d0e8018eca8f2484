/** `vnp apply -f FILE|DIR [--dry-run]`: one all-or-nothing batch. */
import type { Command } from 'commander';
import type { Document, TestDocument } from '../../model/types.js';
import { collect, outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { toJson, toYaml, type OutputFormat } from '../output.js';
import type { ImpactAnswer } from '../impact-format.js';
import {
  addWaitOptions,
  waitQuery,
  waitSummary,
  type WaitFlags,
  type Waited,
} from './wait-options.js';

/** Batches above this many documents show a progress bar (on a TTY). */
export const PROGRESS_THRESHOLD = 1000;

interface ApplyFlags extends WaitFlags {
  filename?: string[];
  dryRun?: boolean;
  /** With --dry-run: replay the flows observed in this window through the change. */
  againstFlows?: string;
  strict?: boolean;
  output: OutputFormat;
  verbose?: boolean;
}

/**
 * Register `apply`.
 *
 * @example
 *   registerApply(program, ctx) // vnp apply -f examples/three-tier --dry-run
 */
export function registerApply(program: Command, ctx: CliContext): void {
  const command = program
    .command('apply')
    .description('Create or replace resources from YAML/JSON files, all or nothing')
    .option(
      '-f, --filename <path>',
      'file, directory (recursive, sorted) or - for stdin; repeatable',
      collect,
    )
    .option('--dry-run', 'show what would change and run the tests, change nothing')
    .option(
      '--against-flows <window>',
      'with --dry-run: replay the flows observed in this window (1h, or an ISO time) through the change and list those whose verdict would flip',
    )
    .option(
      '--strict',
      'refuse the apply on any rule warning; also warn of rules that match no record',
    )
    .option(
      '-o, --output <format>',
      'json | yaml | table (the result)',
      outputArg,
      'table' as OutputFormat,
    )
    .option('-v, --verbose', 'also list unchanged resources');
  addWaitOptions(command)
    .addHelpText(
      'after',
      `
Documents carry kind and name beside their fields; YAML files may hold several
documents separated by ---. kind: Test documents ({name, src, dst, proto?, port?,
expect: allow|deny}) are checked against the state the apply would produce: one
failing test refuses the whole apply. Resources not named are left alone.

Warnings (on stderr) name every rule of the written policies that can never decide
a flow, and the rule that decides first instead (docs/semantics.md, "Rules that can
never decide"). --strict turns them into an error that refuses the apply, and also
warns of rules whose policy, selector or partition matches no record.

Examples:
  vnp apply -f examples/three-tier
  vnp apply -f policy.yaml --dry-run
  vnp apply -f policy.yaml --wait=strict      # fail unless every host concerned has a PEP
  vnp apply -f policy.yaml --strict
  vnp get iface -o yaml | vnp apply -f -`,
    )
    .action(async (opts: ApplyFlags, cmd: Command) => {
      if (opts.filename === undefined || opts.filename.length === 0) {
        cmd.error('error: required option -f, --filename <path> not specified', { exitCode: 1 });
      }
      await runApply(ctx, cmd, opts.filename, opts);
    });
}

async function runApply(
  ctx: CliContext,
  cmd: Command,
  paths: string[],
  opts: ApplyFlags,
): Promise<void> {
  const [{ loadDocuments }, { ProgressBar }, { formatApplyResult }, { relocateError }] =
    await Promise.all([
      import('../load-documents.js'),
      import('../progress.js'),
      import('../diff-format.js'),
      import('../relocate-error.js'),
    ]);
  const bar = new ProgressBar(ctx.io.stderr, 'parsing');
  let showBar = false;
  const loaded = loadDocuments(paths, {
    cwd: ctx.io.cwd,
    ...(ctx.io.readStdin ? { readStdin: ctx.io.readStdin } : {}),
    onProgress: (done, total, docs) => {
      // The count is only known as files are read: start drawing once it is big.
      if (docs > PROGRESS_THRESHOLD) showBar = true;
      if (showBar) bar.update(done, total, ` ${docs} documents`);
    },
  });
  if (loaded.length === 0) {
    ctx.err('nothing to apply: no documents found\n');
    return;
  }
  showBar = loaded.length > PROGRESS_THRESHOLD;
  const documents = loaded.map((l) => l.doc as unknown as Document | TestDocument);
  if (showBar) bar.phase(`uploading ${documents.length} documents`);
  const client = await ctx.client(cmd);
  const result = await client
    .apply(
      { documents, dryRun: opts.dryRun === true, strict: opts.strict === true },
      {
        ...waitQuery(opts),
        ...(showBar
          ? {
              onUploadProgress: (sent: number, total: number) => {
                bar.update(sent, total);
                if (sent >= total)
                  bar.done(`uploaded ${documents.length} documents; waiting for the manager…`);
              },
            }
          : {}),
      },
    )
    .catch((e: unknown) => {
      if (showBar) bar.done();
      // The manager names documents[i]; the user wrote files: name file:line:col.
      throw relocateError(e, loaded);
    });
  if (showBar) bar.done();
  const replay =
    opts.againstFlows === undefined
      ? undefined
      : (
          await client.impact({
            documents: documents.filter((d): d is Document => d.kind !== 'Test'),
            againstFlows: opts.againstFlows,
            limit: 1,
          })
        ).againstFlows;
  for (const w of result.ruleWarnings ?? []) ctx.err(`warning: ${w.message}\n`);
  const waited = waitSummary(ctx, opts, (result as { waited?: Waited }).waited, result.revision);
  const full = replay ? { ...result, againstFlows: replay } : result;
  if (opts.output === 'json') ctx.out(toJson(full));
  else if (opts.output === 'yaml') ctx.out(toYaml(full));
  else
    ctx.out(
      formatApplyResult(
        { ...result, dryRun: result.dryRun ?? opts.dryRun === true },
        { verbose: opts.verbose === true },
      ).replace(/\n$/, `${waited}\n`),
    );
  // A dry run answers with an impact preview: which flows would flip.
  const impact = (result as { impact?: ImpactAnswer }).impact;
  if (opts.output === 'table' && impact)
    ctx.out((await import('../impact-format.js')).formatImpact(impact));
  if (opts.output === 'table' && replay)
    ctx.out((await import('../flow-format.js')).formatReplay(replay));
}
