/**
 * Checks a flow batch an agent sends (docs/flows.md): every field of every record,
 * named by its path (`records[3].src.address`), before anything is stored. A bad
 * batch is refused whole: an agent that sends one has a bug, and storing half of it
 * would hide that.
 */
import type {
  DeniedCount,
  FlowBatch,
  FlowCounters,
  FlowEndpoint,
  FlowRecord,
  FlowSide,
} from './flow.js';
import { formatIp } from './net.js';
import { PROTOCOLS } from './types.js';
import { isPlainObject } from './validate-fields.js';
import {
  NAME_RE,
  checkArray,
  checkEnum,
  checkInt,
  checkIp,
  checkName,
  checkString,
  expectObject,
  fieldOf,
  invalid,
} from './validate-primitives.js';

/** At most this many records in one batch (the agent sends smaller ones). */
export const FLOW_BATCH_MAX = 5000;
/** At most this many per-rule deny counts in one report (one per deny rule reaching the host). */
export const DENIED_COUNTS_MAX = 10_000;

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const UINT = Number.MAX_SAFE_INTEGER;
const RULE_RE = /^(egress|ingress)\[\d{1,6}\]$/;

// What agents send is the canonical form (Date#toISOString): YYYY-MM-DDTHH:MM:SS.mmmZ.
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const [DASH, COLON, DOT, T, Z] = ['-', ':', '.', 'T', 'Z'].map((c) => c.charCodeAt(0));

/** The value of `n` decimal digits of `s` from `i`, or -1 when one is not a digit. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const d = s.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * A time already in the canonical form whose date exists (no Date needed), else
 * undefined. Read character by character: a regular expression's captures were seven
 * strings and an array per record.
 */
function canonicalTime(v: string): string | undefined {
  if (v.length !== 24) return undefined;
  if (v.charCodeAt(4) !== DASH || v.charCodeAt(7) !== DASH || v.charCodeAt(10) !== T)
    return undefined;
  if (v.charCodeAt(13) !== COLON || v.charCodeAt(16) !== COLON || v.charCodeAt(19) !== DOT)
    return undefined;
  if (v.charCodeAt(23) !== Z || digits(v, 20, 3) < 0) return undefined;
  const hour = digits(v, 11, 2);
  const minute = digits(v, 14, 2);
  const second = digits(v, 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59)
    return undefined;
  const year = digits(v, 0, 4);
  const month = digits(v, 5, 2);
  const day = digits(v, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > MONTH_DAYS[month - 1]!)
    return undefined;
  if (month === 2 && day === 29 && (year % 4 !== 0 || (year % 100 === 0 && year % 400 !== 0)))
    return undefined;
  return v;
}

function checkTime(v: unknown, field: string): string {
  // The common case without Date.parse and toISOString (a third of a record's check).
  if (typeof v === 'string') {
    const canonical = canonicalTime(v);
    if (canonical !== undefined) return canonical;
  }
  const time = checkString(
    v,
    field,
    ISO_TIME,
    'an ISO-8601 UTC time, e.g. 2026-01-01T00:00:00.000Z',
  );
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) throw invalid(field, 'an ISO-8601 UTC time', v);
  return new Date(ms).toISOString();
}

// An IPv4 address in canonical text (no leading zeros): it is its own canonical form.
const CANONICAL_V4 =
  /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** An address as its canonical text; canonical IPv4 text is taken as it is. */
function checkAddress(v: unknown, field: string): string {
  if (typeof v === 'string' && CANONICAL_V4.test(v)) return v;
  return formatIp(checkIp(v, field));
}

// The fields each object may hold (made once: a batch checks millions of objects).
const ENDPOINT_FIELDS = ['address', 'port', 'record', 'identity', 'partitions'];
const SIDE_FIELDS = ['verdict', 'policy', 'rule', 'default', 'logged'];
const RECORD_FIELDS = [
  'time',
  'host',
  'src',
  'dst',
  'protocol',
  'port',
  'code',
  'verdict',
  'egress',
  'ingress',
  'state',
  'packets',
  'bytes',
];
const VERDICTS = ['allow', 'deny'] as const;
const STATES = ['new', 'closed'] as const;

// A batch checks millions of fields: each check below takes its field's parent path
// and key and builds `parent.key` only when it fails (the general check, which throws
// with the message), so the common case allocates no path string. Optional fields are
// set only when present, in the record's field order, without a spread of a temporary
// object per field (the garbage was a fifth of a batch's CPU).
const at = (field: string, key: string, sub?: string): string =>
  sub === undefined ? `${field}.${key}` : `${field}.${key}.${sub}`;

function object(v: unknown, field: string, key: string, allowed: readonly string[]) {
  if (isPlainObject(v)) {
    let known = true;
    for (const k in v) if (!allowed.includes(k)) known = false;
    if (known) return v;
  }
  return expectObject(v, at(field, key), allowed);
}

function int(v: unknown, lo: number, hi: number, field: string, key: string, sub?: string) {
  if (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi) return v === 0 ? 0 : v;
  return checkInt(v, at(field, key, sub), lo, hi);
}

function oneOf<T extends string>(
  v: unknown,
  values: readonly T[],
  field: string,
  key: string,
  sub?: string,
): T {
  if (typeof v === 'string' && values.includes(v as T)) return v as T;
  return checkEnum(v, at(field, key, sub), values);
}

function name(v: unknown, field: string, key: string, sub: string): string {
  if (typeof v === 'string' && NAME_RE.test(v)) return v;
  return checkName(v, at(field, key, sub));
}

function endpoint(v: unknown, field: string, key: string, withPort: boolean): FlowEndpoint {
  const o = object(v, field, key, ENDPOINT_FIELDS);
  const record = fieldOf(o, 'record');
  const port = fieldOf(o, 'port');
  const address = fieldOf(o, 'address');
  const e = {
    address:
      typeof address === 'string' && CANONICAL_V4.test(address)
        ? address
        : checkAddress(address, at(field, key, 'address')),
  } as FlowEndpoint;
  if (withPort && port !== undefined) e.port = int(port, 0, 65535, field, key, 'port');
  if (record !== undefined) e.record = name(record, field, key, 'record');
  e.identity = int(fieldOf(o, 'identity'), 0, 0xffffffff, field, key, 'identity');
  // Partitions are the manager's to fill: whatever an agent sends is replaced.
  e.partitions = [];
  return e;
}

function side(v: unknown, field: string, key: string): FlowSide | undefined {
  if (v === undefined) return undefined;
  const o = object(v, field, key, SIDE_FIELDS);
  const policy = fieldOf(o, 'policy');
  const rule = fieldOf(o, 'rule');
  const def = fieldOf(o, 'default');
  const logged = fieldOf(o, 'logged');
  if ((policy === undefined) === (def === undefined))
    throw invalid(at(field, key), 'exactly one of policy (with rule) and default', v);
  if (logged !== undefined && typeof logged !== 'boolean')
    throw invalid(at(field, key, 'logged'), 'a boolean', logged);
  const s = { verdict: oneOf(fieldOf(o, 'verdict'), VERDICTS, field, key, 'verdict') } as FlowSide;
  if (policy !== undefined) {
    s.policy = name(policy, field, key, 'policy');
    s.rule =
      typeof rule === 'string' && RULE_RE.test(rule)
        ? rule
        : checkString(rule, at(field, key, 'rule'), RULE_RE, 'a rule like egress[0]');
  } else s.default = oneOf(def, VERDICTS, field, key, 'default');
  if (logged === true) s.logged = true;
  return s;
}

/**
 * One record; `host` is the sender's (a record naming another host is refused).
 *
 * @example checkFlowRecord(json, 'records[0]', 'h1')
 */
export function checkFlowRecord(v: unknown, field: string, host: string): FlowRecord {
  const o = expectObject(v, field, RECORD_FIELDS);
  if (fieldOf(o, 'host') !== host)
    throw invalid(at(field, 'host'), `"${host}"`, fieldOf(o, 'host'));
  const protocol = oneOf(fieldOf(o, 'protocol'), PROTOCOLS, field, 'protocol');
  const icmp = protocol === 'icmp';
  const egress = side(fieldOf(o, 'egress'), field, 'egress');
  const ingress = side(fieldOf(o, 'ingress'), field, 'ingress');
  if (!egress && !ingress) throw invalid(field, 'an egress or an ingress side (or both)', v);
  const code = fieldOf(o, 'code');
  const packets = fieldOf(o, 'packets');
  const bytes = fieldOf(o, 'bytes');
  const time = fieldOf(o, 'time');
  const r = {
    time: (typeof time === 'string' && canonicalTime(time)) || checkTime(time, at(field, 'time')),
    host,
    src: endpoint(fieldOf(o, 'src'), field, 'src', !icmp),
    dst: endpoint(fieldOf(o, 'dst'), field, 'dst', !icmp),
    protocol,
    port: int(fieldOf(o, 'port'), 0, icmp ? 255 : 65535, field, 'port'),
  } as FlowRecord;
  if (icmp && code !== undefined) r.code = int(code, 0, 255, field, 'code');
  r.verdict = oneOf(fieldOf(o, 'verdict'), VERDICTS, field, 'verdict');
  if (egress) r.egress = egress;
  if (ingress) r.ingress = ingress;
  r.state = oneOf(fieldOf(o, 'state'), STATES, field, 'state');
  if (packets !== undefined) r.packets = int(packets, 0, UINT, field, 'packets');
  if (bytes !== undefined) r.bytes = int(bytes, 0, UINT, field, 'bytes');
  return r;
}

/** Per-rule deny counts: a policy name and its rule, or '' and `default`. */
function deniedCounts(v: unknown, field: string): DeniedCount[] {
  const items = checkArray(v, field, 'deny counts');
  if (items.length > DENIED_COUNTS_MAX)
    throw invalid(field, `at most ${DENIED_COUNTS_MAX} deny counts`, `${items.length}`);
  return items.map((item, i) => {
    const f = `${field}[${i}]`;
    const o = expectObject(item, f, ['policy', 'rule', 'packets']);
    const policy = fieldOf(o, 'policy');
    const isDefault = policy === '';
    const rule = checkString(
      fieldOf(o, 'rule'),
      `${f}.rule`,
      isDefault ? /^default$/ : RULE_RE,
      isDefault ? '`default` for the defaults' : 'egress[N] or ingress[N]',
    );
    return {
      policy: isDefault ? '' : checkName(policy, `${f}.policy`),
      rule,
      packets: checkInt(fieldOf(o, 'packets'), `${f}.packets`, 0, UINT),
    };
  });
}

function counters(v: unknown, field: string): FlowCounters | undefined {
  if (v === undefined) return undefined;
  const o = expectObject(v, field, ['seen', 'sampled', 'unsampled', 'dropped', 'denied']);
  const n = (k: string) => checkInt(fieldOf(o, k), `${field}.${k}`, 0, UINT);
  const denied = fieldOf(o, 'denied');
  return {
    seen: n('seen'),
    sampled: n('sampled'),
    unsampled: n('unsampled'),
    dropped: n('dropped'),
    ...(denied !== undefined ? { denied: deniedCounts(denied, `${field}.denied`) } : {}),
  };
}

/**
 * A whole batch from host `host`.
 *
 * @example checkFlowBatch({ records: [] }, 'h1') // { records: [] }
 */
export function checkFlowBatch(v: unknown, host: string): FlowBatch {
  const o = expectObject(v, '', ['records', 'counters']);
  const items = checkArray(fieldOf(o, 'records'), 'records', 'flow records');
  if (items.length > FLOW_BATCH_MAX)
    throw invalid('records', `at most ${FLOW_BATCH_MAX} records`, `${items.length} records`);
  const c = counters(fieldOf(o, 'counters'), 'counters');
  return {
    records: items.map((r, i) => checkFlowRecord(r, `records[${i}]`, host)),
    ...(c ? { counters: c } : {}),
  };
}
