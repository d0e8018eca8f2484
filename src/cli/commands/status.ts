/** `vnp status`: is the manager up, at which revision, with how many objects and PEPs. */
import type { Command } from 'commander';
import type { VnpClient } from '../../client/client.js';
import type { PepInfo } from '../../client/api-types.js';
import { KINDS, KIND_PLURAL, type Kind } from '../../model/types.js';
import { outputArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { cell, formatTable, toJson, toYaml, type OutputFormat } from '../output.js';

/** What `vnp status -o json` prints. */
export interface StatusReport {
  server: string;
  healthy: boolean;
  ready: boolean;
  readiness?: unknown;
  revision?: number;
  /** Store backend: `pglite` or `postgres`. */
  backend?: string;
  counts: Partial<Record<string, number>>;
  peps: PepInfo[];
}

const COUNTED: readonly Kind[] = KINDS.filter((k) => k !== 'Settings');

/**
 * Gather the status report (reads only).
 *
 * @example
 *   const report = await gatherStatus(client); // report.counts.interfaces === 6
 */
export async function gatherStatus(client: VnpClient): Promise<StatusReport> {
  const health = await client.health();
  const ready = await client.ready();
  const report: StatusReport = {
    server: client.server,
    healthy: health.ok,
    ready: ready.ok,
    counts: {},
    peps: [],
  };
  if (!ready.ok) report.readiness = ready.body;
  const readyBody = ready.body as { revision?: unknown; backend?: unknown } | undefined;
  if (typeof readyBody?.revision === 'number') report.revision = readyBody.revision;
  if (typeof readyBody?.backend === 'string') report.backend = readyBody.backend;
  if (!ready.ok) return report;
  const [counts, peps, audit] = await Promise.all([
    countObjects(client),
    client.peps(),
    report.revision === undefined ? client.audit({ limit: 1 }) : Promise.resolve([]),
  ]);
  report.counts = counts;
  report.peps = peps;
  if (report.revision === undefined) report.revision = audit[0]?.revision ?? 0;
  return report;
}

/**
 * Object counts from the manager's `vnp_objects` gauge (one small request at any
 * scale); listing every kind is the fallback when /metrics says nothing.
 */
async function countObjects(client: VnpClient): Promise<Partial<Record<string, number>>> {
  const fromMetrics = parseObjectCounts(await client.metrics().catch(() => ''));
  if (COUNTED.every((k) => fromMetrics[k] !== undefined)) {
    return Object.fromEntries(COUNTED.map((k) => [KIND_PLURAL[k], fromMetrics[k]!]));
  }
  const listed = await Promise.all(
    COUNTED.map(async (k) => [KIND_PLURAL[k], (await client.list(k)).length] as const),
  );
  return Object.fromEntries(listed);
}

/**
 * `vnp_objects{kind="Interface"} 9` lines → `{ Interface: 9 }`.
 *
 * @example
 *   parseObjectCounts('vnp_objects{kind="Subnet"} 4\n') // { Subnet: 4 }
 */
export function parseObjectCounts(metrics: string): Partial<Record<Kind, number>> {
  const out: Partial<Record<Kind, number>> = {};
  for (const m of metrics.matchAll(/^vnp_objects\{kind="([A-Za-z]+)"\}\s+([0-9.e+]+)\s*$/gm)) {
    if ((KINDS as readonly string[]).includes(m[1]!)) out[m[1] as Kind] = Number(m[2]);
  }
  return out;
}

/** The report for people. */
export function formatStatus(r: StatusReport): string {
  const lines = [
    `server:    ${r.server}`,
    `health:    ${r.healthy ? 'ok' : 'failing'}`,
    `ready:     ${r.ready ? 'yes' : `no${r.readiness !== undefined ? ' — ' + JSON.stringify(r.readiness) : ''}`}`,
  ];
  if (r.backend !== undefined) lines.push(`store:     ${r.backend}`);
  if (r.revision !== undefined) lines.push(`revision:  ${r.revision}`);
  if (Object.keys(r.counts).length > 0) {
    lines.push(
      `objects:   ${Object.entries(r.counts)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}`,
    );
  }
  let out = lines.join('\n') + '\n';
  if (r.ready) {
    out += `PEPs:      ${r.peps.length === 0 ? 'none connected' : r.peps.length}\n`;
    if (r.peps.length > 0) out += '\n' + pepTable(r.peps);
  }
  return out;
}

function pepTable(peps: readonly PepInfo[]): string {
  const rows = peps.map((p) => [
    p.host,
    p.kind ?? '-',
    p.connected ? 'yes' : 'no',
    cell(p.appliedRevision),
    cell(p.lag),
    cell(p.lastContact),
  ]);
  return formatTable(
    ['HOST', 'KIND', 'CONNECTED', 'APPLIED-REVISION', 'LAG', 'LAST-CONTACT'],
    rows,
  );
}

/**
 * Register `status`.
 *
 * @example
 *   registerStatus(program, ctx, setExitCode) // vnp status -o json
 */
export function registerStatus(
  program: Command,
  ctx: CliContext,
  setExitCode: (code: number) => void,
): void {
  program
    .command('status')
    .description('Manager health, revision, object counts and PEPs (exit 1 when not ready)')
    .option('-o, --output <format>', 'json | yaml | table', outputArg, 'table' as OutputFormat)
    .addHelpText(
      'after',
      `
Examples:
  vnp status
  vnp --server http://10.0.0.5:7400 status -o json`,
    )
    .action(async (opts: { output: OutputFormat }, cmd: Command) => {
      const report = await gatherStatus(await ctx.client(cmd));
      if (opts.output === 'json') ctx.out(toJson(report));
      else if (opts.output === 'yaml') ctx.out(toYaml(report));
      else ctx.out(formatStatus(report));
      if (!report.healthy || !report.ready) setExitCode(1);
    });
}
