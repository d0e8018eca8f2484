/**
 * The flow aggregates (docs/flows.md, ADR 0048) summed in memory: per minute, (src
 * identity, dst identity, protocol, port, verdict, deciding policy/rule) → connections
 * and bytes, and the distinct connections replays read. The manager adds every stored
 * batch and writes the sums once a period, so the store updates each aggregate row
 * once per period instead of once per batch — the upkeep follows the number of
 * distinct edges, not the number of records. Pure.
 */
import { decision, type FlowRecord } from '../model/flow.js';
import type { FlowAggregates, FlowMinuteRow, FlowTupleRow } from './types.js';

const UTC_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Minute start of an ISO time (UTC times, what agents send, by slicing: no Date). */
export function minuteOf(time: string): string {
  if (UTC_ISO.test(time)) return `${time.slice(0, 16)}:00.000Z`;
  const ms = Date.parse(time);
  return new Date(ms - (ms % 60_000)).toISOString();
}

/** Whether two UTC_ISO times of one length fall in the same minute (their first 16 characters). */
function sameMinute(a: string, b: string): boolean {
  for (let i = 15; i >= 0; i--) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false;
  return true;
}

/** Rows of a map, sorted by key: two managers adding to the same minutes lock them in one order. */
function sortedRows<Row>(rows: Map<string, Row>): Row[] {
  return [...rows.keys()].sort().map((k) => rows.get(k)!);
}

/**
 * Sums flow records into aggregate rows until drained.
 *
 * @example const a = new FlowAggregator(); a.add(records); await store.addFlowAggregates(a.drain());
 */
export class FlowAggregator {
  private minutes = new Map<string, FlowMinuteRow>();
  private tuples = new Map<string, FlowTupleRow>();

  /** Rows waiting (distinct keys). */
  get size(): number {
    return this.minutes.size + this.tuples.size;
  }

  add(records: readonly FlowRecord[]): void {
    // Records of a batch mostly share their minute: its start is worked out once per run
    // of UTC_ISO times in the same minute (compared in place, no string sliced per record).
    let last = '';
    let minute = '';
    for (const r of records) {
      const same =
        last !== '' &&
        r.time.length === last.length &&
        sameMinute(r.time, last) &&
        UTC_ISO.test(r.time);
      if (!same) {
        minute = minuteOf(r.time);
        last = UTC_ISO.test(r.time) ? r.time : '';
      }
      this.addMinute(r, minute);
      // One tuple per connection: the source's host reports it with its egress side;
      // the destination's host alone reports a source outside every record.
      if (r.state === 'new' && (r.egress !== undefined || r.src.record === undefined))
        this.addTuple(r, minute);
    }
  }

  /** The sums so far (sorted by key), and a fresh start. */
  drain(): FlowAggregates {
    const out = { minutes: sortedRows(this.minutes), tuples: sortedRows(this.tuples) };
    this.minutes = new Map();
    this.tuples = new Map();
    return out;
  }

  private addMinute(r: FlowRecord, minute: string): void {
    const d = decision(r);
    // NUL separates: no stored string can hold one (the input guard refuses it).
    const k = `${minute}\0${r.src.identity}\0${r.dst.identity}\0${r.protocol}\0${r.port}\0${r.verdict}\0${d.policy}\0${d.rule}`;
    let e = this.minutes.get(k);
    if (!e) {
      e = {
        minute,
        src_identity: r.src.identity,
        dst_identity: r.dst.identity,
        protocol: r.protocol,
        port: r.port,
        verdict: r.verdict,
        policy: d.policy,
        rule: d.rule,
        count: 0,
        bytes: 0,
      };
      this.minutes.set(k, e);
    }
    if (r.state === 'new') e.count++;
    e.bytes += r.bytes ?? 0;
  }

  private addTuple(r: FlowRecord, minute: string): void {
    const k = `${minute}\0${r.src.address}\0${r.dst.address}\0${r.protocol}\0${r.port}\0${r.verdict}`;
    const e = this.tuples.get(k);
    if (e) e.count++;
    else
      this.tuples.set(k, {
        minute,
        src: r.src.address,
        dst: r.dst.address,
        protocol: r.protocol,
        port: r.port,
        verdict: r.verdict,
        count: 1,
      });
  }
}
