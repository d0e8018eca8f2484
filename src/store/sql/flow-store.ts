/**
 * The flow part of the Store (docs/flows.md) over a SqlClient; SqlStore delegates to
 * these so both backends share them. Every batch is one COPY for the rows (ids taken
 * from the sequence first) and one statement for the aggregate, its rows travelling as
 * one JSON parameter: no per-row round trip, no SQL text built from values.
 */
import {
  decision,
  type FlowEndpoint,
  type FlowRecord,
  type FlowSummaryRow,
  type StoredFlow,
} from '../../model/flow.js';
import type { Protocol } from '../../model/types.js';
import type { FlowEndFilter, FlowQuery, FlowRetention, FlowTuple } from '../types.js';
import { toIso, toJson, toRevision } from './rows.js';
import { copyText, type SqlClient } from './sql-client.js';

// COPY, not INSERT: the text format is PostgreSQL's cheapest way in (no JSON parse of
// the filter columns, no per-row planning), 3–7× the rows/s of a json_to_recordset
// insert on both backends (measured in one run; docs/adr/0019-flow-store.md).
const COPY_FLOWS = `COPY vnp_flows (id, at, host, verdict, state, protocol, port, src_address,
    src_record, src_identity, dst_address, dst_record, dst_identity, policies, doc) FROM STDIN`;

// Ids are taken from the sequence first, so a batch knows them without RETURNING.
const NEXT_IDS = `SELECT nextval('vnp_flows_id_seq') AS id FROM generate_series(1, $1::integer)`;

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

const UTC_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Minute start of an ISO time (UTC times, what agents send, by slicing: no Date). */
function minuteOf(time: string): string {
  if (UTC_ISO.test(time)) return `${time.slice(0, 16)}:00.000Z`;
  const ms = Date.parse(time);
  return new Date(ms - (ms % 60_000)).toISOString();
}

/** A text array literal of names: every element quoted, so any name is one element. */
function textArray(names: readonly string[]): string {
  return `{${names.map((n) => `"${n.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

/**
 * What `doc` keeps of a record: everything but the fields the filter columns already
 * hold exactly (host, verdict, state, protocol, port, each end's record and identity),
 * so the JSON the database converts per row is a third of the record. Time and
 * addresses stay in `doc` too: a column would normalise their text.
 */
function docOf(r: FlowRecord): Record<string, unknown> {
  const { host: _h, verdict: _v, state: _s, protocol: _p, port: _o, src, dst, ...rest } = r;
  const end = ({ record: _r, identity: _i, ...kept }: FlowEndpoint) => kept;
  return { ...rest, src: end(src), dst: end(dst) };
}

/** One COPY text line of a record with its id. */
function flowLine(r: FlowRecord, id: string): string {
  const policies = [r.egress?.policy, r.ingress?.policy].filter((p): p is string => !!p);
  return [
    id,
    copyText(r.time),
    copyText(r.host),
    copyText(r.verdict),
    copyText(r.state),
    copyText(r.protocol),
    copyText(r.port),
    copyText(r.src.address),
    copyText(r.src.record),
    copyText(r.src.identity),
    copyText(r.dst.address),
    copyText(r.dst.record),
    copyText(r.dst.identity),
    copyText(textArray(policies)),
    copyText(JSON.stringify(docOf(r))),
  ].join('\t');
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

/** The aggregate rows a batch adds to, one per key, sorted by key. */
function minuteRows(records: readonly FlowRecord[]) {
  const byKey = new Map<string, { key: unknown[]; count: number; bytes: number }>();
  for (const r of records) {
    const d = decision(r);
    const minute = minuteOf(r.time);
    // NUL separates: no stored string can hold one (the input guard refuses it).
    const k = `${minute}\0${r.src.identity}\0${r.dst.identity}\0${r.protocol}\0${r.port}\0${r.verdict}\0${d.policy}\0${d.rule}`;
    let e = byKey.get(k);
    if (!e) {
      const key = [
        minute,
        r.src.identity,
        r.dst.identity,
        r.protocol,
        r.port,
        r.verdict,
        d.policy,
        d.rule,
      ];
      byKey.set(k, (e = { key, count: 0, bytes: 0 }));
    }
    if (r.state === 'new') e.count++;
    e.bytes += r.bytes ?? 0;
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, { key, count, bytes }]) => {
      const [minute, src, dst, protocol, port, verdict, policy, rule] = key;
      return {
        minute,
        src_identity: src,
        dst_identity: dst,
        protocol,
        port,
        verdict,
        policy,
        rule,
        count,
        bytes,
      };
    });
}

/**
 * The replay rows a batch adds to: one per connection (a new flow reported with its
 * egress side, or by the destination's host for a source outside every record), one
 * row per key, sorted by key.
 */
function tupleRows(records: readonly FlowRecord[]) {
  const byKey = new Map<
    string,
    {
      minute: string;
      src: string;
      dst: string;
      protocol: string;
      port: number;
      verdict: string;
      count: number;
    }
  >();
  for (const r of records) {
    if (r.state !== 'new' || (!r.egress && r.src.record !== undefined)) continue;
    const minute = minuteOf(r.time);
    const k = `${minute}\0${r.src.address}\0${r.dst.address}\0${r.protocol}\0${r.port}\0${r.verdict}`;
    const e = byKey.get(k);
    if (e) e.count++;
    else
      byKey.set(k, {
        minute,
        src: r.src.address,
        dst: r.dst.address,
        protocol: r.protocol,
        port: r.port,
        verdict: r.verdict,
        count: 1,
      });
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, row]) => row);
}

/**
 * Store a batch; returns the records with their ids.
 *
 * @example await insertFlows(client, [record]) // [{ id: 1, ...record }]
 */
export async function insertFlows(
  client: SqlClient,
  records: readonly FlowRecord[],
): Promise<StoredFlow[]> {
  if (records.length === 0) return [];
  return client.transaction(async (tx) => {
    // Telemetry: a crash may lose the last batches, never a policy write; not waiting
    // for the WAL flush keeps flow batches from holding connections (ADR 0019).
    await tx.query('SET LOCAL synchronous_commit TO off');
    const r = await tx.query<{ id: unknown }>(NEXT_IDS, [records.length]);
    const ids = r.rows.map((row) => String(row.id));
    await tx.copyIn(COPY_FLOWS, records.map((rec, i) => flowLine(rec, ids[i]!)).join('\n') + '\n');
    await tx.query(UPSERT_MINUTES, [JSON.stringify(minuteRows(records))]);
    const tuples = tupleRows(records);
    if (tuples.length) await tx.query(UPSERT_TUPLES, [JSON.stringify(tuples)]);
    return records.map((rec, i) => ({ id: toRevision(ids[i]), ...rec }));
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
