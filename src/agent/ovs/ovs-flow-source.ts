/**
 * Flow events of an OVS bridge (docs/adr/0042-ovs-flows.md). The userspace datapath's
 * conntrack lives inside ovs-vswitchd and tells no one about its connections, so:
 *
 * - **allowed connections**: `ovs-appctl dpctl/dump-conntrack zone=Z` is polled; a
 *   connection not seen before was committed (allowed) since, one in TIME_WAIT/CLOSED
 *   or gone has ended. Connections tracked before the first poll are not reported as
 *   new (an earlier agent did), only their end. Userspace conntrack keeps no packet or
 *   byte counters: closed records carry none.
 * - **denied packets and `log` copies**: the program's metered `controller` copies,
 *   read from `ovs-ofctl monitor BRIDGE 65535` (packet-in.ts). Meter 1 counts every
 *   denied packet exactly, its band what the limit kept back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { FlowTuple } from '../flows/flow-builder.js';
import {
  MonotonicTotals,
  type DenyTotals,
  type FlowSink,
  type FlowSource,
} from '../flows/flow-source.js';
import { OvsConntrackReader, type OvsCtEntry } from './conntrack.js';
import { CT_ZONE, T } from './flows.js';
import { PacketInReader } from './packet-in.js';
import { METER_DENY, USERDATA_DENY, USERDATA_LOG } from './samples.js';

export interface OvsFlowSourceOptions {
  /** `ovs-appctl -t <ovs-vswitchd> ARGS…` (rejects when it fails). */
  appctl: (args: string[]) => Promise<string>;
  /** `ovs-ofctl -O OpenFlow15 CMD <bridge> ARGS…` (rejects when it fails). */
  ofctl: (args: string[]) => Promise<string>;
  /** The argv of a long-running `ovs-ofctl monitor <bridge> 65535`, line-buffered. */
  monitor: string[];
  /** Least time between two conntrack dumps (default 250 ms). */
  pollMs?: number;
  log?: (msg: string) => void;
}

/** TCP states of a connection that has ended (it lingers in the dump for ~30 s). */
const ENDED = new Set(['TIME_WAIT', 'CLOSED']);

const tupleOf = (e: OvsCtEntry, at: number): FlowTuple => ({
  at,
  proto: e.proto,
  src: e.src,
  dst: e.dst,
  ...(e.proto === 'icmp'
    ? { icmpType: e.icmpType ?? 0, icmpCode: e.icmpCode ?? 0 }
    : { sport: e.sport ?? 0, dport: e.dport }),
});

/**
 * Denied packets and samples, from ovs-ofctl output: while the deny table samples,
 * meter 1's own counters (every packet that entered it; those its band dropped are
 * the unsampled ones) — read live from the datapath, where a flow's `n_packets` lags
 * by up to a revalidation round (~0.5 s) and would make the two disagree; without
 * samples, the deny flow's `n_packets`.
 */
export function parseDenyCounters(
  flows: string,
  meter: string,
): { total: number; sampled: number } | undefined {
  const flow = flows.split('\n').find((l) => l.includes(`table=${T.deny},`));
  const packets = flow && /n_packets=(\d+)/.exec(flow)?.[1];
  if (!flow || packets === undefined) return undefined;
  if (!flow.includes('controller(')) return { total: Number(packets), sampled: 0 };
  const entered = /packet_in_count:(\d+)/.exec(meter)?.[1];
  if (entered === undefined) return undefined;
  const kept = Number(/^\s*0: packet_count:(\d+)/m.exec(meter)?.[1] ?? 0);
  return { total: Number(entered), sampled: Math.max(0, Number(entered) - kept) };
}

/**
 * Successive conntrack dumps → connections opened and ended (pure). The first dump
 * only seeds: what was tracked before is not new, but its end is reported.
 */
export class ConntrackTracker {
  /** Connections of the last dump by ct tuple; `ended`: its end was reported. */
  private known = new Map<string, { entry: OvsCtEntry; ended: boolean }>();
  private seeded = false;

  update(entries: OvsCtEntry[], at: number, sink: Pick<FlowSink, 'opened' | 'ended'>): void {
    const report = this.seeded;
    this.seeded = true;
    const next = new Map<string, { entry: OvsCtEntry; ended: boolean }>();
    for (const entry of entries) {
      const was = this.known.get(entry.tuple);
      const ended = entry.state !== undefined && ENDED.has(entry.state);
      if (!was && report) sink.opened(entry.tuple, tupleOf(entry, at));
      if (ended && !was?.ended && (was || report)) sink.ended(entry.tuple, tupleOf(entry, at));
      next.set(entry.tuple, { entry, ended: ended || (was?.ended ?? false) });
    }
    for (const [key, was] of this.known)
      if (!next.has(key) && !was.ended) sink.ended(key, tupleOf(was.entry, at));
    this.known = next;
  }
}

export class OvsFlowSource implements FlowSource {
  private sink: FlowSink | undefined;
  private child: ChildProcess | undefined;
  private stopped = false;
  private readonly tracker = new ConntrackTracker();
  private readonly dumps = new OvsConntrackReader();
  private polled = 0;
  /** Least time between two dumps: `pollMs`, longer while dumps take long. */
  private gap: number;
  /** Monitors in a row that ended within a second (could not connect). */
  private failures = 0;
  private readonly counts = new MonotonicTotals();

  constructor(private readonly opts: OvsFlowSourceOptions) {
    this.gap = opts.pollMs ?? 250;
  }

  start(sink: FlowSink): Promise<void> {
    this.sink = sink;
    this.follow();
    return Promise.resolve();
  }

  /** The monitor of packet-ins, restarted when it ends (ovs-vswitchd restarted). */
  private follow(): void {
    if (this.stopped) return;
    const [cmd, ...args] = this.opts.monitor;
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const reader = new PacketInReader();
    // ovs-ofctl monitor prints what it receives on stderr when stdout is not a terminal.
    const take = (line: string): void => {
      const p = reader.line(line);
      if (!p) return;
      const t = { ...p.tuple, at: Date.now() };
      if (p.table === T.deny && p.userdata === USERDATA_DENY) this.sink?.denied(t);
      else if (p.userdata === USERDATA_LOG) this.sink?.logged(t);
    };
    let err = '';
    createInterface({ input: child.stdout! }).on('line', take);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      err = (err + line + '\n').slice(-500);
      take(line);
    });
    child.on('error', (e) => this.opts.log?.(`flows: cannot run ovs-ofctl monitor: ${e.message}`));
    const started = Date.now();
    child.on('close', (code) => {
      if (this.stopped) return;
      // The bridge appears with the first state, after the collector started; and an
      // ovs-vswitchd restart takes a moment. Said once, when it lasts ~3 s.
      this.failures = Date.now() - started > 1000 ? 1 : this.failures + 1;
      if (this.failures === 6)
        this.opts.log?.(
          `flows: ovs-ofctl monitor cannot connect (${code}): ${err.trim()}; retrying every 0.5 s`,
        );
      setTimeout(() => this.follow(), 500).unref();
    });
  }

  /** One conntrack dump, compared with the last one. */
  async poll(): Promise<void> {
    if (Date.now() - this.polled < this.gap) return;
    const started = Date.now();
    this.polled = started;
    const text = await this.opts
      .appctl(['dpctl/dump-conntrack', `zone=${CT_ZONE}`])
      .catch(() => undefined);
    if (text === undefined) return; // ovs-vswitchd is away: the next poll sees what it kept
    if (this.sink) this.tracker.update(this.dumps.read(text), Date.now(), this.sink);
    // A dump costs with the connections it lists (7,092: ~0.1 s to dump, ~0.1 s to parse
    // the first time, under load): the gap grows so that polling takes at most a third.
    // Ended connections stay listed ~30 s, so a longer gap delays records, loses none.
    this.gap = Math.min(10_000, Math.max(this.opts.pollMs ?? 250, 2 * (Date.now() - started)));
  }

  async totals(): Promise<DenyTotals> {
    const [flows, meter] = await Promise.all([
      this.opts.ofctl(['dump-flows', `table=${T.deny}`]).catch(() => ''),
      this.opts.ofctl(['meter-stats', `meter=${METER_DENY}`]).catch(() => ''),
    ]);
    // A restarted ovs-vswitchd counts from 0 again: what it had counted stays counted.
    // No per-rule counts here: the deny table counts per host (docs/adr/0066).
    const { sampled, unsampled } = this.counts.read(parseDenyCounters(flows, meter));
    return { sampled, unsampled };
  }

  stop(): void {
    this.stopped = true;
    this.child?.kill();
  }
}
