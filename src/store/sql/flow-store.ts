/**
 * The flow part of the Store (docs/flows.md) over a SqlClient; SqlStore delegates to
 * these so both backends share them. Every batch is ONE statement for the rows and one
 * for the aggregate, the rows travelling as one JSON parameter (`json_to_recordset`):
 * no per-row round trip, no SQL text built from values.
 */
import {
  decision,
  type FlowRecord,
  type FlowSummaryRow,
  type StoredFlow,
} from '../../model/flow.js';
import type { Protocol } from '../../model/types.js';
import type { FlowEndFilter, FlowQuery, FlowRetention, FlowTuple } from '../types.js';
import { toIso, toJson, toRevision } from './rows.js';
import type { SqlClient } from './sql-client.js';

const INSERT_FLOWS = `INSERT INTO vnp_flows (at, host, verdict, state, protocol, port,
    src_address, src_record, src_identity, dst_address, dst_record, dst_identity, policies, doc)
  SELECT at, host, verdict, state, protocol, port, src_address, src_record, src_identity,
    dst_address, dst_record, dst_identity, policies, doc
  FROM json_to_recordset($1::json) AS x(at timestamptz, host text, verdict text, state text,
    protocol text, port integer, src_address inet, src_record text, src_identity bigint,
    dst_address inet, dst_record text, dst_identity bigint, policies text[], doc jsonb, ord integer)
  ORDER BY ord
  RETURNING id`;

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

// One row per connection: a flow between two hosts is reported by both, the source's
// host with the egress side; the destination's host alone reports an outside source.
const TUPLES = `SELECT host(src_address) AS src, host(dst_address) AS dst, protocol, port,
    verdict, count(*) AS n
  FROM vnp_flows WHERE state = 'new' AND at >= $1 AND ($2::timestamptz IS NULL OR at < $2)
    AND ((doc -> 'egress') IS NOT NULL OR src_record IS NULL)
  GROUP BY 1, 2, 3, 4, 5`;

const PRUNE_AGE = `WITH d AS (DELETE FROM vnp_flows WHERE at <= $1 RETURNING 1) SELECT count(*) AS n FROM d`;
const PRUNE_MINUTES = `DELETE FROM vnp_flow_minutes WHERE minute + interval '1 minute' <= $1`;
const PRUNE_ROWS = `WITH d AS (DELETE FROM vnp_flows WHERE id < (
    SELECT id FROM vnp_flows ORDER BY id DESC OFFSET $1 LIMIT 1) RETURNING 1)
  SELECT count(*) AS n FROM d`;

/** Minute start of an ISO time. */
function minuteOf(time: string): string {
  const ms = Date.parse(time);
  return new Date(ms - (ms % 60_000)).toISOString();
}

function flowRow(r: FlowRecord, ord: number) {
  const policies = [r.egress?.policy, r.ingress?.policy].filter((p): p is string => !!p);
  return {
    at: r.time,
    host: r.host,
    verdict: r.verdict,
    state: r.state,
    protocol: r.protocol,
    port: r.port,
    src_address: r.src.address,
    src_record: r.src.record ?? null,
    src_identity: r.src.identity,
    dst_address: r.dst.address,
    dst_record: r.dst.record ?? null,
    dst_identity: r.dst.identity,
    policies,
    doc: r,
    ord,
  };
}

/** The aggregate rows a batch adds to, one per key, sorted by key. */
function minuteRows(records: readonly FlowRecord[]) {
  const byKey = new Map<string, { key: unknown[]; count: number; bytes: number }>();
  for (const r of records) {
    const d = decision(r);
    const key = [
      minuteOf(r.time),
      r.src.identity,
      r.dst.identity,
      r.protocol,
      r.port,
      r.verdict,
      d.policy,
      d.rule,
    ];
    const k = JSON.stringify(key);
    let e = byKey.get(k);
    if (!e) byKey.set(k, (e = { key, count: 0, bytes: 0 }));
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
    const r = await tx.query<{ id: unknown }>(INSERT_FLOWS, [JSON.stringify(records.map(flowRow))]);
    await tx.query(UPSERT_MINUTES, [JSON.stringify(minuteRows(records))]);
    // RETURNING follows the insert order (ORDER BY ord), and ids are increasing.
    const ids = r.rows.map((row) => toRevision(row.id)).sort((a, b) => a - b);
    return records.map((rec, i) => ({ id: ids[i]!, ...rec }));
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
  const r = await client.query<{ id: unknown; doc: unknown }>(
    `SELECT id, doc FROM vnp_flows ${w.text} ORDER BY id DESC LIMIT ${Math.trunc(q.limit)}`,
    w.params,
  );
  return r.rows.map((row) => ({ id: toRevision(row.id), ...toJson<FlowRecord>(row.doc) }));
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
 * Distinct connections of a window with their counts (replays).
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
  const over = await client.query<{ n: unknown }>(PRUNE_ROWS, [r.maxRows - 1]);
  return toRevision(old.rows[0]?.n ?? 0) + toRevision(over.rows[0]?.n ?? 0);
}
