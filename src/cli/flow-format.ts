/**
 * How `vnp flows` prints flow records: one line per record, read like `hubble
 * observe` — time, source (record, address:port, identity), destination, protocol and
 * port, verdict, and the side and policy/rule that decided. Pure.
 */
import type { FlowEndpoint, FlowRecord, FlowSide, FlowSummaryRow } from '../model/flow.js';
import { decidingSide } from '../model/flow.js';
import type { FlowFilters, FlowPage, FlowReplay } from '../client/api-types.js';
import { formatDuration } from '../model/duration.js';
import { formatTable } from './output.js';

export const FLOW_HEADERS = [
  'TIME',
  'SOURCE',
  'DESTINATION',
  'PROTO',
  'VERDICT',
  'DECIDED BY',
  'HOST',
];

function hostPort(address: string, port: number | undefined): string {
  if (port === undefined) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function endpoint(e: FlowEndpoint): string {
  const where = hostPort(e.address, e.port);
  return `${e.record ? `${e.record} ` : ''}${e.record ? `(${where})` : where} id:${e.identity}`;
}

function sideText(direction: string, side: FlowSide): string {
  const who =
    side.policy !== undefined
      ? `${side.policy}/${side.rule ?? ''}`
      : `default ${side.default ?? ''}`;
  return `${direction} ${who}${side.logged ? ' (log)' : ''}`;
}

/** The human size of a byte count: 900 B, 1.5 kB, 12 MB. */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/**
 * One row of the flow table.
 *
 * @example flowRow(record) // ['12:00:01.234', 'web1 (10.0.0.10:40000) id:300', …]
 */
export function flowRow(f: FlowRecord): string[] {
  const d = decidingSide(f);
  const verdict =
    f.state === 'closed'
      ? `CLOSED ${f.packets ?? 0} pkts ${formatBytes(f.bytes ?? 0)}`
      : f.verdict === 'allow'
        ? 'ALLOWED'
        : 'DENIED';
  const proto =
    f.protocol === 'icmp'
      ? `icmp/${f.port}${f.code !== undefined ? `/${f.code}` : ''}`
      : `${f.protocol}/${f.port}`;
  return [
    f.time.slice(11, 23),
    endpoint(f.src),
    endpoint(f.dst),
    proto,
    verdict,
    d ? sideText(d.direction, d.side) : '',
    f.host,
  ];
}

/** A flow table (rows in the order given). */
export function formatFlows(flows: readonly FlowRecord[]): string {
  return formatTable(FLOW_HEADERS, flows.map(flowRow));
}

/** One line of a followed stream (no header, fixed-width-ish columns). */
export function formatFlowLine(f: FlowRecord): string {
  const [time, src, dst, proto, verdict, by, host] = flowRow(f);
  return `${time}  ${src} -> ${dst}  ${proto}  ${verdict}  ${by}  [${host}]\n`;
}

/**
 * The summary table: one edge per row.
 *
 * @example formatSummary(rows, names) // 'SOURCE  DESTINATION  PROTO  VERDICT  DECIDED BY  CONNECTIONS  BYTES\n…'
 */
export function formatSummary(
  rows: readonly FlowSummaryRow[],
  name: (identity: number) => string,
): string {
  return formatTable(
    ['SOURCE', 'DESTINATION', 'PROTO', 'VERDICT', 'DECIDED BY', 'CONNECTIONS', 'BYTES'],
    rows.map((r) => [
      name(r.srcIdentity),
      name(r.dstIdentity),
      `${r.protocol}/${r.port}`,
      r.verdict,
      r.policy === '' ? 'default' : `${r.policy}/${r.rule}`,
      String(r.count),
      formatBytes(r.bytes),
    ]),
  );
}

/**
 * The summary's denies by deciding rule: what the kernels counted (exact, nftables
 * hosts) beside the samples stored, and a note when the rate limit kept samples back.
 *
 * @example formatDenied([{ policy: 'lockdown', rule: 'ingress[0]', packets: 3000, sampled: 61 }])
 *   // 'DENIED BY  PACKETS (EXACT)  SAMPLED\nlockdown/ingress[0]  3000  61\nnote: 2939 of 3000 …'
 */
export function formatDenied(
  rows: readonly { policy: string; rule: string; packets: number; sampled: number }[],
): string {
  if (rows.length === 0) return '';
  const table = formatTable(
    ['DENIED BY', 'PACKETS (EXACT)', 'SAMPLED'],
    rows.map((r) => [
      r.policy === '' ? 'default' : `${r.policy}/${r.rule}`,
      // Samples only (a host without per-rule counters, OVS): no exact count to show.
      r.packets > 0 || r.sampled === 0 ? String(r.packets) : '-',
      String(r.sampled),
    ]),
  );
  const packets = rows.reduce((n, r) => n + r.packets, 0);
  const kept = rows.reduce((n, r) => n + Math.max(0, r.packets - r.sampled), 0);
  const note =
    kept > 0
      ? `note: ${kept} of ${packets} denied packets have no sample record (per-host rate limit); PACKETS counts each one (kernel counters)\n`
      : '';
  return `\n${table}${note}`;
}

/**
 * What an empty listing says instead of a table: no flows, the filters that found none,
 * and why there may be none — the filters, no agent reporting to this manager (none
 * connected, or started with `--no-flows`), or retention having removed them.
 *
 * @example noFlows({ verdict: 'deny' }, page) // 'no flows (verdict=deny)\n  - the filters matched none…'
 */
export function noFlows(
  filters: FlowFilters,
  page: Pick<FlowPage, 'sampling' | 'retention'>,
): string {
  const parts = Object.entries(filters).map(([k, v]) => `${k}=${String(v)}`);
  const lines = [parts.length > 0 ? `no flows (${parts.join(' ')})` : 'no flows'];
  if (parts.length > 0)
    lines.push('  - the filters matched none: `vnp flows` without them lists the newest of all');
  if (page.sampling.reporting === 0)
    lines.push(
      '  - no agent has reported flows to this manager since it started: are the agents connected (`vnp peps`) and started without --no-flows?',
    );
  if (page.retention)
    lines.push(
      `  - flows are kept ${formatDuration(page.retention.ageMs)} and at most ${page.retention.maxRows.toLocaleString('en')} records (VNP_FLOW_RETENTION); older ones are gone`,
    );
  return `${lines.join('\n')}\n`;
}

/** The note `vnp flows` adds when records are missing samples (stderr). */
export function samplingNote(sampling: {
  sampled?: number;
  unsampled: number;
  dropped: number;
}): string | undefined {
  if (sampling.unsampled === 0 && sampling.dropped === 0) return undefined;
  const parts: string[] = [];
  if (sampling.unsampled > 0)
    parts.push(
      `${sampling.unsampled} of ${sampling.unsampled + (sampling.sampled ?? 0)} denied packets were not sampled (per-host rate limit)`,
    );
  if (sampling.dropped > 0)
    parts.push(`${sampling.dropped} flow records were dropped (buffers full)`);
  return `note: ${parts.join('; ')}; the totals stay exact (kernel deny counters: per rule in \`vnp flows summary\` and vnp_flows_total, per host in vnp_pep_flow_events).\n`;
}

/**
 * The `--against-flows` section of a dry run: what the change does to observed traffic.
 *
 * @example formatReplay(replay) // '412 flows from web-1 → db-1 tcp/5432 would be denied by ingress lockdown/ingress[0]\n'
 */
export function formatReplay(r: FlowReplay): string {
  const lines = [
    `against ${r.flows} observed connections since ${r.since} (${r.distinct} distinct, replayed in ${r.ms} ms): ${r.changedFlows} would change`,
  ];
  for (const c of r.changed)
    lines.push(
      `  ${c.count} flows from ${c.src} → ${c.dst} ${c.protocol}/${c.port} would be ${c.to === 'deny' ? 'denied' : 'allowed'} by ${c.decidedBy}`,
    );
  for (const a of r.audit)
    lines.push(
      `  audit: ${a.count} flows from ${a.src} → ${a.dst} ${a.protocol}/${a.port} would be ${a.wouldBe === 'deny' ? 'denied' : 'allowed'} by ${a.rules.join(', ')} (now ${a.verdict})`,
    );
  return `${lines.join('\n')}\n`;
}
