/**
 * The agent's side of the protocol (docs/protocol.md) without the kernel: follow a
 * host's watch stream, fold deltas with applyHostDelta, acknowledge every applied
 * revision, detect a silent connection, fail over between managers and resume from
 * the last applied revision. Used by the simulated agents of the benchmark and by
 * the distribution tests; the real agent (src/agent/run-agent.ts) speaks the same.
 *
 * Invariants:
 * - `state` only ever moves forward through a snapshot or a delta whose `from` is the
 *   applied revision; a delta that does not fit forces a resync (a reconnect without
 *   `since`, hence a snapshot);
 * - a revision is acknowledged only after `apply` resolved for it; acks never go
 *   backwards and at most one is in flight (a newer one replaces a queued one).
 */
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { applyHostDelta, isEmptyDelta, type HostMessage } from '../../model/host-delta.js';
import type { HostState } from '../../model/host-state.js';

/** Settings of {@link followHost}. */
export interface FollowHostOptions {
  /** Manager base URLs, tried in turn (failover). */
  servers: string[];
  host: string;
  token: string;
  underlayIp?: string;
  /** Applies a new full state (the kernel, or nothing); the revision is acked after. */
  apply?: (state: HostState) => Promise<void> | void;
  /** No message for this long: the connection is dead (default 15000; heartbeats every 5 s). */
  heartbeatTimeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Told of every acknowledgement the manager accepted (benchmarks time them). */
  onAck?: (revision: number) => void;
  /** HTTP agent for acks (default: a keep-alive agent per follower). */
  httpAgent?: HttpAgent;
  log?: (msg: string) => void;
}

/** Counters of a follower. */
export interface FollowerStats {
  sessions: number;
  snapshots: number;
  deltas: number;
  heartbeats: number;
  resyncs: number;
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
  const stats: FollowerStats = {
    sessions: 0,
    snapshots: 0,
    deltas: 0,
    heartbeats: 0,
    resyncs: 0,
    acks: 0,
  };
  let state: HostState | undefined;
  let connectedTo: string | undefined;
  let stopped = false;
  let resync = false;
  let current: { destroy(err?: Error): void } | undefined;
  let wake: (() => void) | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (markReady = r));
  const reached = new Set<() => void>();

  // ---- acks: one in flight, the newest queued
  let acking = false;
  let queued: { base: string; revision: number } | undefined;
  let acked = -1;
  const ack = (base: string, revision: number): void => {
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
          headers: {
            authorization: `Bearer ${opts.token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(data),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`ack: HTTP ${res.statusCode}`)),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  const advance = async (base: string, next: HostState, changed: boolean): Promise<void> => {
    if (changed) await opts.apply?.(next);
    state = next;
    markReady();
    ack(base, next.revision);
    for (const r of [...reached]) r();
  };

  async function handle(base: string, msg: HostMessage): Promise<void> {
    if (msg.type === 'heartbeat') {
      stats.heartbeats++;
      return;
    }
    if (msg.type === 'snapshot') {
      stats.snapshots++;
      await advance(base, msg.state, true);
      return;
    }
    if (!state || state.revision !== msg.from) {
      resync = true;
      stats.resyncs++;
      throw new Error(`delta from ${msg.from} does not apply to ${state?.revision ?? 'nothing'}`);
    }
    stats.deltas++;
    await advance(base, applyHostDelta(state, msg), !isEmptyDelta(msg));
  }

  function session(base: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const q = new URLSearchParams();
      if (opts.underlayIp) q.set('underlay', opts.underlayIp);
      if (state && !resync) q.set('since', String(state.revision));
      resync = false;
      const u = new URL(`${trim(base)}/v1/hosts/${encodeURIComponent(opts.host)}/watch?${q}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      let done = false;
      const fail = (err: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      const alive = () => {
        clearTimeout(timer);
        timer = setTimeout(() => fail(new Error(`no message for ${hbMs} ms`)), hbMs);
      };
      const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
        u,
        { headers: { authorization: `Bearer ${opts.token}`, accept: 'application/x-ndjson' } },
        (res: IncomingMessage) => {
          if (res.statusCode !== 200) {
            res.resume();
            fail(new Error(`watch: HTTP ${res.statusCode}`));
            return;
          }
          stats.sessions++;
          connectedTo = base;
          // The new manager learns what is applied here.
          if (state) ack(base, state.revision);
          alive();
          let buf = '';
          let chain = Promise.resolve();
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
            if (lines.length === 0) return;
            // Apply in order; reading pauses while applying (backpressure reaches the manager).
            res.pause();
            chain = chain
              .then(async () => {
                for (const line of lines)
                  if (!done) await handle(base, JSON.parse(line) as HostMessage);
                if (!done) res.resume();
              })
              .catch((err: unknown) => fail(err as Error));
          });
          res.on('end', () => fail(new Error('watch stream ended')));
          res.on('error', (err) => fail(err));
        },
      );
      current = { destroy: (err) => fail(err ?? new Error('dropped')) };
      req.on('error', (err) => fail(err));
      req.end();
      void resolve;
    });
  }

  const loop = (async () => {
    let i = 0;
    let backoff = minB;
    while (!stopped) {
      const base = opts.servers[i % opts.servers.length]!;
      const before = stats.snapshots + stats.deltas;
      try {
        await session(base);
      } catch (err) {
        if (stopped) break;
        opts.log?.(`manager ${base}: ${(err as Error).message}`);
      }
      connectedTo = undefined;
      current = undefined;
      if (stats.snapshots + stats.deltas > before) backoff = minB;
      // A resync retries the same manager; anything else tries the next one.
      if (!resync) i++;
      await new Promise<void>((r) => {
        const t = setTimeout(r, backoff);
        wake = () => (clearTimeout(t), r());
      });
      wake = undefined;
      backoff = Math.min(backoff * 2, maxB);
    }
  })();

  return {
    get state() {
      return state;
    },
    get connectedTo() {
      return connectedTo;
    },
    stats,
    ready,
    reach(revision, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if ((state?.revision ?? -1) >= revision) {
            clearTimeout(t);
            reached.delete(check);
            resolve();
          }
        };
        const t = setTimeout(() => {
          reached.delete(check);
          reject(
            new Error(`${opts.host}: revision ${revision} not reached (at ${state?.revision})`),
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
