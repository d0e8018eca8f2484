/** `vnp tag`, `vnp untag`, `vnp attach`, `vnp detach`: one change to one interface record. */
import type { Command } from 'commander';
import { VnpError } from '../../model/errors.js';
import type { Tags } from '../../model/types.js';
import type { ApiResource } from '../../client/api-types.js';
import { outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { formatTags, toJson, toYaml, type OutputFormat } from '../output.js';

type OutFlags = { output: OutputFormat };

function printRecord(ctx: CliContext, opts: OutFlags, rec: ApiResource, summary: string): void {
  if (opts.output === 'json') ctx.out(toJson(rec));
  else if (opts.output === 'yaml') ctx.out(toYaml(rec));
  else ctx.out(summary + '\n');
}

const revisionText = (rec: ApiResource): string =>
  (rec as { revision?: number }).revision !== undefined
    ? ` (revision ${(rec as { revision?: number }).revision})`
    : '';

/**
 * Parse `key=value` arguments into a tag map (typed: `tier=2` is an integer,
 * `pci=true` a boolean, `owner={"team":"pay"}` JSON, `'2'` in quotes a string).
 *
 * @example
 *   await parseTagArgs(['env=prod', 'tier=2']) // { env: 'prod', tier: 2 }
 */
export async function parseTagArgs(args: readonly string[]): Promise<Tags> {
  const { parseTagAssignment } = await import('../../model/tags.js');
  const tags: Tags = {};
  for (const arg of args) {
    const { key, value } = parseTagAssignment(arg);
    if (key in tags)
      throw new VnpError('VNP_ERR_TAG_INVALID', `tag ${key} is given twice`, {
        field: `tags.${key}`,
      });
    tags[key] = value;
  }
  return tags;
}

/**
 * Register the interface record operations.
 *
 * @example
 *   registerInterfaceOps(program, ctx) // vnp tag web-1 env=prod tier=2
 */
export function registerInterfaceOps(program: Command, ctx: CliContext): void {
  program
    .command('tag')
    .description('Set tags on an interface record (one change; PEPs follow within milliseconds)')
    .argument('<iface>', 'interface record name')
    .argument(
      '<key=value...>',
      "tags: strings bare, integers, true/false, JSON objects/arrays; quote '2' for the string",
    )
    .option(
      '-o, --output <format>',
      'json | yaml | table (the updated record)',
      outputArg,
      'table' as OutputFormat,
    )
    .addHelpText(
      'after',
      `
Examples:
  vnp tag web-1 env=prod tier=2 pci=true
  vnp tag db-1 'owner={"team":"pay","cc":41}'
  vnp tag web-3 quarantine=true
  vnp tag web-3 quarantine=true --wait --timeout 5s`,
    )
    .option('--wait', 'return once every connected PEP the change concerns enforces it')
    .option('--timeout <duration>', 'how long --wait waits (5s, 500ms, 1m)', '5s')
    .action(
      async (
        iface: string,
        assignments: string[],
        opts: OutFlags & { wait?: boolean; timeout: string },
        cmd: Command,
      ) => {
        const set = await parseTagArgs(assignments);
        const client = await ctx.client(cmd);
        const rec = await client.patchTags(iface, { set }, opts.wait ? { wait: opts.timeout } : {});
        const waited = (rec as { waited?: { ms: number; hosts: number } }).waited;
        const waitText = waited
          ? `; enforced by ${waited.hosts} PEP${waited.hosts === 1 ? '' : 's'} after ${waited.ms} ms`
          : '';
        printRecord(
          ctx,
          opts,
          rec,
          `${iface} tagged ${formatTags(set)}${revisionText(rec)}${waitText}`,
        );
      },
    );

  program
    .command('untag')
    .description('Remove tags from an interface record')
    .argument('<iface>', 'interface record name')
    .argument('<key...>', 'tag keys to remove')
    .option(
      '-o, --output <format>',
      'json | yaml | table (the updated record)',
      outputArg,
      'table' as OutputFormat,
    )
    .addHelpText(
      'after',
      `
Examples:
  vnp untag web-3 quarantine
  vnp untag web-1 owner pci`,
    )
    .action(async (iface: string, keys: string[], opts: OutFlags, cmd: Command) => {
      const client = await ctx.client(cmd);
      const rec = await client.patchTags(iface, { remove: keys });
      printRecord(ctx, opts, rec, `${iface} untagged ${keys.join(',')}${revisionText(rec)}`);
    });

  program
    .command('attach')
    .description(
      'Attach an interface record to an instance (moves it, with its addresses and tags, if attached elsewhere)',
    )
    .argument('<iface>', 'interface record name')
    .argument('<instance>', 'instance name')
    .option(
      '-o, --output <format>',
      'json | yaml | table (the updated record)',
      outputArg,
      'table' as OutputFormat,
    )
    .addHelpText(
      'after',
      `
Examples:
  vnp attach web-1 vm-web-1`,
    )
    .action(async (iface: string, instance: string, opts: OutFlags, cmd: Command) => {
      const client = await ctx.client(cmd);
      const rec = await client.attach(iface, instance);
      printRecord(ctx, opts, rec, `${iface} attached to ${instance}${revisionText(rec)}`);
    });

  program
    .command('detach')
    .description('Detach an interface record from its instance')
    .argument('<iface>', 'interface record name')
    .option(
      '-o, --output <format>',
      'json | yaml | table (the updated record)',
      outputArg,
      'table' as OutputFormat,
    )
    .addHelpText(
      'after',
      `
Examples:
  vnp detach web-1`,
    )
    .action(async (iface: string, opts: OutFlags, cmd: Command) => {
      const client = await ctx.client(cmd);
      const rec = await client.detach(iface);
      printRecord(ctx, opts, rec, `${iface} detached${revisionText(rec)}`);
    });
}
