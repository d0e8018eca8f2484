/**
 * `vnp tag`, `vnp untag`, `vnp attach`, `vnp detach`: one change to one interface
 * record — or, with `tag -l SELECTOR`, to every record a selector matches, as one
 * revision. Each takes `--wait[=strict]`; a change that changes nothing says so.
 */
import type { Command } from 'commander';
import { VnpError } from '../../model/errors.js';

import type { Tags } from '../../model/types.js';
import type { ApiResource } from '../../client/api-types.js';
import { intArg, outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { formatTags, toJson, toYaml, type OutputFormat } from '../output.js';
import type { ImpactAnswer } from '../impact-format.js';
import {
  addWaitOptions,
  waitQuery,
  waitSummary,
  type WaitFlags,
  type Waited,
} from './wait-options.js';

type OutFlags = { output: OutputFormat };
type WriteFlags = OutFlags & WaitFlags;
type Answer = ApiResource & { revision?: number; unchanged?: boolean; waited?: Waited };

function outputOption(cmd: Command): Command {
  return cmd.option(
    '-o, --output <format>',
    'json | yaml | table (the updated record)',
    outputArg,
    'table' as OutputFormat,
  );
}

/**
 * Print a one-record write: the record for scripts; for people `summary (revision N)`
 * with the wait report, or `NAME unchanged: why (no new revision)`.
 */
function printWrite(
  ctx: CliContext,
  opts: WriteFlags,
  rec: Answer,
  name: string,
  summary: string,
  unchangedWhy: string,
): void {
  const waited = waitSummary(ctx, opts, rec.waited, rec.unchanged ? undefined : rec.revision);
  if (opts.output === 'json') return ctx.out(toJson(rec));
  if (opts.output === 'yaml') return ctx.out(toYaml(rec));
  if (rec.unchanged) return ctx.out(`${name} unchanged: ${unchangedWhy} (no new revision)\n`);
  const rev = rec.revision !== undefined ? ` (revision ${rec.revision})` : '';
  ctx.out(`${summary}${rev}${waited}\n`);
}

/**
 * Parse tag arguments as `kubectl label` does: `key=value` sets (typed: `tier=2` is
 * an integer, `pci=true` a boolean, `owner={"team":"pay"}` JSON, `'2'` a string),
 * `key-` removes.
 *
 * @example
 *   parseTagArgs(['env=prod', 'tier=2', 'canary-']) // { set: { env: 'prod', tier: 2 }, remove: ['canary'] }
 */
export async function parseTagArgs(
  args: readonly string[],
): Promise<{ set: Tags; remove: string[] }> {
  const { parseTagAssignment, validateTagKey } = await import('../../model/tags.js');
  const set: Tags = {};
  const remove: string[] = [];
  for (const arg of args) {
    if (!arg.includes('=') && arg.endsWith('-') && arg.length > 1) {
      const key = validateTagKey(arg.slice(0, -1), 'key');
      if (key in set || remove.includes(key)) throw twice(key);
      remove.push(key);
      continue;
    }
    const { key, value } = parseTagAssignment(arg);
    if (key in set || remove.includes(key)) throw twice(key);
    set[key] = value;
  }
  return { set, remove };
}

function twice(key: string): VnpError {
  return new VnpError('VNP_ERR_TAG_INVALID', `tag ${key} is given twice`, { field: `tags.${key}` });
}

function describePatch(p: { set: Tags; remove: string[] }): string {
  const parts = [];
  if (Object.keys(p.set).length > 0) parts.push(`tagged ${formatTags(p.set)}`);
  if (p.remove.length > 0) parts.push(`untagged ${p.remove.join(',')}`);
  return parts.join(', ');
}

interface BulkAnswer {
  dryRun?: boolean;
  revision: number;
  matched: string[];
  changed: string[];
  impact: ImpactAnswer;
  waited?: Waited;
}

async function tagSelected(
  ctx: CliContext,
  cmd: Command,
  selector: string,
  args: string[],
  opts: WriteFlags & { dryRun?: boolean; limit: number },
): Promise<void> {
  const patch = await parseTagArgs(args);
  const r = await (
    await ctx.client(cmd)
  ).request<BulkAnswer>('POST', '/v1/tags', {
    body: { selector, ...patch, ...(opts.dryRun ? { dryRun: true } : {}) },
    query: waitQuery(opts),
  });
  const committed = !r.dryRun && r.changed.length > 0;
  const waited = waitSummary(ctx, opts, r.waited, committed ? r.revision : undefined);
  if (opts.output === 'json') return ctx.out(toJson(r));
  if (opts.output === 'yaml') return ctx.out(toYaml(r));
  const what = `${r.matched.length} record(s) match, ${r.changed.length} change`;
  if (r.changed.length === 0) return ctx.out(`${what}: nothing to do (no new revision)\n`);
  ctx.out(`${describePatch(patch)}: ${r.changed.join(', ')}\n`);
  ctx.out((await import('../impact-format.js')).formatImpact(r.impact, opts.limit));
  ctx.out(
    r.dryRun
      ? `dry run: ${what}; nothing was changed\n`
      : `${what} at revision ${r.revision}${waited}\n`,
  );
}

/**
 * Register the interface record operations.
 *
 * @example
 *   registerInterfaceOps(program, ctx) // vnp tag web-1 env=prod tier=2
 */
export function registerInterfaceOps(program: Command, ctx: CliContext): void {
  registerTag(program, ctx);

  const untag = program
    .command('untag')
    .description('Remove tags from an interface record')
    .argument('<iface>', 'interface record name')
    .argument('<key...>', 'tag keys to remove');
  addWaitOptions(outputOption(untag))
    .addHelpText(
      'after',
      `
Examples:
  vnp untag web-3 quarantine
  vnp untag web-1 owner pci --wait`,
    )
    .action(async (iface: string, keys: string[], opts: WriteFlags, cmd: Command) => {
      const rec = (await (
        await ctx.client(cmd)
      ).patchTags(iface, { remove: keys }, waitQuery(opts))) as Answer;
      const summary = `${iface} untagged ${keys.join(',')}`;
      printWrite(ctx, opts, rec, iface, summary, `it has no tag ${keys.join(', ')}`);
    });

  const attach = program
    .command('attach')
    .description(
      'Attach an interface record to an instance (moves it, with its addresses and tags, if attached elsewhere)',
    )
    .argument('<iface>', 'interface record name')
    .argument('<instance>', 'instance name');
  addWaitOptions(outputOption(attach))
    .addHelpText(
      'after',
      '\nExamples:\n  vnp attach web-1 vm-web-1\n  vnp attach web-1 vm-web-2 --wait',
    )
    .action(async (iface: string, instance: string, opts: WriteFlags, cmd: Command) => {
      const rec = (await (
        await ctx.client(cmd)
      ).attach(iface, instance, waitQuery(opts))) as Answer;
      const summary = `${iface} attached to ${instance}`;
      printWrite(ctx, opts, rec, iface, summary, `it is attached to ${instance} already`);
    });

  const detach = program
    .command('detach')
    .description('Detach an interface record from its instance')
    .argument('<iface>', 'interface record name');
  addWaitOptions(outputOption(detach))
    .addHelpText('after', '\nExamples:\n  vnp detach web-1\n  vnp detach web-1 --wait=strict')
    .action(async (iface: string, opts: WriteFlags, cmd: Command) => {
      const rec = (await (await ctx.client(cmd)).detach(iface, waitQuery(opts))) as Answer;
      printWrite(ctx, opts, rec, iface, `${iface} detached`, 'it is attached to no instance');
    });
}

function registerTag(program: Command, ctx: CliContext): void {
  const tag = program
    .command('tag')
    .usage('[options] IFACE key=value|key-…  |  -l SELECTOR key=value|key-…')
    .description(
      'Set (key=value) and remove (key-) tags of an interface record, or with -l of every record a selector matches — one change, one revision; PEPs follow within milliseconds',
    )
    .argument(
      '<args...>',
      "IFACE then tags (without IFACE when -l is given): strings bare, integers, true/false, JSON objects/arrays; quote '2' for the string; key- removes",
    )
    .option('-l, --selector <selector>', 'every record whose tags match (one revision)')
    .option('--dry-run', 'with -l: show the records and the flows that would flip; change nothing')
    .option('--limit <n>', 'with -l: impact rows shown (all are counted)', intArg(0, 100000), 20);
  addWaitOptions(outputOption(tag))
    .addHelpText(
      'after',
      `
Examples:
  vnp tag web-1 env=prod tier=2 pci=true
  vnp tag db-1 'owner={"team":"pay","cc":41}'
  vnp tag web-3 quarantine=true canary-          # set one tag, remove another
  vnp tag web-3 quarantine=true --wait --timeout 5s
  vnp tag -l 'app == "web"' canary=true --dry-run
  vnp tag -l 'app == "web"' canary=true          # one revision for every match`,
    )
    .action(
      async (
        args: string[],
        opts: WriteFlags & { selector?: string; dryRun?: boolean; limit: number },
        cmd: Command,
      ) => {
        if (opts.selector !== undefined) return tagSelected(ctx, cmd, opts.selector, args, opts);
        if (opts.dryRun)
          throw new VnpError('VNP_ERR_VALIDATION', '--dry-run: only with -l SELECTOR', {
            field: 'dry-run',
          });
        const [iface, ...assignments] = args;
        if (iface === undefined || assignments.length === 0) {
          throw new VnpError(
            'VNP_ERR_VALIDATION',
            'expected IFACE key=value… (or -l SELECTOR key=value…)',
            { field: 'args' },
          );
        }
        const patch = await parseTagArgs(assignments);
        const body = {
          ...(Object.keys(patch.set).length > 0 ? { set: patch.set } : {}),
          ...(patch.remove.length > 0 ? { remove: patch.remove } : {}),
        };
        const rec = (await (
          await ctx.client(cmd)
        ).patchTags(iface, body, waitQuery(opts))) as Answer;
        const summary = `${iface} ${describePatch(patch)}`;
        printWrite(ctx, opts, rec, iface, summary, `it has ${describeTarget(patch)} already`);
      },
    );
}

function describeTarget(p: { set: Tags; remove: string[] }): string {
  const parts = [];
  if (Object.keys(p.set).length > 0) parts.push(formatTags(p.set));
  if (p.remove.length > 0) parts.push(`no ${p.remove.join(', ')}`);
  return parts.join(' and ');
}
