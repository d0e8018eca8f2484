/**
 * Suricata EVE JSON alerts → vnp events. Suricata writes one JSON object per
 * line (`eve.json`); we accept one object, an array, or NDJSON text.
 *
 * Mapping (documented in docs/reactions.md): each `event_type: "alert"` becomes
 * one event of type `suricata.alert` (reactions may also select the alert's
 * category with `on: suricata:<category slug>`, an alias) whose target is the alert's `src_ip` —
 * the host that sent the offending traffic is the one to quarantine. When
 * `src_ip` belongs to no record the caller may retry with `dest_ip` (see
 * `candidates`). `alert.severity` (1 = high … 3 = low, Suricata's scale) is kept
 * as the event severity; signature, category, ids and the flow go to `details`.
 * Other event types (flow, dns, stats…) are skipped and counted.
 */
import { VnpError, fieldError } from '../model/errors.js';
import { jsonDepthError, unstorable } from '../model/json-guard.js';
import type { JsonValue } from '../model/types.js';

/** The event type every Suricata alert becomes. */
export const SURICATA_ALERT_TYPE = 'suricata.alert';

/** One alert turned into an event body. */
export interface SuricataEvent {
  type: string;
  /** `suricata:<category slug>` when the alert has a category. */
  aliases: string[];
  /** Targets to try, in order: src_ip then dest_ip. */
  candidates: string[];
  severity?: number;
  details: { [k: string]: JsonValue };
}

/** Result of parsing a body. */
export interface SuricataParse {
  events: SuricataEvent[];
  /** Lines/objects that were not alerts (skipped). */
  skipped: number;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Slug of a category for `details.categorySlug`: "Attempted Administrator…" → attempted-administrator… */
export function categorySlug(category: string): string {
  return category
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100);
}

/** The records of a body: an object, an array, or NDJSON text. */
function recordsOf(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (isObj(body)) return [body];
  if (typeof body !== 'string') {
    throw new VnpError('VNP_ERR_VALIDATION', 'body: expected an EVE JSON object, array or NDJSON', {
      field: 'body',
    });
  }
  const out: unknown[] = [];
  body.split('\n').forEach((line, i) => {
    const text = line.trim();
    if (text === '') return;
    const deep = jsonDepthError(text, `line ${i + 1}`);
    if (deep) throw deep;
    try {
      out.push(JSON.parse(text));
    } catch {
      throw new VnpError('VNP_ERR_BAD_JSON', `line ${i + 1}: not valid JSON`, {
        field: `line ${i + 1}`,
      });
    }
  });
  return out;
}

function alertEvent(o: Obj, index: number): SuricataEvent {
  const alert = o.alert;
  const field = (f: string) => `[${index}].${f}`;
  if (!isObj(alert)) {
    throw new VnpError('VNP_ERR_VALIDATION', `${field('alert')}: expected an object`, {
      field: field('alert'),
    });
  }
  // What is kept must be storable (no NUL, no lone surrogate): refused naming the field.
  const storable = (v: unknown, f: string) => {
    const why = typeof v === 'string' ? unstorable(v) : undefined;
    if (why) throw fieldError(field(f), `text without ${why}`, v);
  };
  storable(o.src_ip, 'src_ip');
  storable(o.dest_ip, 'dest_ip');
  const candidates = [o.src_ip, o.dest_ip].filter((v): v is string => typeof v === 'string');
  if (candidates.length === 0) {
    throw new VnpError('VNP_ERR_VALIDATION', `${field('src_ip')}: expected an address`, {
      field: field('src_ip'),
    });
  }
  const details: { [k: string]: JsonValue } = {};
  const copy = (key: string, v: unknown, from: string) => {
    storable(v, from);
    if (typeof v === 'string' || typeof v === 'number') details[key] = v;
  };
  copy('signature', alert.signature, 'alert.signature');
  copy('signatureId', alert.signature_id, 'alert.signature_id');
  copy('category', alert.category, 'alert.category');
  if (typeof alert.category === 'string') details.categorySlug = categorySlug(alert.category);
  copy('action', alert.action, 'alert.action');
  copy('srcIp', o.src_ip, 'src_ip');
  copy('srcPort', o.src_port, 'src_port');
  copy('destIp', o.dest_ip, 'dest_ip');
  copy('destPort', o.dest_port, 'dest_port');
  copy('proto', o.proto, 'proto');
  copy('flowId', o.flow_id, 'flow_id');
  copy('timestamp', o.timestamp, 'timestamp');
  const sev = alert.severity;
  // The event's severity is 0..255 (Suricata's scale is 1..3; rules may say up to 255).
  if (
    sev !== undefined &&
    !(typeof sev === 'number' && Number.isInteger(sev) && sev >= 0 && sev <= 255)
  )
    throw fieldError(field('alert.severity'), 'an integer 0..255', sev);
  const slug = typeof details.categorySlug === 'string' ? details.categorySlug : '';
  return {
    type: SURICATA_ALERT_TYPE,
    aliases: slug ? [`suricata:${slug}`] : [],
    candidates,
    ...(typeof sev === 'number' ? { severity: sev } : {}),
    details,
  };
}

/**
 * Parse Suricata EVE JSON (object, array or NDJSON) into events.
 *
 * @example
 *   parseSuricataEve('{"event_type":"alert","src_ip":"10.0.0.5","dest_ip":"10.0.0.9","alert":{"signature":"ET SCAN","severity":2,"category":"Attempted Information Leak"}}')
 *   // { events: [{ type: 'suricata.alert', candidates: ['10.0.0.5', '10.0.0.9'], severity: 2, details: {…} }], skipped: 0 }
 */
export function parseSuricataEve(body: unknown): SuricataParse {
  const events: SuricataEvent[] = [];
  let skipped = 0;
  recordsOf(body).forEach((r, i) => {
    if (!isObj(r) || r.event_type !== 'alert') {
      skipped++;
      return;
    }
    events.push(alertEvent(r, i));
  });
  return { events, skipped };
}
