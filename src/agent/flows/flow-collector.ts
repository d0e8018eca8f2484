/**
 * The agent's flow collection (docs/flows.md, docs/adr/0018-flow-collection.md):
 * conntrack events of the connections vnp marked (ct mark tag 0x56) — NEW when the
 * kernel confirmed an allowed connection, DESTROY with both directions' counters when
 * it ends — read from ctnetlink through `conntrack -E`, judged against the HostState
 * the agent enforces, buffered and shipped in batches to the manager in use.
 *
 * Only connection events reach user space, never packets of established connections.
 * The buffer is bounded and fail-static: while no manager takes batches, records
 * accumulate up to `maxBuffered`; beyond, new ones are dropped and counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { FlowBatch, FlowCounters, FlowRecord } from '../../model/flow.js';
import type { HostState } from '../../model/host-state.js';
import type { Exec } from '../exec.js';
import { CT_MARK_TAG, CT_TAG_MASK } from '../nft/expressions.js';
import { mustRun } from '../exec.js';
import { ctLineId, parseCtEntry, parseCtEvent, type CtEntry, type CtEvent } from './ct-event.js';
import { DenySampler } from './deny-samples.js';
import { FlowBuilder, type FlowTuple } from './flow-builder.js';
import type { FlowSink, FlowSource } from './flow-source.js';

export interface FlowCollectorOptions {
  /** Runs `sysctl` (in the agent's namespace). */
  exec: Exec;
  /** Prefix that runs a command in the agent's namespace (`['ip','netns','exec',NS]`; default none). */
  inNamespace?: string[];
  /** The state the agent enforces now. */
  state: () => HostState | undefined;
  /** Ship a batch; false: not taken (kept for the next try). */
  send: (batch: FlowBatch) => Promise<boolean>;
  /** Records kept while the manager is unreachable (default 50,000). */
  maxBuffered?: number;
  /** Records per batch (default 1,000) and the shipping period (default 200 ms). */
  batchSize?: number;
  flushMs?: number;
  /** NFLOG group of the deny chain (the table's `denyLog.group`; default 86). */
  denyLogGroup?: number;
  /**
   * The datapath's own events (OVS: src/agent/ovs/ovs-flow-source.ts) instead of the
   * nftables table's conntrack events and NFLOG samples.
   */
  source?: FlowSource;
  log?: (msg: string) => void;
}

/** Connections remembered between NEW and DESTROY (their judged sides). */
const MAX_OPEN = 200_000;
/** The per-rule deny counts are sent again after this long even when unchanged. */
const DENIED_RESEND_MS = 10_000;
/** A TCP update the collector acts on: the connection closing (its counters are read). */
const CLOSING_UPDATE = /\s(TIME_WAIT|CLOSE)\s/;

export class FlowCollector {
  readonly counters: FlowCounters = { seen: 0, sampled: 0, unsampled: 0, dropped: 0 };
  private buffer: FlowRecord[] = [];
  /** By conntrack id, or by a source's key. */
  private readonly open = new Map<number | string, FlowRecord>();
  /** TCP connections that reached TIME_WAIT or CLOSE: their counters are read at the next ship. */
  private readonly closing = new Set<number>();
  private builder: FlowBuilder | undefined;
  private child: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private shipping = false;
  private stopped = false;
  /** Counters as last shipped: an idle agent sends nothing new. */
  private shipped = '';
  /** The per-rule deny counts as last shipped, and when. */
  private deniedShipped = { text: '', at: 0 };
  private readonly denies: DenySampler;
  /** Deny samples since the deny counters were last read, and when that was. */
  private samplesSinceRead = 0;
  private countersReadAt = 0;

  constructor(private readonly opts: FlowCollectorOptions) {
    this.denies = new DenySampler({
      exec: opts.exec,
      ...(opts.inNamespace ? { inNamespace: opts.inNamespace } : {}),
      ...(opts.denyLogGroup !== undefined ? { group: opts.denyLogGroup } : {}),
      onSample: (t) => this.takeSample(t),
      ...(opts.log ? { log: opts.log } : {}),
    });
  }

  /** Turn accounting on and start reading events. */
  async start(): Promise<void> {
    if (this.opts.source) await this.opts.source.start(this.sink());
    else {
      // Byte and packet counters per connection (per namespace; off by default).
      await this.opts.exec(['sysctl', '-qw', 'net.netfilter.nf_conntrack_acct=1']);
      this.follow();
      this.denies.start();
    }
    this.timer = setInterval(() => void this.ship(), this.opts.flushMs ?? 200);
    this.timer.unref();
  }

  private follow(): void {
    if (this.stopped) return;
    const mark = `0x${CT_MARK_TAG.toString(16)}/0x${CT_TAG_MASK.toString(16)}`;
    const argv = [
      ...(this.opts.inNamespace ?? []),
      'stdbuf',
      '-oL',
      'conntrack',
      '-E',
      '-e',
      'NEW,UPDATE,DESTROY',
      '-o',
      'timestamp,id',
      '--mark',
      mark,
    ];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', (line) => this.take(line));
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-500)));
    let failed = false;
    child.on('error', (e) => {
      // Not installed (ENOENT): no flows on this host, said once; enforcement is unaffected.
      failed = true;
      this.opts.log?.(`flows: cannot run conntrack -E: ${e.message}; no flow records`);
    });
    child.on('close', (code) => {
      if (this.stopped || failed) return;
      // Lost events (e.g. ENOBUFS under a burst) end the reader: count nothing we cannot
      // know, say so, and follow again.
      this.opts.log?.(`flows: conntrack -E ended (${code}): ${err.trim()}; restarting`);
      setTimeout(() => this.follow(), 500).unref();
    });
  }

  /** One event line (exposed for tests). */
  take(line: string): void {
    // An update matters only for an open connection reaching TIME_WAIT or CLOSE: the
    // others (a TCP connection's SYN_RECV, ESTABLISHED, FIN_WAIT, …) are counted, not parsed.
    if (line.includes('[UPDATE]') && !CLOSING_UPDATE.test(line)) {
      this.counters.seen++;
      return;
    }
    const e = parseCtEvent(line);
    if (!e) return;
    this.counters.seen++;
    const record = this.record(e);
    if (record) this.push(record);
  }

  /** One deny sample from NFLOG (exposed for tests): a `new` record with verdict deny. */
  takeSample(t: FlowTuple): void {
    this.counters.seen++;
    this.samplesSinceRead++;
    const state = this.opts.state();
    if (!state) return;
    if (this.builder?.state !== state) this.builder = new FlowBuilder(state);
    const r = this.builder.build(t, 'new');
    // The kernel denied it; the sides say by what (a state applied since may disagree).
    if (r) this.push({ ...r, verdict: 'deny' });
  }

  /** What a {@link FlowSource} reports to: judged as the nftables events are. */
  private sink(): FlowSink {
    return {
      opened: (key, t) => {
        const r = this.judged(t, 'new');
        if (r && this.open.size < MAX_OPEN) this.open.set(key, r);
        if (r) this.push(r);
      },
      ended: (key, t, counters) => {
        const opened = this.open.get(key);
        this.open.delete(key);
        const r = opened ?? this.judged(t, 'closed');
        const time = new Date(t.at).toISOString();
        if (r) this.push({ ...r, time, state: 'closed', verdict: 'allow', ...(counters ?? {}) });
      },
      denied: (t) => this.takeSample(t),
      logged: (t) => {
        // The switch's counterpart of the nftables log chain's kernel log line.
        const r = this.judged(t, 'new');
        const side = [r?.egress, r?.ingress].find((s) => s?.logged);
        if (r && side)
          this.opts.log?.(
            `log ${side.policy}/${side.rule}: ${r.src.address} → ${r.dst.address} ${r.protocol}/${r.port}`,
          );
      },
    };
  }

  /** A tuple judged against the state enforced now (counted as a kernel event). */
  private judged(t: FlowTuple, state: FlowRecord['state']): FlowRecord | undefined {
    this.counters.seen++;
    const s = this.opts.state();
    if (!s) return undefined;
    if (this.builder?.state !== s) this.builder = new FlowBuilder(s);
    return this.builder.build(t, state);
  }

  /**
   * The deny counters (the deny chain's, each deny rule's), read when samples arrived since the last read and at
   * least every second (a flood the limit keeps back entirely still shows).
   */
  private async readDenyCounters(): Promise<void> {
    if (this.samplesSinceRead === 0 && Date.now() - this.countersReadAt < 1000) return;
    this.samplesSinceRead = 0;
    this.countersReadAt = Date.now();
    const t = await (this.opts.source ?? this.denies).totals();
    this.counters.sampled = t.sampled;
    this.counters.unsampled = t.unsampled;
    if (t.denied) this.counters.denied = t.denied;
  }

  private record(e: CtEvent): FlowRecord | undefined {
    const state = this.opts.state();
    if (!state) return undefined;
    if (this.builder?.state !== state) this.builder = new FlowBuilder(state);
    if (e.type === 'new') {
      const r = this.builder.build(e, 'new');
      if (r && this.open.size < MAX_OPEN) this.open.set(e.id, r);
      return r;
    }
    if (e.type === 'update') {
      // A closed TCP connection lingers in TIME_WAIT (120 s by default) before conntrack
      // destroys it, and update events carry no counters: read them with one listing.
      if ((e.tcpState === 'TIME_WAIT' || e.tcpState === 'CLOSE') && this.open.has(e.id))
        this.closing.add(e.id);
      return undefined;
    }
    // Already reported from the listing: its DESTROY adds nothing.
    if (!this.open.has(e.id) && this.closing.delete(e.id)) return undefined;
    this.closing.delete(e.id);
    return this.closed(e, e.at);
  }

  /** The closed record of an entry; its sides as judged when it started, if known. */
  private closed(e: CtEntry, at: number): FlowRecord | undefined {
    // The connection was allowed when it started: its close keeps the sides judged then.
    const opened = this.open.get(e.id);
    this.open.delete(e.id);
    const counters = { packets: e.packets ?? 0, bytes: e.bytes ?? 0 };
    const time = new Date(at).toISOString();
    if (opened) return { ...opened, time, state: 'closed', ...counters };
    const r = this.builder?.build({ ...e, at }, 'closed', counters);
    return r && { ...r, verdict: 'allow' };
  }

  /**
   * Counters of the connections that reached TIME_WAIT or CLOSE: one listing for all.
   * A reported one stays in `closing` (not open) until its DESTROY, which is then ignored.
   */
  private async readClosing(): Promise<void> {
    const pending = [...this.closing].filter((id) => this.open.has(id));
    if (pending.length === 0) return;
    const mark = `0x${CT_MARK_TAG.toString(16)}/0x${CT_TAG_MASK.toString(16)}`;
    const argv = ['conntrack', '-L', '-p', 'tcp', '-m', mark, '-o', 'id'];
    const out = await mustRun(this.opts.exec, argv).catch(() => '');
    const now = Date.now();
    for (const line of out.split('\n')) {
      // The listing holds every marked TCP entry (at a high connection rate, thousands
      // lingering in CLOSE or TIME_WAIT): parse only the ones waiting to be reported.
      const id = ctLineId(line);
      if (id === undefined || !this.closing.has(id) || !this.open.has(id)) continue;
      const e = parseCtEntry(line);
      if (!e) continue;
      const r = this.closed(e, now);
      if (r) this.push(r);
    }
    if (this.closing.size > MAX_OPEN) this.closing.clear();
  }

  private push(r: FlowRecord): void {
    if (this.buffer.length >= (this.opts.maxBuffered ?? 50_000)) {
      this.counters.dropped++;
      return;
    }
    this.buffer.push(r);
  }

  /** Ship what is buffered, batch by batch, while the manager takes them. */
  async ship(): Promise<void> {
    if (this.shipping) return;
    this.shipping = true;
    try {
      // What is buffered goes first: a new record never waits for a listing (a
      // `conntrack -L` or `nft list` process, slow on a loaded host).
      const taken = await this.send();
      // A polling source reads on while no manager takes batches: what it sees waits
      // in the bounded buffer, as the kernel's events do (its ended connections leave
      // its dump after ~30 s, so an outage must not stop the polls).
      if (this.opts.source) await this.opts.source.poll();
      if (!taken) return;
      if (!this.opts.source) await this.readClosing();
      await this.readDenyCounters();
      await this.send();
    } finally {
      this.shipping = false;
    }
  }

  /** Sends the buffer batch by batch; false when the manager did not take one. */
  private async send(): Promise<boolean> {
    if (this.buffer.length === 0 && JSON.stringify(this.counters) === this.shipped) return true;
    do {
      const records = this.buffer.slice(0, this.opts.batchSize ?? 1000);
      const { counters, denied } = this.countersToSend();
      const taken = await this.opts.send({ records, counters }).catch(() => false);
      if (!taken) return false;
      this.shipped = JSON.stringify(this.counters);
      if (counters.denied) this.deniedShipped = { text: denied, at: Date.now() };
      this.buffer.splice(0, records.length);
    } while (this.buffer.length > 0);
    return true;
  }

  /**
   * The counters for the next batch. The per-rule deny counts (one per deny rule on the
   * host) go only when they changed, and every 10 s besides (a manager that took over
   * learns them), not with every batch.
   */
  private countersToSend(): { counters: FlowCounters; denied: string } {
    const { denied, ...rest } = this.counters;
    const text = JSON.stringify(denied ?? null);
    const due =
      text !== this.deniedShipped.text || Date.now() - this.deniedShipped.at >= DENIED_RESEND_MS;
    return { counters: denied && due ? { ...rest, denied } : rest, denied: text };
  }

  /** Records waiting for a manager. */
  get buffered(): number {
    return this.buffer.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.child?.kill();
    this.denies.stop();
    this.opts.source?.stop();
    this.countersReadAt = 0;
    await this.ship();
  }
}
