/**
 * The agent's side of the protocol (docs/protocol.md), the one client of it: follow a
 * host's watch stream, fold its messages into host states, hand every new state to
 * `apply`, acknowledge every applied revision, detect a silent connection, fail over
 * between managers and resume from the last applied revision. The kernel agent
 * (src/agent/run-agent.ts) is this client with `Agent.applyState` as `apply`; the
 * simulated agents of the benchmark and the distribution tests use it without one.
 *
 * Three parts, each unaware of the others' insides:
 * - ./host-fold.ts: what a message means (snapshot, delta, heartbeat, gap → resync);
 * - ./watch-transport.ts and ./http-uplink.ts: how lines arrive (WebSocket channel or
 *   NDJSON) and how acks and flow batches go up (the channel, else HTTP);
 * - this file: the follower, a small state machine over them —
 *   `following` (one watch open) → `backing-off` (waiting to try the next manager, or
 *   the same one for a resync) → `following` …, until `stopped`.
 * It runs up to 10,000 followers in one process, so a message costs no timer, no
 * promise and no microtask unless `apply` returns a promise.
 *
 * Older managers are followed too: bare HostState lines (before the message envelope)
 * are snapshots, and a manager that refuses `since` (400) is asked again without it.
 *
 * Invariants:
 * - the state only ever moves forward through a snapshot or a delta whose `from` is
 *   the applied revision; a delta that does not fit forces a resync (a reconnect to
 *   the same manager without `since`, hence a snapshot);
 * - a revision is acknowledged only after `apply` resolved for it; a failed apply
 *   ends the watch and leaves the state (and whatever `apply` enforces) as it was
 *   (fail-static); nothing is ever undone because a manager is gone;
 * - applies never overlap, and acks never go backwards.
 */
import { Agent as HttpAgent } from 'node:http';
import type { ClientCert } from '../../client/http-fetch.js';
import { applyHostDelta, type DeltaMessage } from '../../model/host-delta.js';
import type { HostState } from '../../model/host-state.js';
import { HostFold, type FoldStats, type WatchMessage } from './host-fold.js';
import { HttpUplink, trimSlashes } from './http-uplink.js';
import {
  openWatch,
  WatchRefused,
  type ChannelUplink,
  type WatchConnection,
  type WatchTarget,
} from './watch-transport.js';

/** Settings of {@link followHost}. */
export interface FollowHostOptions {
  /** Manager base URLs, tried in turn (failover). */
  servers: string[];
  host: string;
  token: string;
  underlayIp?: string;
  /** The PEP's kind (`nftables`, `ovs`), reported with the watch for `vnp status`. */
  kind?: string;
  /**
   * Enforces a new state (the kernel, or nothing); its revision is acknowledged once
   * this returned (or its promise resolved). Called for every new revision, in order,
   * one at a time; `changed` is false when only the revision moved (an empty delta),
   * so no policy changed. A throw or rejection ends the watch (logged; the next
   * manager, resuming from the last applied revision).
   */
  apply?: (state: HostState, changed: boolean) => Promise<void> | void;
  /** Folds a delta onto the applied state (default: applyHostDelta). */
  applyDelta?: (state: HostState, delta: DeltaMessage) => HostState;
  /** No message for this long: the connection is dead (default 15000; heartbeats every 5 s). */
  heartbeatTimeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Told of every acknowledgement: accepted by the manager (HTTP), or written to the
   * channel (WebSocket).
   */
  onAck?: (revision: number) => void;
  /** `websocket` (default; falls back to NDJSON for a manager without it) or `ndjson`. */
  transport?: 'websocket' | 'ndjson';
  /** HTTP agent for acks (default: a keep-alive agent per follower). */
  httpAgent?: HttpAgent;
  /** The only CA trusted for an https manager's certificate (`--ca-file`); default: the system CAs. */
  ca?: string;
  /** A client certificate for https managers (`--cert-file`/`--key-file`; agent mTLS). */
  clientCert?: ClientCert;
  /** Told why a connection ended (and which state stays enforced meanwhile). */
  log?: (msg: string) => void;
}

/** Counters of a follower (the fold's, and the connections'). */
export interface FollowerStats extends FoldStats {
  /** Watches that opened. */
  sessions: number;
  /** Watches that ran over a WebSocket channel. */
  channels: number;
  acks: number;
}

/** A running follower. */
export interface HostFollower {
  readonly state: HostState | undefined;
  readonly connectedTo: string | undefined;
  readonly stats: FollowerStats;
  /** Resolves when the first state is applied. */
  ready: Promise<void>;
  /** Resolves once the applied revision reaches `revision` (rejects after `timeoutMs`). */
  reach(revision: number, timeoutMs?: number): Promise<void>;
  /**
   * Send a flow batch (docs/flows.md) to the manager in use: a frame on the channel,
   * else `POST …/flows`. Resolves false when no manager took it (keep it, retry).
   */
  sendFlows(batch: object): Promise<boolean>;
  /** Break the current connection (tests: a dead manager). */
  drop(): void;
  stop(): Promise<void>;
}

/**
 * Follow a host's desired state.
 *
 * @example
 *   const f = followHost({ servers: ['http://127.0.0.1:7400'], host: 'h1', token });
 *   await f.ready; await f.reach(42); await f.stop();
 */
export function followHost(opts: FollowHostOptions): HostFollower {
  return new Follower(opts);
}

type Phase = 'following' | 'backing-off' | 'stopped';

class Follower implements HostFollower {
  readonly stats: FollowerStats = {
    sessions: 0,
    channels: 0,
    snapshots: 0,
    deltas: 0,
    heartbeats: 0,
    resyncs: 0,
    acks: 0,
  };
  readonly ready: Promise<void>;
  private phase: Phase = 'following';
  private manager: string | undefined;
  private readonly fold: HostFold;
  private readonly httpAgent: HttpAgent;
  private readonly http: HttpUplink;
  private connection: WatchConnection | undefined;
  /** The open WebSocket channel's uplink, with the last revision acknowledged on it. */
  private channel: { base: string; uplink: ChannelUplink; sent: number } | undefined;
  private ackedRevision = -1;
  /** States committed and heartbeats seen: a watch that made some resets the backoff. */
  private progress = 0;
  /** The last apply that returned a promise (it may outlive its watch). */
  private inflight: Promise<void> | undefined;
  /** Ends a backoff early (stop). */
  private wake: (() => void) | undefined;
  private markReady: () => void = () => undefined;
  private readonly reached = new Set<() => void>();
  private readonly running: Promise<void>;

  constructor(private readonly opts: FollowHostOptions) {
    this.fold = new HostFold(opts.applyDelta ?? applyHostDelta, this.stats);
    this.httpAgent = opts.httpAgent ?? new HttpAgent({ keepAlive: true, maxSockets: 2 });
    const tls = { ...(opts.ca === undefined ? {} : { ca: opts.ca }), ...opts.clientCert };
    this.http = new HttpUplink(opts.host, opts.token, this.httpAgent, tls, {
      covered: (base, revision) => revision <= this.ackedRevision && base === this.manager,
      acked: (revision) => this.acked(revision),
    });
    this.ready = new Promise<void>((resolve) => (this.markReady = resolve));
    this.running = this.run();
  }

  get state(): HostState | undefined {
    return this.fold.state;
  }

  get connectedTo(): string | undefined {
    return this.manager;
  }

  private get stopped(): boolean {
    return this.phase === 'stopped';
  }

  async sendFlows(batch: object): Promise<boolean> {
    const base = this.manager;
    if (base === undefined) return false;
    if (this.channel?.base === base)
      return this.channel.uplink.send(JSON.stringify({ type: 'flows', ...batch }));
    try {
      await this.http.post(base, 'flows', batch);
      return true;
    } catch {
      return false;
    }
  }

  reach(revision: number, timeoutMs = 10_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if ((this.fold.state?.revision ?? -1) < revision) return;
        clearTimeout(timer);
        this.reached.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.reached.delete(check);
        const at = this.fold.state?.revision;
        reject(new Error(`${this.opts.host}: revision ${revision} not reached (at ${at})`));
      }, timeoutMs);
      this.reached.add(check);
      check();
    });
  }

  drop(): void {
    this.connection?.close(new Error('dropped'));
  }

  async stop(): Promise<void> {
    this.phase = 'stopped';
    this.http.stop();
    this.connection?.close(new Error('stopped'));
    this.wake?.();
    await this.running;
    if (!this.opts.httpAgent) this.httpAgent.destroy();
  }

  /** Watch the managers in turn until stopped. */
  private async run(): Promise<void> {
    const minBackoff = this.opts.minBackoffMs ?? 100;
    const maxBackoff = this.opts.maxBackoffMs ?? 5000;
    const servers = this.opts.servers;
    let index = 0;
    let backoff = minBackoff;
    while (!this.stopped) {
      const base = servers[index % servers.length]!;
      const before = this.progress;
      this.phase = 'following';
      try {
        await this.watch(base);
      } catch (err) {
        if (this.stopped) break;
        const kept = this.fold.state?.revision ?? 'none';
        this.opts.log?.(
          `manager ${base}: ${(err as Error).message}; keeping the last state (revision ${kept})`,
        );
      }
      this.manager = undefined;
      this.connection = undefined;
      // A watch that worked for a while (a state applied, a heartbeat) starts the
      // backoff over; one that fails at once (refused, apply failing) backs off further.
      if (this.progress > before) backoff = minBackoff;
      // A resync retries the same manager; anything else tries the next one.
      if (!this.fold.resync) index++;
      if (this.stopped) break;
      this.phase = 'backing-off';
      await this.backOff(backoff);
      backoff = Math.min(backoff * 2, maxBackoff);
    }
  }

  /**
   * Wait `ms`, and for an apply still running when the watch ended: applies never
   * overlap, and the next watch resumes from what that one applied.
   */
  private async backOff(ms: number): Promise<void> {
    const applying = this.inflight;
    this.inflight = undefined;
    await new Promise<void>((resolve) => {
      let waits = applying ? 2 : 1;
      const done = () => --waits === 0 && resolve();
      const timer = setTimeout(done, ms);
      void applying?.then(done, done);
      this.wake = () => (clearTimeout(timer), resolve());
    });
    this.wake = undefined;
  }

  /** One watch of `base`; rejects with why it ended (it never resolves). */
  private watch(base: string): Promise<void> {
    return new Promise<void>((_resolve, reject) => {
      const since = this.fold.since();
      const inbox = new Inbox(
        (message) => this.handle(base, message),
        () => connection,
      );
      const connection = openWatch(this.target(base, since), {
        opened: (channel) => this.opened(base, channel),
        received: (lines) => inbox.receive(lines),
        ended: (reason) => {
          this.channel = undefined;
          inbox.close();
          reject(this.explain(reason, since));
        },
      });
      this.connection = connection;
    });
  }

  private target(base: string, since: number | undefined): WatchTarget {
    const query = new URLSearchParams();
    if (this.opts.underlayIp) query.set('underlay', this.opts.underlayIp);
    if (this.opts.kind) query.set('kind', this.opts.kind);
    if (since !== undefined) query.set('since', String(since));
    const host = encodeURIComponent(this.opts.host);
    return {
      url: new URL(`${trimSlashes(base)}/v1/hosts/${host}/watch?${query}`),
      token: this.opts.token,
      transport: this.opts.transport ?? 'websocket',
      ca: this.opts.ca,
      ...(this.opts.clientCert ? { clientCert: this.opts.clientCert } : {}),
      silenceMs: this.opts.heartbeatTimeoutMs ?? 15_000,
    };
  }

  /**
   * Why a watch ended, for the log. A manager that refuses `since` (an older one,
   * during a rolling upgrade) is asked again without it; its first message is then
   * the whole state.
   */
  private explain(reason: Error, since: number | undefined): Error {
    if (!(reason instanceof WatchRefused) || reason.status !== 400 || since === undefined)
      return reason;
    this.fold.resync = true;
    return new Error(`${reason.message} (since= refused: watching without it)`);
  }

  private opened(base: string, channel: ChannelUplink | undefined): void {
    this.stats.sessions++;
    if (channel) {
      this.stats.channels++;
      this.channel = { base, uplink: channel, sent: -1 };
    }
    this.manager = base;
    // The new manager learns what is applied here.
    if (this.fold.state) this.ack(base, this.fold.state.revision);
  }

  /** Fold one message; a promise while `apply` runs (the inbox waits for it). */
  private handle(base: string, message: WatchMessage): Promise<void> | undefined {
    const step = this.fold.next(message);
    if (!step) {
      // A heartbeat is progress too: the watch works.
      this.progress++;
      return undefined;
    }
    const applying = this.opts.apply?.(step.state, step.changed);
    if (applying instanceof Promise)
      return (this.inflight = applying.then(() => this.commit(base, step.state)));
    this.commit(base, step.state);
    return undefined;
  }

  private commit(base: string, next: HostState): void {
    this.fold.commit(next);
    this.progress++;
    this.markReady();
    this.ack(base, next.revision);
    if (this.reached.size > 0) for (const check of [...this.reached]) check();
  }

  /** On the channel when `base` has one open; else over HTTP. */
  private ack(base: string, revision: number): void {
    const channel = this.channel;
    if (channel?.base !== base) return this.http.ack(base, revision);
    if (revision <= channel.sent) return;
    if (!channel.uplink.send(`{"type":"ack","revision":${revision}}`)) return;
    channel.sent = revision;
    this.acked(revision);
  }

  private acked(revision: number): void {
    this.ackedRevision = Math.max(this.ackedRevision, revision);
    this.stats.acks++;
    this.opts.onAck?.(revision);
  }
}

/**
 * A watch's messages, handled in order: synchronously while `apply` is; while an apply
 * is pending, reading pauses (backpressure reaches the manager, whose stream then
 * coalesces) and later lines queue behind it. A failure ends the connection.
 */
class Inbox {
  private readonly queue: string[] = [];
  private waiting = false;
  private closed = false;

  constructor(
    private readonly handle: (message: WatchMessage) => Promise<void> | undefined,
    private readonly connection: () => WatchConnection,
  ) {}

  receive(lines: string[]): void {
    this.queue.push(...lines);
    if (this.waiting) return;
    try {
      this.drain();
    } catch (err) {
      this.connection().close(err as Error);
    }
  }

  close(): void {
    this.closed = true;
  }

  private drain(): void {
    while (this.queue.length > 0 && !this.closed) {
      const pending = this.handle(JSON.parse(this.queue.shift()!) as WatchMessage);
      if (!pending) continue;
      this.waiting = true;
      this.connection().pause();
      pending
        .then(() => {
          this.waiting = false;
          if (this.closed) return;
          this.connection().resume();
          this.drain();
        })
        .catch((err: unknown) => this.connection().close(err as Error));
      return;
    }
  }
}
