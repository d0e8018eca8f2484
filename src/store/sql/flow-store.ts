/**
 * The flow part of the Store (docs/flows.md) over a SqlClient; SqlStore delegates to
 * these so both backends share them. Every batch is one COPY for the rows (ids taken
 * from the sequence first, in blocks) and one statement per aggregate, its rows
 * travelling as one JSON parameter: no per-row round trip, no SQL text built from
 * values.
 */
import {
  type FlowEndpoint,
  type FlowRecord,
  type FlowSide,
  type FlowSummaryRow,
  type StoredFlow,
} from '../../model/flow.js';
import { formatIp, parseIp } from '../../model/net.js';
import type { Protocol } from '../../model/types.js';
import { FlowAggregator } from '../flow-aggregator.js';
import type {
  FlowAggregates,
  FlowEndFilter,
  FlowQuery,
  FlowRetention,
  FlowTuple,
} from '../types.js';
import { toIso, toRevision } from './rows.js';
import { CopyLines, copyText, type SqlClient } from './sql-client.js';

// COPY, not INSERT: the text format is PostgreSQL's cheapest way in (no JSON parse of
// the filter columns, no per-row planning), 3–7× the rows/s of a json_to_recordset
// insert on both backends (measured in one run; docs/adr/0019-flow-store.md). Every
// field has its typed column (migration 10, ADR 0049): no JSON per row.
const COPY_FLOWS = `COPY vnp_flows (id, at, host, verdict, state, protocol, port,
    src_address, src_record, src_identity, src_port, src_partitions,
    dst_address, dst_record, dst_identity, dst_port, dst_partitions, code,
    egress_verdict, egress_policy, egress_rule, egress_default, egress_logged,
    ingress_verdict, ingress_policy, ingress_rule, ingress_default, ingress_logged,
    packets, bytes) FROM STDIN`;

/** The sequence's increment (migration 10): each `nextval` hands out this many ids. */
export const FLOW_ID_BLOCK = 1000;

// Ids are taken from the sequence first, so a batch knows them without RETURNING: one
// `nextval` per block of FLOW_ID_BLOCK ids. A block's unused ids are skipped (ids are
// paging keys, increasing, not counts).
const NEXT_BLOCKS = `SELECT nextval('vnp_flows_id_seq')::text AS id
  FROM generate_series(1, $1::integer)`;

// Keys arrive sorted, so two managers adding to the same minutes lock them in one order.
const UPSERT_MINUTES = `INSERT INTO vnp_flow_minutes (minute, src_identity, dst_identity, protocol,
    port, verdict, policy, rule, count, bytes)
  SELECT minute, src_identity, dst_identity, protocol, port, verdict, policy, rule, count, bytes
  FROM json_to_recordset($1::json) AS x(minute timestamptz, src_identity bigint,
    dst_identity bigint, protocol text, port integer, verdict text, policy text, rule text,
    count bigint, bytes bigint)
  ON CONFLICT (minute, src_identity, dst_identity, protocol, port, verdict, policy, rule)
  DO UPDATE SET count = vnp_flow_minutes.count + excluded.count,
    bytes = vnp_flow_minutes.bytes + excluded.bytes`;

const SUMMARY = `SELECT min(minute) AS first, max(minute) AS last, src_identity, dst_identity,
    protocol, port, verdict, policy, rule, sum(count) AS count, sum(bytes) AS bytes
  FROM vnp_flow_minutes WHERE minute >= $1 AND ($2::timestamptz IS NULL OR minute < $2)
  GROUP BY src_identity, dst_identity, protocol, port, verdict, policy, rule
  ORDER BY sum(count) DESC, src_identity, dst_identity, protocol, port, verdict, policy, rule
  LIMIT 10000`;

// Whole minutes: a replay reads distinct connections × minutes, never every flow row.
const TUPLES = `SELECT host(src) AS src, host(dst) AS dst, protocol, port, verdict, sum(count) AS n
  FROM vnp_flow_tuples
  WHERE minute >= date_trunc('minute', $1::timestamptz) AND ($2::timestamptz IS NULL OR minute < date_trunc('minute', $2::timestamptz))
  GROUP BY src, dst, protocol, port, verdict`;

// Keys arrive sorted, as for the minutes.
const UPSERT_TUPLES = `INSERT INTO vnp_flow_tuples (minute, src, dst, protocol, port, verdict, count)
  SELECT minute, src, dst, protocol, port, verdict, count
  FROM json_to_recordset($1::json) AS x(minute timestamptz, src inet, dst inet, protocol text,
    port integer, verdict text, count bigint)
  ON CONFLICT (minute, src, dst, protocol, port, verdict)
  DO UPDATE SET count = vnp_flow_tuples.count + excluded.count`;

const PRUNE_AGE = `WITH d AS (DELETE FROM vnp_flows WHERE at <= $1 RETURNING 1) SELECT count(*) AS n FROM d`;
const PRUNE_MINUTES = `DELETE FROM vnp_flow_minutes WHERE minute + interval '1 minute' <= $1`;
const PRUNE_TUPLES = `DELETE FROM vnp_flow_tuples WHERE minute + interval '1 minute' <= $1`;
const SUMMARIZE_TIMES = `SELECT brin_summarize_new_values('vnp_flows_at_idx')`;
const PRUNE_ROWS = `WITH d AS (DELETE FROM vnp_flows WHERE id < (
    SELECT id FROM vnp_flows ORDER BY id DESC OFFSET $1 LIMIT 1) RETURNING 1)
  SELECT count(*) AS n FROM d`;

/** A text array literal of names: every element quoted, so any name is one element. */
function textArray(names: readonly string[]): string {
  if (names.length === 0) return '{}';
  return `{${names.map((n) => `"${n.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

const NULL = '\\N';
const opt = (v: string | undefined): string => (v === undefined ? NULL : copyText(v));
const optInt = (v: number | undefined): string => (v === undefined ? NULL : String(v));
const bool = (v: boolean | undefined): string => (v === undefined ? NULL : v ? 't' : 'f');

/** The five columns of a side (verdict NULL: the record has no such side). */
function sideText(side: FlowSide | undefined): string {
  if (side === undefined) return `${NULL}\t${NULL}\t${NULL}\t${NULL}\t${NULL}`;
  return `${copyText(side.verdict)}\t${opt(side.policy)}\t${opt(side.rule)}\t${opt(side.default)}\t${bool(side.logged)}`;
}

/** The five columns of an end: address, record, identity, port, partitions. */
function endText(e: FlowEndpoint): string {
  return `${copyText(e.address)}\t${opt(e.record)}\t${e.identity}\t${optInt(e.port)}\t${copyText(textArray(e.partitions))}`;
}

/** One COPY text line of a record with its id, field by field (no intermediate objects). */
function flowLine(r: FlowRecord, id: number): string {
  return `${id}\t${copyText(r.time)}\t${copyText(r.host)}\t${copyText(r.verdict)}\t${copyText(r.state)}\t${copyText(r.protocol)}\t${r.port}\t${endText(r.src)}\t${endText(r.dst)}\t${optInt(r.code)}\t${sideText(r.egress)}\t${sideText(r.ingress)}\t${optInt(r.packets)}\t${optInt(r.bytes)}`;
}

/** The ids of a batch of `n` from its blocks' first ids (NEXT_BLOCKS' answer), in order. */
function idsOf(blocks: readonly { id: string }[], n: number): number[] {
  const firsts = blocks.map((b) => Number(b.id)).sort((a, b) => a - b);
  const ids: number[] = [];
  for (const first of firsts)
    for (let k = 0; k < FLOW_ID_BLOCK && ids.length < n; k++) ids.push(first + k);
  return ids;
}

interface FlowRow {
  id: unknown;
  at: unknown;
  host: string;
  verdict: FlowRecord['verdict'];
  state: FlowRecord['state'];
  protocol: Protocol;
  port: number;
  code: number | null;
  packets: unknown;
  bytes: unknown;
  [column: string]: unknown;
}

const endColumns = (e: 'src' | 'dst') =>
  `host(${e}_address) AS ${e}_address, ${e}_record, ${e}_identity, ${e}_port, ${e}_partitions`;
const sideColumns = (s: 'egress' | 'ingress') =>
  `${s}_verdict, ${s}_policy, ${s}_rule, ${s}_default, ${s}_logged`;

const FLOW_COLUMNS = `id, at, host, verdict, state, protocol, port, ${endColumns('src')},
  ${endColumns('dst')}, code, ${sideColumns('egress')}, ${sideColumns('ingress')}, packets, bytes`;

/**
 * An address as the batch check gives it back (formatIp): IPv4 text is the same in
 * PostgreSQL; IPv6 text goes through the same formatter.
 */
function addressOf(text: string): string {
  if (!text.includes(':')) return text;
  const ip = parseIp(text);
  return ip === undefined ? text : formatIp(ip);
}

function endOf(row: FlowRow, e: 'src' | 'dst'): FlowEndpoint {
  const port = row[`${e}_port`] as number | null;
  const record = row[`${e}_record`] as string | null;
  const partitions = row[`${e}_partitions`] as string[];
  return {
    address: addressOf(row[`${e}_address`] as string),
    ...(port === null ? {} : { port }),
    ...(record === null ? {} : { record }),
    identity: toRevision(row[`${e}_identity`]),
    partitions,
  };
}

function sideOf(row: FlowRow, s: 'egress' | 'ingress'): FlowSide | undefined {
  const verdict = row[`${s}_verdict`] as FlowSide['verdict'] | null;
  if (verdict === null) return undefined;
  const policy = row[`${s}_policy`] as string | null;
  const rule = row[`${s}_rule`] as string | null;
  const def = row[`${s}_default`] as FlowSide['default'] | null;
  const logged = row[`${s}_logged`] as boolean | null;
  return {
    verdict,
    ...(policy === null ? {} : { policy }),
    ...(rule === null ? {} : { rule }),
    ...(def === null ? {} : { default: def }),
    ...(logged === null ? {} : { logged }),
  };
}

/** A stored row back to the record the agent sent. */
function flowOf(row: FlowRow): StoredFlow {
  const egress = sideOf(row, 'egress');
  const ingress = sideOf(row, 'ingress');
  return {
    id: toRevision(row.id),
    time: toIso(row.at),
    host: row.host,
    src: endOf(row, 'src'),
    dst: endOf(row, 'dst'),
    protocol: row.protocol,
    port: row.port,
    ...(row.code === null ? {} : { code: row.code }),
    verdict: row.verdict,
    ...(egress ? { egress } : {}),
    ...(ingress ? { ingress } : {}),
    state: row.state,
    ...(row.packets === null ? {} : { packets: toRevision(row.packets) }),
    ...(row.bytes === null ? {} : { bytes: toRevision(row.bytes) }),
  };
}

/**
 * Store a batch; returns the records with their ids.
 *
 * @example await insertFlows(client, [record]) // [{ id: 1, ...record }]
 */
export async function insertFlows(
  client: SqlClient,
  records: readonly FlowRecord[],
  aggregate = true,
): Promise<StoredFlow[]> {
  if (records.length === 0) return [];
  return client.transaction(async (tx) => {
    // Telemetry: a crash may lose the last batches, never a policy write; not waiting
    // for the WAL flush keeps flow batches from holding connections (ADR 0019).
    await tx.query('SET LOCAL synchronous_commit TO off');
    const r = await tx.query<{ id: string }>(NEXT_BLOCKS, [
      Math.ceil(records.length / FLOW_ID_BLOCK),
    ]);
    const ids = idsOf(r.rows, records.length);
    // A flow line is 150–300 bytes: growing the buffer copied it (2% of a profile).
    const lines = new CopyLines(records.length * 320);
    for (let i = 0; i < records.length; i++) lines.add(flowLine(records[i]!, ids[i]!));
    await tx.copyIn(COPY_FLOWS, lines.bytes());
    if (aggregate) {
      const a = new FlowAggregator();
      a.add(records);
      await addAggregates(tx, a.drain());
    }
    return records.map((rec, i) => ({ id: ids[i]!, ...rec }));
  });
}

async function addAggregates(tx: SqlClient, a: FlowAggregates): Promise<void> {
  if (a.minutes.length) await tx.query(UPSERT_MINUTES, [JSON.stringify(a.minutes)]);
  if (a.tuples.length) await tx.query(UPSERT_TUPLES, [JSON.stringify(a.tuples)]);
}

/**
 * Add a manager's sums (FlowAggregator) to the aggregates, in one transaction.
 *
 * @example await addFlowAggregates(client, aggregator.drain())
 */
export async function addFlowAggregates(client: SqlClient, a: FlowAggregates): Promise<void> {
  if (a.minutes.length === 0 && a.tuples.length === 0) return;
  await client.transaction(async (tx) => {
    await tx.query('SET LOCAL synchronous_commit TO off');
    await addAggregates(tx, a);
  });
}

/** A WHERE clause and its parameters, built from a query (values only as parameters). */
function where(q: FlowQuery): { text: string; params: unknown[] } {
  const conds: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.verdict) conds.push(`verdict = ${p(q.verdict)}`);
  if (q.host) conds.push(`host = ${p(q.host)}`);
  if (q.policy) {
    const policy = p(q.policy);
    conds.push(`(egress_policy = ${policy} OR ingress_policy = ${policy})`);
  }
  if (q.since) conds.push(`at >= ${p(q.since)}`);
  if (q.until) conds.push(`at < ${p(q.until)}`);
  if (q.before !== undefined) conds.push(`id < ${p(q.before)}`);
  const end = (col: 'src' | 'dst', f: FlowEndFilter) =>
    conds.push(
      `(${col}_record IN (SELECT json_array_elements_text(${p(JSON.stringify(f.records))}::json))` +
        ` OR ${col}_identity IN (SELECT json_array_elements_text(${p(JSON.stringify(f.identities))}::json)::bigint)` +
        ` OR EXISTS (SELECT 1 FROM json_array_elements_text(${p(JSON.stringify(f.cidrs))}::json) c` +
        ` WHERE ${col}_address <<= c::inet))`,
    );
  if (q.from) end('src', q.from);
  if (q.to) end('dst', q.to);
  return { text: conds.length ? `WHERE ${conds.join(' AND ')}` : '', params };
}

/**
 * Flows matching a query, newest first.
 *
 * @example await listFlows(client, { verdict: 'deny', limit: 100 })
 */
export async function listFlows(client: SqlClient, q: FlowQuery): Promise<StoredFlow[]> {
  const w = where(q);
  const r = await client.query<FlowRow>(
    `SELECT ${FLOW_COLUMNS} FROM vnp_flows ${w.text} ORDER BY id DESC LIMIT ${Math.trunc(q.limit)}`,
    w.params,
  );
  return r.rows.map(flowOf);
}

interface SummaryRow {
  first: unknown;
  last: unknown;
  src_identity: unknown;
  dst_identity: unknown;
  protocol: string;
  port: number;
  verdict: 'allow' | 'deny';
  policy: string;
  rule: string;
  count: unknown;
  bytes: unknown;
}

/**
 * The aggregate over a window (at most 10,000 edges, the busiest first).
 *
 * @example await flowSummary(client, '2026-01-01T00:00:00Z')
 */
export async function flowSummary(
  client: SqlClient,
  since: string,
  until?: string,
): Promise<FlowSummaryRow[]> {
  const r = await client.query<SummaryRow>(SUMMARY, [since, until ?? null]);
  return r.rows.map((row) => ({
    first: toIso(row.first),
    last: toIso(row.last),
    srcIdentity: toRevision(row.src_identity),
    dstIdentity: toRevision(row.dst_identity),
    protocol: row.protocol as Protocol,
    port: Number(row.port),
    verdict: row.verdict,
    policy: row.policy,
    rule: row.rule,
    count: toRevision(row.count),
    bytes: toRevision(row.bytes),
  }));
}

/**
 * Distinct connections of a window with their counts (replays), in whole minutes: `since`
 * counts from the start of its minute, `until` up to the start of its.
 *
 * @example await flowTuples(client, since) // [{ src: '10.0.0.5', dst: '10.0.0.6', protocol: 'tcp', port: 80, verdict: 'allow', count: 12 }]
 */
export async function flowTuples(
  client: SqlClient,
  since: string,
  until?: string,
): Promise<FlowTuple[]> {
  const r = await client.query<{
    src: string;
    dst: string;
    protocol: string;
    port: number;
    verdict: 'allow' | 'deny';
    n: unknown;
  }>(TUPLES, [since, until ?? null]);
  return r.rows.map((row) => ({
    src: row.src,
    dst: row.dst,
    protocol: row.protocol as Protocol,
    port: Number(row.port),
    verdict: row.verdict,
    count: toRevision(row.n),
  }));
}

/**
 * Apply retention: by age (rows and minutes), then by row count.
 *
 * @example await pruneFlows(client, { before: '2026-01-01T00:00:00Z', maxRows: 1_000_000 })
 */
export async function pruneFlows(client: SqlClient, r: FlowRetention): Promise<number> {
  const old = await client.query<{ n: unknown }>(PRUNE_AGE, [r.before]);
  await client.query(PRUNE_MINUTES, [r.before]);
  await client.query(PRUNE_TUPLES, [r.before]);
  const over = await client.query<{ n: unknown }>(PRUNE_ROWS, [r.maxRows - 1]);
  // The time index's new block ranges (migration 11): PGlite has no autovacuum to do it.
  await client.query(SUMMARIZE_TIMES);
  return toRevision(old.rows[0]?.n ?? 0) + toRevision(over.rows[0]?.n ?? 0);
}
