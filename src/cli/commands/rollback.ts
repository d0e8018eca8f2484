/** `vnp rollback REV [--yes]`: restore the policy state of a revision, after a preview. */
import type { Command } from 'commander';
import { formatPortSpec } from '../../model/ports.js';
import type { Protocol } from '../../model/types.js';
import { intArg, outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { formatTable, formatTags, toJson, toYaml, type OutputFormat } from '../output.js';

/** One side of an impact row: an identity (tags, records) or an outside address. */
interface Endpoint {
  identity: number;
  tags: Record<string, unknown>;
  records: number;
  examples: string[];
  address?: string;
}

/** An impact preview as the server returns it (src/engine/impact.ts). */
export interface ImpactAnswer {
  rows: {
    src: Endpoint;
    dst: Endpoint;
    proto: string;
    ports: [number, number];
    before: string;
    after: string;
  }[];
  truncated: number;
}

function endpointText(e: Endpoint): string {
  if (e.address !== undefined) return `outside ${e.address}`;
  const names = e.examples.join(',') + (e.records > e.examples.length ? ',…' : '');
  return `${names} (${e.records}) ${formatTags(e.tags)}`.trim();
}

/**
 * The impact table: which flows flip, most records first.
 *
 * @example formatImpact({ rows: [], truncated: 0 }) // 'impact: no flow changes its verdict\n'
 */
export function formatImpact(impact: ImpactAnswer): string {
  if (impact.rows.length === 0) return 'impact: no flow changes its verdict\n';
  const table = formatTable(
    ['SOURCE', 'DESTINATION', 'PORTS', 'BEFORE', 'AFTER'],
    impact.rows.map((r) => [
      endpointText(r.src),
      endpointText(r.dst),
      formatPortSpec({ proto: r.proto as Protocol, lo: r.ports[0], hi: r.ports[1] }),
      r.before,
      r.after,
    ]),
  );
  const more = impact.truncated > 0 ? `… and ${impact.truncated} more row(s)\n` : '';
  return `impact:\n${table}${more}`;
}

/** A resource diff list: `replace Policy/db-in`. */
export function formatChanges(changes: { op: string; kind: string; name: string }[]): string {
  if (changes.length === 0) return 'no resource differs\n';
  return changes.map((c) => `${c.op.padEnd(8)} ${c.kind}/${c.name}`).join('\n') + '\n';
}

interface RollbackAnswer {
  dryRun?: boolean;
  revision: number;
  rolledBackTo: number;
  diff: { op: string; kind: string; name: string }[];
  impact: ImpactAnswer;
}

/**
 * Register `rollback`.
 *
 * @example
 *   registerRollback(program, ctx) // vnp rollback 42 --yes
 */
export function registerRollback(program: Command, ctx: CliContext): void {
  program
    .command('rollback')
    .description(
      'Restore the policy state (policies, partitions, reactions, settings — not records) of a revision as a new revision',
    )
    .argument('<revision>', 'the revision to return to', intArg(0, Number.MAX_SAFE_INTEGER))
    .option('-y, --yes', 'apply after the preview (without it: preview only)')
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .addHelpText(
      'after',
      `
Examples:
  vnp rollback 42          # preview: what changes, which flows flip
  vnp rollback 42 --yes    # do it (audited as rollback:42)`,
    )
    .action(
      async (revision: number, opts: { yes?: boolean; output: OutputFormat }, cmd: Command) => {
        const client = await ctx.client(cmd);
        const preview = await client.request<RollbackAnswer>('POST', '/v1/rollback', {
          body: { revision, dryRun: true },
        });
        const final =
          opts.yes && preview.diff.length > 0
            ? await client.request<RollbackAnswer>('POST', '/v1/rollback', { body: { revision } })
            : preview;
        if (opts.output === 'json') return ctx.out(toJson(final));
        if (opts.output === 'yaml') return ctx.out(toYaml(final));
        ctx.out(formatChanges(preview.diff));
        ctx.out(formatImpact(preview.impact));
        if (preview.diff.length === 0)
          ctx.out(`the policy state already equals revision ${revision}\n`);
        else if (opts.yes)
          ctx.out(`rolled back to revision ${revision}: now at revision ${final.revision}\n`);
        else ctx.out(`preview only: run \`vnp rollback ${revision} --yes\` to apply\n`);
      },
    );
}
