/**
 * The filters of `GET /v1/flows` and `/v1/flows/watch` (docs/flows.md): parsed once
 * into a store query and, for the watch, into a predicate that means the same. Every
 * bad value is a 4xx naming its query field; nothing is queried before all are good.
 */
import type { Engine } from '../../engine/index.js';
import { VnpError } from '../../model/errors.js';
import type { FlowRecord, FlowVerdict, StoredFlow } from '../../model/flow.js';
import {
  cidrContains,
  formatCidr,
  parseIp,
  parsePrefix,
  cidrOf,
  type Cidr,
} from '../../model/net.js';
import { NAME_RE } from '../../model/validate-primitives.js';
import { parseDuration } from '../../model/duration.js';
import { parseSelector } from '../../selector/index.js';
import type { FlowEndFilter, FlowQuery } from '../../store/index.js';

/** The query parameters as they arrive (strings). */
export interface FlowQueryText {
  verdict?: string;
  from?: string;
  to?: string;
  policy?: string;
  host?: string;
  since?: string;
  until?: string;
  limit?: string;
  cursor?: string;
}

export const FLOWS_DEFAULT_LIMIT = 100;
export const FLOWS_MAX_LIMIT = 1000;

function bad(
  field: string,
  expected: string,
  got: string,
  code: 'VNP_ERR_VALIDATION' | 'VNP_ERR_REFERENCE' = 'VNP_ERR_VALIDATION',
): VnpError {
  return new VnpError(code, `${field}: expected ${expected}, got ${JSON.stringify(got)}`, {
    field,
    expected,
    in: 'querystring',
  });
}

/**
 * A time bound: an ISO time, or a duration meaning that long before `now` (`10m`).
 *
 * @example parseTimeBound('10m', 'since', now) // ISO time ten minutes ago
 */
export function parseTimeBound(text: string, field: string, now: number): string {
  if (/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(text)) {
    const ms = parseDuration(text, field);
    return new Date(now - ms).toISOString();
  }
  const time = /^\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-]\d\d:\d\d)?)?$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(time))
    throw bad(
      field,
      'an ISO-8601 time (2026-01-01T12:00:00Z) or a duration ago (10m, 1h, 7d)',
      text,
    );
  return new Date(time).toISOString();
}

/**
 * One end: a record name, an address or prefix, or a selector over record tags
 * (the records it matches now). A name that is no record is 422 (a typo must not
 * look like "no flows").
 */
function parseEnd(
  text: string,
  field: 'from' | 'to',
  engine: Engine,
): { filter: FlowEndFilter; cidrs: Cidr[] } {
  const empty = { records: [], cidrs: [], identities: [] };
  if (engine.get('Interface', text)) return { filter: { ...empty, records: [text] }, cidrs: [] };
  const ip = parseIp(text);
  const prefix = ip ? { ip, prefix: ip.family === 4 ? 32 : 128 } : parsePrefix(text);
  if (prefix) {
    const c = cidrOf(prefix.ip, prefix.prefix);
    return { filter: { ...empty, cidrs: [formatCidr(c)] }, cidrs: [c] };
  }
  if (NAME_RE.test(text))
    throw bad(
      field,
      'a record name, an address or prefix, or a selector (no record has this name)',
      text,
      'VNP_ERR_REFERENCE',
    );
  try {
    parseSelector(text);
  } catch (e) {
    if (e instanceof VnpError)
      throw new VnpError(e.code, `${field}: ${e.message}`, {
        ...e.details,
        field,
        in: 'querystring',
      });
    throw e;
  }
  return { filter: { ...empty, records: engine.select(text) }, cidrs: [] };
}

function endMatches(f: FlowEndFilter, cidrs: Cidr[], end: FlowRecord['src']): boolean {
  if (end.record !== undefined && f.records.includes(end.record)) return true;
  if (f.identities.includes(end.identity)) return true;
  const ip = parseIp(end.address);
  return !!ip && cidrs.some((c) => cidrContains(c, ip));
}

/** A parsed query: for the store, and the same filters as a predicate (watch). */
export interface ParsedFlowQuery {
  query: FlowQuery;
  matches(flow: StoredFlow): boolean;
}

/**
 * Parse and check every filter; throws a 4xx naming the first bad field.
 *
 * @example parseFlowQuery({ verdict: 'deny', since: '10m' }, engine, Date.now())
 */
export function parseFlowQuery(q: FlowQueryText, engine: Engine, now: number): ParsedFlowQuery {
  if (q.verdict !== undefined && q.verdict !== 'allow' && q.verdict !== 'deny')
    throw bad('verdict', 'allow or deny', q.verdict);
  if (q.policy !== undefined && !NAME_RE.test(q.policy))
    throw bad('policy', 'a policy name', q.policy);
  if (q.host !== undefined && !NAME_RE.test(q.host)) throw bad('host', 'a host name', q.host);
  const limit = q.limit === undefined ? FLOWS_DEFAULT_LIMIT : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > FLOWS_MAX_LIMIT)
    throw bad('limit', `an integer 1..${FLOWS_MAX_LIMIT}`, q.limit ?? '');
  const before = q.cursor === undefined ? undefined : Number(q.cursor);
  if (before !== undefined && (!/^[1-9]\d{0,15}$/.test(q.cursor!) || !Number.isSafeInteger(before)))
    throw bad('cursor', 'the `next` cursor of a previous page', q.cursor!);
  const since = q.since !== undefined ? parseTimeBound(q.since, 'since', now) : undefined;
  const until = q.until !== undefined ? parseTimeBound(q.until, 'until', now) : undefined;
  const from = q.from !== undefined ? parseEnd(q.from, 'from', engine) : undefined;
  const to = q.to !== undefined ? parseEnd(q.to, 'to', engine) : undefined;
  const query: FlowQuery = {
    limit,
    ...(q.verdict ? { verdict: q.verdict as FlowVerdict } : {}),
    ...(q.policy ? { policy: q.policy } : {}),
    ...(q.host ? { host: q.host } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    ...(before !== undefined ? { before } : {}),
    ...(from ? { from: from.filter } : {}),
    ...(to ? { to: to.filter } : {}),
  };
  const matches = (f: StoredFlow): boolean =>
    (!query.verdict || f.verdict === query.verdict) &&
    (!query.host || f.host === query.host) &&
    (!query.policy || f.egress?.policy === query.policy || f.ingress?.policy === query.policy) &&
    (!since || f.time >= since) &&
    (!until || f.time < until) &&
    (!from || endMatches(from.filter, from.cidrs, f.src)) &&
    (!to || endMatches(to.filter, to.cidrs, f.dst));
  return { query, matches };
}
