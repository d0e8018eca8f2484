/** `vnp who-can-reach DST [--proto P] [--port N]`: identities and outside addresses allowed to reach a record. */
import type { Command } from 'commander';
import { formatPortSpec } from '../../model/ports.js';
import type { Protocol } from '../../model/types.js';
import { intArg, outputArg, protocolArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { formatTable, formatTags, toJson, toYaml, type OutputFormat } from '../output.js';

interface ReachSource {
  identity: number;
  tags: Record<string, unknown>;
  records: number;
  examples: string[];
  address?: string;
  cidrs?: string[];
  allowed: { proto: string; ports: [number, number] }[];
}

/** `tcp/443, udp/1-1024, icmp` from allowed segments. */
export function formatPortRanges(allowed: { proto: string; ports: [number, number] }[]): string {
  // 1..65535 is every port too (explicit ports start at 1): shown as the bare protocol.
  const all = (lo: number, hi: number) => lo <= 1 && hi === 65535;
  return allowed
    .map(({ proto, ports: [lo, hi] }) =>
      formatPortSpec({ proto: proto as Protocol, lo: all(lo, hi) ? 0 : lo, hi }),
    )
    .join(', ');
}

/**
 * Register `who-can-reach`.
 *
 * @example
 *   registerWhoCanReach(program, ctx) // vnp who-can-reach db-1 --proto tcp --port 5432
 */
export function registerWhoCanReach(program: Command, ctx: CliContext): void {
  program
    .command('who-can-reach')
    .description(
      'Show the identities (tags, record counts) and outside addresses allowed to reach a record',
    )
    .argument('<dst>', 'a record name or an address a record holds')
    .option('--proto <proto>', 'tcp | udp | sctp | icmp', protocolArg)
    .option('--port <n>', 'destination port', intArg(1, 65535))
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .addHelpText(
      'after',
      `
Examples:
  vnp who-can-reach db-1
  vnp who-can-reach db-1 --proto tcp --port 5432 -o json`,
    )
    .action(
      async (
        dst: string,
        opts: { proto?: Protocol; port?: number; output: OutputFormat },
        cmd: Command,
      ) => {
        const client = await ctx.client(cmd);
        const r = await client.request<{ dst: string; sources: ReachSource[] }>(
          'GET',
          '/v1/who-can-reach',
          {
            query: { dst, proto: opts.proto, port: opts.port },
          },
        );
        if (opts.output === 'json') return ctx.out(toJson(r));
        if (opts.output === 'yaml') return ctx.out(toYaml(r));
        if (r.sources.length === 0) return ctx.out(`nothing may reach ${dst}\n`);
        ctx.out(
          formatTable(
            ['SOURCE', 'RECORDS', 'TAGS / CIDRS', 'EXAMPLES', 'ALLOWED'],
            r.sources.map((source) => [
              source.address !== undefined
                ? `outside (${source.address})`
                : `identity ${source.identity}`,
              String(source.records),
              source.address !== undefined
                ? (source.cidrs ?? []).join('; ') || 'no cidr peer'
                : formatTags(source.tags),
              source.examples.join(',') + (source.records > source.examples.length ? ',…' : ''),
              formatPortRanges(source.allowed),
            ]),
          ),
        );
      },
    );
}
