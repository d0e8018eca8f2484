/**
 * The flow part of the Store (docs/flows.md) over a SqlClient; SqlStore delegates to
 * these so both backends share them. Every batch is one COPY for the rows (ids taken
 * from the sequence first) and one statement for the aggregate, its rows travelling as
 * one JSON parameter: no per-row round trip, no SQL text built from values.
 */
import {
  type FlowEndpoint,
  type FlowRecord,
  type FlowSummaryRow,
  type StoredFlow,
} from '../../model/flow.js';
import type { Protocol } from '../../model/types.js';
import { FlowAggregator } from '../flow-aggregator.js';
import type {
  FlowAggregates,
  FlowEndFilter,
  FlowQuery,
  FlowRetention,
  FlowTuple,
} from '../types.js';
import { toIso, toJson, toRevision } from './rows.js';
import { copyText, type SqlClient } from './sql-client.js';

// COPY, not INSERT: the text format is PostgreSQL's cheapest way in (no JSON parse of
// the filter columns, no per-row planning), 3–7× the rows/s of a json_to_recordset
// insert on both backends (measured in one run; docs/adr/0019-flow-store.md).
const COPY_FLOWS = `COPY vnp_flows (id, at, host, verdict, state, protocol, port, src_address,
    src_record, src_identity, dst_address, dst_record, dst_identity, policies, doc) FROM STDIN`;

// Ids are taken from the sequence first, so a batch knows them without RETURNING. One
// row back, not one per id: the first and last, and the list only when another
// manager's batch took ids in between (the range has holes).
const NEXT_IDS = `SELECT min(id)::text AS first, max(id)::text AS last,
    CASE WHEN max(id) - min(id) + 1 <> count(*) THEN string_agg(id::text, ',' ORDER BY id) END AS ids
  FROM (SELECT nextval('vnp_flows_id_seq') AS id FROM generate_series(1, $1::integer)) AS t`;

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
const PRUNE_ROWS = `WITH d AS (DELETE FROM vnp_flows WHERE id < (
    SELECT id FROM vnp_flows ORDER BY id DESC OFFSET $1 LIMIT 1) RETURNING 1)
  SELECT count(*) AS n FROM d`;

/** A text array literal of names: every element quoted, so any name is one element. */
function textArray(names: readonly string[]): string {
  return `{${names.map((n) => `"${n.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

/** What `doc` keeps of an end: the address (a column would normalise its text), port, partitions. */
function endDoc(e: FlowEndpoint): Omit<FlowEndpoint, 'record' | 'identity'> {
  return e.port === undefined
    ? { address: e.address, partitions: e.partitions }
    : { address: e.address, port: e.port, partitions: e.partitions };
}

/**
 * What `doc` keeps of a record: everything but the fields the filter columns already
 * hold exactly (host, verdict, state, protocol, port, each end's record and identity),
 * so the JSON the database converts per row is a third of the record. Time and
 * addresses stay in `doc` too: a column would normalise their text. Built field by
 * field: a rest spread per record cost more than the rest of the line.
 */
function docOf(r: FlowRecord): Record<string, unknown> {
  const doc: Record<string, unknown> = { time: r.time, src: endDoc(r.src), dst: endDoc(r.dst) };
  if (r.code !== undefined) doc.code = r.code;
  if (r.egress !== undefined) doc.egress = r.egress;
  if (r.ingress !== undefined) doc.ingress = r.ingress;
  if (r.packets !== undefined) doc.packets = r.packets;
  if (r.bytes !== undefined) doc.bytes = r.bytes;
  return doc;
}

/** The deciding policies of both sides as a text array literal. */
function policiesOf(r: FlowRecord): string {
  const e = r.egress?.policy;
  const i = r.ingress?.policy;
  return textArray(e && i ? [e, i] : e ? [e] : i ? [i] : []);
}

/** One COPY text line of a record with its id. */
function flowLine(r: FlowRecord, id: string): string {
  return `${id}\t${copyText(r.time)}\t${copyText(r.host)}\t${copyText(r.verdict)}\t${copyText(r.state)}\t${copyText(r.protocol)}\t${r.port}\t${copyText(r.src.address)}\t${copyText(r.src.record)}\t${r.src.identity}\t${copyText(r.dst.address)}\t${copyText(r.dst.record)}\t${r.dst.identity}\t${copyText(policiesOf(r))}\t${copyText(JSON.stringify(docOf(r)))}`;
}

/** The ids a batch of `n` took (NEXT_IDS' answer), in order. */
function idsOf(row: { first: string; last: string; ids: string | null }, n: number): string[] {
  if (row.ids !== null) return row.ids.split(',');
  const first = BigInt(row.first);
  return Array.from({ length: n }, (_, i) => String(first + BigInt(i)));
}

interface FlowRow {
  id: unknown;
  host: string;
  verdict: FlowRecord['verdict'];
  state: FlowRecord['state'];
  protocol: Protocol;
  port: number;
  src_record: string | null;
  src_identity: unknown;
  dst_record: string | null;
  dst_identity: unknown;
  doc: unknown;
}

const FLOW_COLUMNS = `id, host, verdict, state, protocol, port, src_record, src_identity,
  dst_record, dst_identity, doc`;

/** A stored row back to the record the agent sent (rows of either `doc` shape). */
function flowOf(row: FlowRow): StoredFlow {
  const doc = toJson<
    Record<string, unknown> & { time: string; src: FlowEndpoint; dst: FlowEndpoint }
  >(row.doc);
  const { time, src, dst, ...rest } = doc;
  const end = (e: FlowEndpoint, record: string | null, identity: unknown): FlowEndpoint => ({
    address: e.address,
    ...(e.port === undefined ? {} : { port: e.port }),
    ...(record === null ? {} : { record }),
    identity: toRevision(identity),
    partitions: e.partitions,
  });
  return {
    id: toRevision(row.id),
    time,
    host: row.host,
    src: end(src, row.src_record, row.src_identity),
    dst: end(dst, row.dst_record, row.dst_identity),
    protocol: row.protocol,
    port: row.port,
    verdict: row.verdict,
    state: row.state,
    ...rest,
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
    const r = await tx.query<{ first: string; last: string; ids: string | null }>(NEXT_IDS, [
      records.length,
    ]);
    const ids = idsOf(r.rows[0]!, records.length);
    let text = '';
    for (let i = 0; i < records.length; i++) text += `${flowLine(records[i]!, ids[i]!)}\n`;
    await tx.copyIn(COPY_FLOWS, text);
    if (aggregate) {
      const a = new FlowAggregator();
      a.add(records);
      await addAggregates(tx, a.drain());
    }
    return records.map((rec, i) => ({ id: toRevision(ids[i]), ...rec }));
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
  if (q.policy) conds.push(`${p(q.policy)} = ANY(policies)`);
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
  return toRevision(old.rows[0]?.n ?? 0) + toRevision(over.rows[0]?.n ?? 0);
}
