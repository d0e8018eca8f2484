/**
 * `vnp flows [--follow] [filters] [-o json|yaml]` and `vnp flows summary`: the
 * connections the kernels judged, with the policy that decided (docs/flows.md).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { FlowFilters } from '../../client/index.js';
import { intArg, outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { toJson, toYaml, type OutputFormat } from '../output.js';

interface FlowFlags extends FlowFilters {
  follow?: boolean;
  limit: number;
  output: OutputFormat;
}

function filtersOf(o: FlowFlags): FlowFilters {
  const keys = ['verdict', 'from', 'to', 'policy', 'host', 'since', 'until'] as const;
  const out: FlowFilters = {};
  for (const k of keys) if (o[k] !== undefined) (out as Record<string, string>)[k] = o[k]!;
  return out;
}

function verdictArg(v: string): 'allow' | 'deny' {
  if (v === 'allow' || v === 'deny') return v;
  throw new InvalidArgumentError('expected allow or deny');
}

/**
 * Register `flows` and `flows summary`.
 *
 * @example registerFlows(program, ctx) // vnp flows --verdict deny --since 10m
 */
export function registerFlows(program: Command, ctx: CliContext): void {
  const flows = program
    .command('flows')
    .description('Show the connections the kernels judged, with the deciding policy, newest last')
    .option('-f, --follow', 'after the recent flows, print new ones as they come')
    .option('--verdict <verdict>', 'allow | deny', verdictArg)
    .option('--from <source>', 'source: a record name, an address or prefix, or a selector')
    .option('--to <destination>', 'destination: a record name, an address or prefix, or a selector')
    .option('--policy <name>', 'decided (on either side) by this policy')
    .option('--host <host>', 'reported by this PEP host')
    .option('--since <time>', 'ISO time or a duration ago (10m, 1h)')
    .option('--until <time>', 'ISO time or a duration ago')
    .option('-n, --limit <n>', 'at most this many recent flows', intArg(1, 1000), 20)
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .addHelpText(
      'after',
      `
Examples:
  vnp flows --verdict deny --since 10m
  vnp flows --from web-1 --to 'tier == "db"' --follow
  vnp flows --policy lockdown -o json | jq '.[].dst.address'
  vnp flows summary --since 1h`,
    )
    .action(async (opts: FlowFlags, cmd: Command) => {
      const client = await ctx.client(cmd);
      const { formatFlowLine, formatFlows, noFlows, samplingNote } =
        await import('../flow-format.js');
      const filters = filtersOf(opts);
      const page = await client.flows({ ...filters, limit: opts.limit });
      const recent = [...page.items].reverse();
      if (opts.output === 'json' && !opts.follow) ctx.out(toJson(recent));
      else if (opts.output === 'yaml' && !opts.follow) ctx.out(toYaml(recent));
      else if (opts.output === 'table' && !opts.follow)
        ctx.out(recent.length > 0 ? formatFlows(recent) : noFlows(filters, page));
      const note = samplingNote(page.sampling);
      if (note) ctx.err(note);
      if (!opts.follow) return;
      const line = (f: (typeof recent)[number]) =>
        opts.output === 'table' ? formatFlowLine(f) : `${JSON.stringify(f)}\n`;
      for (const f of recent) ctx.out(line(f));
      for await (const f of client.watchFlows(filters)) ctx.out(line(f));
    });

  flows
    .command('summary')
    .description(
      'The observed connectivity graph: connections and bytes per edge and deciding rule',
    )
    .option('--since <time>', 'ISO time or a duration ago', '1h')
    .option('--until <time>', 'ISO time or a duration ago')
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .addHelpText(
      'after',
      `
Examples:
  vnp flows summary
  vnp flows summary --since 24h -o json | jq '.items[] | select(.verdict == "deny")'`,
    )
    .action(async (opts: { since: string; until?: string; output: OutputFormat }, cmd: Command) => {
      const client = await ctx.client(cmd.parent ?? cmd);
      const summary = await client.flowSummary({
        since: opts.since,
        ...(opts.until !== undefined ? { until: opts.until } : {}),
      });
      if (opts.output === 'json') return ctx.out(toJson(summary));
      if (opts.output === 'yaml') return ctx.out(toYaml(summary));
      const name = (id: number): string => {
        if (id === 1) return 'world';
        const info = summary.identities[String(id)];
        const tags = info ? Object.entries(info.tags).map(([k, v]) => `${k}=${String(v)}`) : [];
        return `${id}${tags.length ? ` (${tags.join(',')})` : ''}`;
      };
      const { formatDenied, formatSummary } = await import('../flow-format.js');
      ctx.out(formatSummary(summary.items, name) + formatDenied(summary.denied ?? []));
    });
}
