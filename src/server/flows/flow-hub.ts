/**
 * The manager's flow intake (docs/flows.md): agents' batches are checked, completed
 * (partitions from the model), queued and written in batches — one insert per flush,
 * never one per record — then handed to watchers and metrics. The aggregates are summed
 * here and written once a period (ADR 0048), stretched when writes are slow (ADR 0070):
 * each aggregate row is updated once per period, not once per batch. Retention runs on a timer. The queue is bounded: when the store cannot keep up, the newest records are
 * refused and counted, and the agent keeps what it could not send (its own bounded
 * buffer). Flow writes never wait for or block a policy write beyond one batch
 * (PGlite is one connection; PostgreSQL a pool).
 */
import type { FlowBatch, FlowCounters, FlowRecord, StoredFlow } from '../../model/flow.js';
import { FlowAggregator, type FlowStore } from '../../store/index.js';
import { DenyCounts } from './deny-counts.js';

export interface FlowRetentionSettings {
  /** Flows older than this go (ms). */
  ageMs: number;
  /** At most this many flow rows stay. */
  maxRows: number;
}

export const DEFAULT_FLOW_RETENTION: FlowRetentionSettings = {
  ageMs: 24 * 3_600_000,
  maxRows: 1_000_000,
};

export interface FlowHubOptions {
  store: FlowStore;
  now: () => number;
  retention: FlowRetentionSettings;
  /** Partitions of an identity in the model now. */
  partitionsOf: (identity: number) => string[];
  onError: (err: unknown, what: string) => void;
  /** Flush period (default 100 ms) and the queue length that flushes at once. */
  flushMs?: number;
  batchSize?: number;
  /** Queue bound (default 100,000 records). */
  maxQueued?: number;
  /** Retention period (default 60 s). */
  pruneMs?: number;
  /**
   * How often the summed aggregates are written at least (default 1 s); `flush()` writes
   * them too. A write that took long stretches the period (AGGREGATE_SHARE).
   */
  aggregateMs?: number;
}

/**
 * The aggregates' upkeep takes at most 1/AGGREGATE_SHARE of the hub's time: the next
 * write waits at least this many times as long as the last one took, up to
 * MAX_AGGREGATE_MS (docs/adr/0070-flow-aggregate-period.md). A write costs per distinct
 * key (~15–20 µs of PGlite's CPU each), whatever the records behind it; on a fixed
 * period its share of the time grew as the manager slowed — a loaded host then spent a
 * fifth of its ingest rewriting the same rows.
 */
const AGGREGATE_SHARE = 20;
const MAX_AGGREGATE_MS = 10_000;

type FlowListener = (flows: StoredFlow[]) => void;

/** What the hub has done since it started (metrics). */
export interface FlowHubStats {
  stored: number;
  /** Records refused because the queue was full. */
  refused: number;
  /** Records lost because the store refused a batch. */
  failed: number;
  pruned: number;
  /** Aggregate rows lost because the store refused them. */
  failedAggregates: number;
}

export class FlowHub {
  private queue: FlowRecord[] = [];
  private readonly listeners = new Set<FlowListener>();
  private readonly agents = new Map<string, FlowCounters>();
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly aggregator = new FlowAggregator();
  private aggregatedAt = 0;
  /** How long the last aggregate write took (ms, by the hub's clock). */
  private aggregateCostMs = 0;
  /** The agents' exact per-rule deny counts (docs/adr/0066-per-rule-deny-counters.md). */
  readonly denied: DenyCounts;
  readonly stats: FlowHubStats = {
    stored: 0,
    refused: 0,
    failed: 0,
    pruned: 0,
    failedAggregates: 0,
  };

  constructor(private readonly opts: FlowHubOptions) {
    this.denied = new DenyCounts(opts.now, opts.retention.ageMs);
  }

  /** What retention keeps (`GET /v1/flows` says it, so an empty listing can explain itself). */
  get retention(): FlowRetentionSettings {
    return this.opts.retention;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.opts.flushMs ?? 100);
    this.timer.unref();
    this.pruneTimer ??= setInterval(() => void this.prune(), this.opts.pruneMs ?? 60_000);
    this.pruneTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.pruneTimer);
    this.timer = this.pruneTimer = undefined;
    await this.flush();
  }

  /**
   * Take a checked batch from `host`; returns how many records were queued and how
   * many refused (queue full).
   */
  submit(host: string, batch: FlowBatch): { queued: number; refused: number } {
    if (batch.counters) this.agents.set(host, batch.counters);
    if (batch.counters?.denied) this.denied.report(host, batch.counters.denied);
    const room = Math.max(0, (this.opts.maxQueued ?? 100_000) - this.queue.length);
    const take = batch.records.slice(0, room);
    // A batch's records share a few identities: each one's partitions are looked up
    // once per batch, and its records share the list (nothing changes it).
    const partitions = new Map<number, string[]>();
    const partitionsOf = (identity: number): string[] => {
      let p = partitions.get(identity);
      if (p === undefined) partitions.set(identity, (p = this.opts.partitionsOf(identity)));
      return p;
    };
    for (const r of take) {
      r.src.partitions = partitionsOf(r.src.identity);
      r.dst.partitions = partitionsOf(r.dst.identity);
      this.queue.push(r);
    }
    const refused = batch.records.length - take.length;
    this.stats.refused += refused;
    // The records only: the aggregates wait for their period (a full flush here wrote
    // them after every batch under load, ADR 0070).
    if (this.queue.length >= (this.opts.batchSize ?? 2000)) void this.flushRecords();
    return { queued: take.length, refused };
  }

  /** Every agent's last reported counters, by host. */
  agentCounters(): ReadonlyMap<string, FlowCounters> {
    return this.agents;
  }

  /** Called with each stored batch; returns unsubscribe. */
  onFlows(listener: FlowListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Write what is queued (one batch at a time) and the summed aggregates; resolves when
   * both were written.
   */
  async flush(): Promise<void> {
    await this.writeQueue();
    await this.serially(() => this.writeAggregates());
  }

  /** Write what is queued (one batch at a time), not the aggregates; resolves when written. */
  flushRecords(): Promise<void> {
    return this.writeQueue();
  }

  /** The timer: the queue now, the aggregates when their period is up. */
  private async tick(): Promise<void> {
    await this.writeQueue();
    if (this.opts.now() - this.aggregatedAt >= this.aggregatePeriod())
      await this.serially(() => this.writeAggregates());
  }

  /** The aggregate period now: the configured one, stretched by the last write's cost. */
  private aggregatePeriod(): number {
    const stretched = Math.min(MAX_AGGREGATE_MS, AGGREGATE_SHARE * this.aggregateCostMs);
    return Math.max(this.opts.aggregateMs ?? 1000, stretched);
  }

  /** One store write at a time (PGlite is one connection; order keeps ids increasing). */
  private async serially(write: () => Promise<void>): Promise<void> {
    while (this.flushing) await this.flushing;
    this.flushing = write().finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  private async writeQueue(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    await this.serially(() => this.write(batch));
  }

  private async writeAggregates(): Promise<void> {
    const start = (this.aggregatedAt = this.opts.now());
    if (this.aggregator.size === 0) return;
    const sums = this.aggregator.drain();
    try {
      await this.opts.store.addFlowAggregates(sums);
    } catch (err) {
      this.stats.failedAggregates += sums.minutes.length + sums.tuples.length;
      this.opts.onError(err, 'storing flow aggregates');
    } finally {
      this.aggregateCostMs = this.opts.now() - start;
    }
  }

  private async write(batch: FlowRecord[]): Promise<void> {
    let stored: StoredFlow[];
    try {
      stored = await this.opts.store.insertFlows(batch, { aggregate: false });
    } catch (err) {
      this.stats.failed += batch.length;
      this.opts.onError(err, 'storing flow records');
      return;
    }
    this.aggregator.add(batch);
    this.stats.stored += stored.length;
    for (const l of this.listeners) {
      try {
        l(stored);
      } catch (err) {
        this.opts.onError(err, 'a flow listener');
      }
    }
  }

  /** Apply retention now. */
  async prune(): Promise<void> {
    const { ageMs, maxRows } = this.opts.retention;
    try {
      this.stats.pruned += await this.opts.store.pruneFlows({
        before: new Date(this.opts.now() - ageMs).toISOString(),
        maxRows,
      });
    } catch (err) {
      this.opts.onError(err, 'pruning flow records');
    }
  }
}
