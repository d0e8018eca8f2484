/**
 * The agent's side of the protocol (docs/protocol.md), the one implementation of it:
 * follow a host's watch stream, fold deltas with applyHostDelta, hand every new state
 * to `apply`, acknowledge every applied revision, detect a silent connection, fail
 * over between managers and resume from the last applied revision. The kernel agent
 * (src/agent/run-agent.ts) is this loop with `Agent.applyState` as `apply`; the
 * simulated agents of the benchmark and the distribution tests use it without one.
 * It runs up to 10,000 followers in one process, so a message costs no timer, no
 * promise and no microtask unless `apply` returns a promise.
 *
 * Transport: a WebSocket on the watch URL (messages down, acks up the same
 * connection); a manager that answers the upgrade with a plain NDJSON stream (one
 * that predates the channel) is followed over NDJSON with `POST …/ack`, and so is
 * every manager with `transport: 'ndjson'`. Older managers are followed too: bare
 * HostState lines (before the message envelope) are snapshots, and a manager that
 * refuses `since` (400) is asked again without it.
 *
 * Invariants:
 * - `state` only ever moves forward through a snapshot or a delta whose `from` is the
 *   applied revision; a delta that does not fit forces a resync (a reconnect to the
 *   same manager without `since`, hence a snapshot);
 * - a revision is acknowledged only after `apply` resolved for it; a failed apply
 *   ends the session and leaves `state` (and whatever `apply` enforces) as it was
 *   (fail-static); nothing is ever undone because a manager is gone;
 * - acks never go backwards; over HTTP at most one is in flight (a newer one replaces
 *   a queued one).
 */
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { WebSocket } from 'ws';
import { applyHostDelta, type DeltaMessage } from '../../model/host-delta.js';
import type { HostState } from '../../model/host-state.js';
import { HostFold, type FoldStats, type WatchMessage } from './host-fold.js';

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
   * so no policy changed. A throw or rejection ends the session (logged; the next
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
  /** Told why a connection ended (and which state stays enforced meanwhile). */
  log?: (msg: string) => void;
}

/** Counters of a follower (the fold's, and the connections'). */
export interface FollowerStats extends FoldStats {
  sessions: number;
  /** Sessions that ran over a WebSocket channel. */
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
  const minB = opts.minBackoffMs ?? 100;
  const maxB = opts.maxBackoffMs ?? 5000;
  const hbMs = opts.heartbeatTimeoutMs ?? 15_000;
  const httpAgent = opts.httpAgent ?? new HttpAgent({ keepAlive: true, maxSockets: 2 });
  // Pinning: with `ca` set, node trusts that CA only (it replaces the system list).
  const tlsOptions = opts.ca === undefined ? {} : { ca: opts.ca };
  const stats: FollowerStats = {
    sessions: 0,
    channels: 0,
    snapshots: 0,
    deltas: 0,
    heartbeats: 0,
    resyncs: 0,
    acks: 0,
  };
  // Message folding (state, gaps, resyncs) is the fold's; this closure is the transport.
  const fold = new HostFold(opts.applyDelta ?? applyHostDelta, stats);
  let connectedTo: string | undefined;
  let stopped = false;
  /** States committed and heartbeats seen: a session that made some resets the backoff. */
  let progress = 0;
  /** The last apply that returned a promise (it may outlive its session). */
  let inflight: Promise<void> | undefined;
  let current: { destroy(err?: Error): void } | undefined;
  let wake: (() => void) | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (markReady = r));
  const reached = new Set<() => void>();

  // ---- acks: on the channel when there is one; else over HTTP, one in flight, the newest queued
  let acking = false;
  let queued: { base: string; revision: number } | undefined;
  let acked = -1;
  let channel:
    { base: string; send(revision: number): void; sendText(text: string): boolean } | undefined;
  const ack = (base: string, revision: number): void => {
    if (channel?.base === base) return channel.send(revision);
    queued = { base, revision };
    if (!acking) void pumpAcks();
  };
  async function pumpAcks(): Promise<void> {
    acking = true;
    while (queued && !stopped) {
      const { base, revision } = queued;
      queued = undefined;
      if (revision <= acked && base === connectedTo) continue;
      try {
        await post(`${trim(base)}/v1/hosts/${encodeURIComponent(opts.host)}/ack`, { revision });
        acked = Math.max(acked, revision);
        stats.acks++;
        opts.onAck?.(revision);
      } catch {
        /* best effort: the next revision acknowledges again, and so does a reconnect */
      }
    }
    acking = false;
  }

  function post(url: string, body: unknown): Promise<void> {
    return new Promise((resolve, reject) => {
      const u = new URL(url);
      const data = JSON.stringify(body);
      const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
        u,
        {
          method: 'POST',
          agent: u.protocol === 'https:' ? undefined : httpAgent,
          ...tlsOptions,
          headers: {
            authorization: `Bearer ${opts.token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(data),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200
              ? resolve()
              : reject(new Error(`${u.pathname}: HTTP ${res.statusCode}`)),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  const commit = (base: string, next: HostState): void => {
    fold.commit(next);
    progress++;
    markReady();
    ack(base, next.revision);
    if (reached.size > 0) for (const r of [...reached]) r();
  };

  /** Apply then commit; synchronous unless `apply` returns a promise (no microtask per message). */
  const advance = (base: string, next: HostState, changed: boolean): Promise<void> | undefined => {
    const applying = opts.apply?.(next, changed);
    if (applying instanceof Promise) return (inflight = applying.then(() => commit(base, next)));
    commit(base, next);
    return undefined;
  };

  function handle(base: string, msg: WatchMessage): Promise<void> | undefined {
    const step = fold.next(msg);
    if (step) return advance(base, step.state, step.changed);
    // A heartbeat is progress too: the session works.
    progress++;
    return undefined;
  }

  function session(base: string): Promise<void> {
    return new Promise<void>((_resolve, reject) => {
      const q = new URLSearchParams();
      if (opts.underlayIp) q.set('underlay', opts.underlayIp);
      if (opts.kind) q.set('kind', opts.kind);
      const since = fold.since();
      if (since !== undefined) q.set('since', String(since));
      const u = new URL(`${trim(base)}/v1/hosts/${encodeURIComponent(opts.host)}/watch?${q}`);
      const headers = { authorization: `Bearer ${opts.token}` };
      let timer: ReturnType<typeof setTimeout> | undefined;
      let lastSeen = Date.now();
      let done = false;
      let abort: () => void = () => undefined;
      const fail = (err: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        channel = undefined;
        abort();
        reject(err);
      };
      // One timer per session, re-armed only when it fires (not per message).
      const watchdog = () => {
        const idle = Date.now() - lastSeen;
        if (idle >= hbMs)
          fail(new Error(`no data for ${hbMs} ms (the manager sends heartbeats): reconnecting`));
        else timer = setTimeout(watchdog, hbMs - idle);
      };
      const alive = () => {
        lastSeen = Date.now();
        timer ??= setTimeout(watchdog, hbMs);
      };
      // Messages are handled in order, synchronously while `apply` is; while an apply
      // is pending, reading pauses (backpressure reaches the manager, whose stream then
      // coalesces) and later messages queue behind it.
      const queue: string[] = [];
      let waiting = false;
      const drain = (pause: () => void, resume: () => void): void => {
        while (queue.length > 0 && !done) {
          const p = handle(base, JSON.parse(queue.shift()!) as WatchMessage);
          if (p) {
            waiting = true;
            pause();
            p.then(() => {
              waiting = false;
              if (done) return;
              resume();
              drain(pause, resume);
            }).catch((err: unknown) => fail(err as Error));
            return;
          }
        }
      };
      const receive = (lines: string[], pause: () => void, resume: () => void) => {
        queue.push(...lines);
        if (waiting) return;
        try {
          drain(pause, resume);
        } catch (err) {
          fail(err as Error);
        }
      };
      const opened = () => {
        stats.sessions++;
        connectedTo = base;
        // The new manager learns what is applied here.
        if (fold.state) ack(base, fold.state.revision);
        alive();
      };
      /** Follow an NDJSON response (acks go over HTTP). */
      const followNdjson = (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          res.resume();
          // A manager that refuses `since` (an older one, during a rolling upgrade) is
          // asked again without it; its first message is then the whole state.
          const refused = res.statusCode === 400 && since !== undefined;
          if (refused) fold.resync = true;
          fail(
            new Error(
              `watch: HTTP ${res.statusCode}${refused ? ' (since= refused: watching without it)' : ''}`,
            ),
          );
          return;
        }
        opened();
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          alive();
          buf += chunk;
          let nl: number;
          const lines: string[] = [];
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line) lines.push(line);
          }
          if (lines.length > 0)
            receive(
              lines,
              () => res.pause(),
              () => res.resume(),
            );
        });
        res.on('end', () => fail(new Error('watch stream ended')));
        res.on('error', (err) => fail(err));
      };
      current = { destroy: (err) => fail(err ?? new Error('dropped')) };
      alive(); // a connection attempt that hangs counts as silence
      if ((opts.transport ?? 'websocket') === 'ndjson') {
        const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
          u,
          { ...tlsOptions, headers: { ...headers, accept: 'application/x-ndjson' } },
          followNdjson,
        );
        abort = () => req.destroy();
        req.on('error', (err) => fail(err));
        req.end();
        return;
      }
      u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
      const ws = new WebSocket(u, { ...tlsOptions, headers, perMessageDeflate: false });
      abort = () => ws.terminate();
      ws.on('unexpected-response', (req, res) => {
        // A manager without the channel streams NDJSON on the same URL.
        abort = () => req.destroy();
        followNdjson(res);
      });
      ws.on('open', () => {
        stats.channels++;
        let sent = -1;
        channel = {
          base,
          send: (revision) => {
            if (revision <= sent || ws.readyState !== WebSocket.OPEN) return;
            sent = revision;
            ws.send(`{"type":"ack","revision":${revision}}`);
            acked = Math.max(acked, revision);
            stats.acks++;
            opts.onAck?.(revision);
          },
          sendText: (text) => {
            if (ws.readyState !== WebSocket.OPEN) return false;
            ws.send(text);
            return true;
          },
        };
        opened();
      });
      ws.on('message', (data: Buffer, isBinary) => {
        alive();
        if (isBinary) return fail(new Error('watch: unexpected binary frame'));
        receive(
          [data.toString()],
          () => ws.pause(),
          () => ws.resume(),
        );
      });
      ws.on('close', (code) => fail(new Error(`watch channel closed (${code})`)));
      ws.on('error', (err) => fail(err));
    });
  }

  const loop = (async () => {
    let i = 0;
    let backoff = minB;
    while (!stopped) {
      const base = opts.servers[i % opts.servers.length]!;
      const before = progress;
      try {
        await session(base);
      } catch (err) {
        if (stopped) break;
        opts.log?.(
          `manager ${base}: ${(err as Error).message}; keeping the last state (revision ${fold.state?.revision ?? 'none'})`,
        );
      }
      connectedTo = undefined;
      current = undefined;
      // A session that worked for a while (a state applied, a heartbeat) starts the
      // backoff over; one that fails at once (refused, apply failing) backs off further.
      if (progress > before) backoff = minB;
      // A resync retries the same manager; anything else tries the next one.
      if (!fold.resync) i++;
      // The backoff, and an apply still running when the session ended: applies never
      // overlap, and the next session resumes from what that one applied.
      const applying = inflight;
      inflight = undefined;
      await new Promise<void>((r) => {
        let waits = applying ? 2 : 1;
        const done = () => --waits === 0 && r();
        const t = setTimeout(done, backoff);
        void applying?.then(done, done);
        wake = () => (clearTimeout(t), r());
      });
      wake = undefined;
      backoff = Math.min(backoff * 2, maxB);
    }
  })();

  return {
    get state() {
      return fold.state;
    },
    get connectedTo() {
      return connectedTo;
    },
    stats,
    ready,
    async sendFlows(batch) {
      const base = connectedTo;
      if (base === undefined) return false;
      if (channel?.base === base)
        return channel.sendText(JSON.stringify({ type: 'flows', ...batch }));
      try {
        await post(`${trim(base)}/v1/hosts/${encodeURIComponent(opts.host)}/flows`, batch);
        return true;
      } catch {
        return false;
      }
    },
    reach(revision, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if ((fold.state?.revision ?? -1) >= revision) {
            clearTimeout(t);
            reached.delete(check);
            resolve();
          }
        };
        const t = setTimeout(() => {
          reached.delete(check);
          reject(
            new Error(
              `${opts.host}: revision ${revision} not reached (at ${fold.state?.revision})`,
            ),
          );
        }, timeoutMs);
        reached.add(check);
        check();
      });
    },
    drop() {
      current?.destroy(new Error('dropped'));
    },
    async stop() {
      stopped = true;
      current?.destroy(new Error('stopped'));
      wake?.();
      await loop;
      if (!opts.httpAgent) httpAgent.destroy();
    },
  };
}

function trim(base: string): string {
  return base.replace(/\/+$/, '');
}
