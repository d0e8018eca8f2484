/**
 * The agent's manager-facing loop: fetch the host's state, then follow the watch
 * stream, applying each state and acknowledging it: on the WebSocket channel when the
 * manager offers it (src/agent/protocol/open-watch.ts), else NDJSON (one message per
 * line; blank keep-alive lines) acknowledged with `POST /v1/hosts/{host}/ack {revision}`.
 * On any failure, or a stream silent for longer than the idle timeout, it
 * moves to the next manager URL with exponential backoff and resyncs with a full
 * state fetch. The last applied state stays enforced meanwhile (fail-static).
 */
import { applyHostDelta, type HostDelta } from '../model/host-delta.js';
import type { HostState } from '../model/host-state.js';
import { Agent, type AgentOptions } from './agent.js';
import { openWatch } from './protocol/open-watch.js';

/** Settings of {@link runAgent}. */
export interface RunAgentOptions {
  /** Manager base URLs (`http://10.0.0.1:7400`), tried in turn. */
  servers: string[];
  host: string;
  token: string;
  underlayIp: string;
  /** An agent to drive (default: a new kernel Agent). */
  agent?: Agent;
  /** Options for the default agent. */
  agentOptions?: Partial<AgentOptions>;
  /**
   * A watch stream silent this long is considered dead (default 15 s: the manager
   * sends a heartbeat every 5 s).
   */
  idleTimeoutMs?: number;
  /** Backoff bounds in ms (default 100 … 5000). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  log?: (msg: string) => void;
  /** Folds a `{type: 'delta'}` watch message onto the applied state (default: applyHostDelta). */
  applyDelta?: (state: HostState, delta: unknown) => HostState;
}

/** A running agent loop. */
export interface AgentHandle {
  agent: Agent;
  /** Resolves when the first state has been applied. */
  ready: Promise<void>;
  /** Number of (re)connections that delivered a state. */
  readonly syncs: number;
  /** The URL currently in use, if connected. */
  readonly connectedTo: string | undefined;
  stop(): Promise<void>;
}

function endpoint(base: string, host: string, what: 'state' | 'watch', underlay: string): string {
  return `${base.replace(/\/+$/, '')}/v1/hosts/${encodeURIComponent(host)}/${what}?underlay=${encodeURIComponent(underlay)}`;
}

/**
 * Connects to the manager(s) and keeps the host's kernel state in sync.
 *
 * @example
 *   const h = runAgent({ servers: ['http://127.0.0.1:7400'], host: 'h1', token, underlayIp: '192.0.2.1' });
 *   await h.ready; … await h.stop();
 */
export function runAgent(opts: RunAgentOptions): AgentHandle {
  const agent =
    opts.agent ??
    new Agent({
      host: opts.host,
      underlayIp: opts.underlayIp,
      ...(opts.log ? { log: opts.log } : {}),
      ...opts.agentOptions,
    });
  const minB = opts.minBackoffMs ?? 100;
  const maxB = opts.maxBackoffMs ?? 5000;
  const idleMs = opts.idleTimeoutMs ?? 15_000;
  const abort = new AbortController();
  let stopped = false;
  let syncs = 0;
  let connectedTo: string | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (markReady = r));
  const headers = { authorization: `Bearer ${opts.token}`, accept: 'application/json' };

  // Each sleep removes its abort listener again: reconnect loops must not pile them up.
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const wake = () => {
        clearTimeout(t);
        abort.signal.removeEventListener('abort', wake);
        r();
      };
      const t = setTimeout(wake, ms);
      abort.signal.addEventListener('abort', wake, { once: true });
    });

  /**
   * A watch line → the state to apply. Plain HostState lines, and the envelope
   * `{type: 'snapshot', state}` / `{type: 'heartbeat'}` / `{type: 'delta', from, …}`;
   * a delta is folded onto the applied state with `opts.applyDelta`, and one that
   * does not fit (`from` is not the applied revision, or no folder) forces a resync.
   */
  function nextState(item: unknown): HostState | undefined {
    const msg = item as { type?: string; state?: HostState; from?: number };
    if (msg.type === undefined) return item as HostState;
    if (msg.type === 'snapshot') return msg.state;
    if (msg.type === 'heartbeat') return undefined;
    if (msg.type === 'delta') {
      const current = agent.state;
      const fold = opts.applyDelta ?? ((st, d) => applyHostDelta(st, d as HostDelta));
      if (!current || current.revision !== msg.from) {
        throw new Error(
          `delta from revision ${msg.from} does not apply to ${current?.revision ?? 'nothing'}: resyncing`,
        );
      }
      return fold(current, item);
    }
    throw new Error(`unknown watch message type ${JSON.stringify(msg.type)}`);
  }

  /** Tells the manager which revision is enforced (best effort: it is only progress). */
  async function ack(base: string, signal: AbortSignal): Promise<void> {
    const revision = agent.state?.revision;
    if (revision === undefined) return;
    try {
      const url = `${base.replace(/\/+$/, '')}/v1/hosts/${encodeURIComponent(opts.host)}/ack`;
      const res = await fetch(url, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ revision }),
        signal,
      });
      await res.arrayBuffer();
    } catch {
      /* the next state acknowledges again */
    }
  }

  async function session(base: string): Promise<void> {
    // One controller per session: stop() aborts it, and so does a silent stream.
    const ctl = new AbortController();
    const onStop = () => ctl.abort();
    abort.signal.addEventListener('abort', onStop, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    const alive = () => {
      clearTimeout(idle);
      idle = setTimeout(() => ctl.abort(), idleMs);
    };
    try {
      // First contact fetches a full state; later sessions resume the watch from the
      // applied revision (`since`): deltas if the manager still has them, else a snapshot.
      if (!agent.state) {
        const res = await fetch(endpoint(base, opts.host, 'state', opts.underlayIp), {
          headers,
          signal: ctl.signal,
        });
        if (!res.ok) throw new Error(`GET state: HTTP ${res.status}`);
        await agent.applyState((await res.json()) as HostState);
      }
      syncs++;
      connectedTo = base;
      markReady();
      const since = agent.state ? `&since=${agent.state.revision}` : '';
      const watchUrl = endpoint(base, opts.host, 'watch', opts.underlayIp);
      let watch = await openWatch(watchUrl + since, headers, ctl.signal);
      if (watch.status === 400 && since) {
        // A manager that refuses `since` (an older one, during a rolling upgrade):
        // follow it without resuming; its first message is the full state.
        watch.close();
        opts.log?.(`manager ${base} refused since= (${watch.status}); watching without it`);
        watch = await openWatch(watchUrl, headers, ctl.signal);
      }
      if (watch.status !== 200) {
        watch.close();
        throw new Error(`GET watch: HTTP ${watch.status}`);
      }
      // Acknowledge on the channel when there is one, else over HTTP.
      const acknowledge = async () => {
        if (!watch.ack) return ack(base, ctl.signal);
        if (agent.state) watch.ack(agent.state.revision);
      };
      try {
        // The manager learns what is applied here.
        await acknowledge();
        alive();
        for await (const item of watch.messages(alive)) {
          if (stopped) return;
          const state = nextState(item);
          if (state === undefined) continue;
          await agent.applyState(state);
          await acknowledge();
        }
      } finally {
        watch.close();
      }
      throw new Error('watch stream ended');
    } catch (err) {
      if (ctl.signal.aborted && !stopped)
        throw new Error(`no data for ${idleMs} ms (the manager sends keep-alives): reconnecting`, {
          cause: err,
        });
      throw err;
    } finally {
      clearTimeout(idle);
      abort.signal.removeEventListener('abort', onStop);
      ctl.abort();
    }
  }

  const loop = (async () => {
    await agent.start();
    let i = 0;
    let backoff = minB;
    while (!stopped) {
      const base = opts.servers[i % opts.servers.length]!;
      const before = syncs;
      try {
        await session(base);
      } catch (err) {
        if (stopped) break;
        opts.log?.(
          `manager ${base}: ${(err as Error).message}; keeping the last state (revision ${agent.state?.revision ?? 'none'})`,
        );
      }
      connectedTo = undefined;
      if (syncs > before) backoff = minB;
      i++;
      await sleep(backoff);
      backoff = Math.min(backoff * 2, maxB);
    }
  })();

  return {
    agent,
    ready,
    get syncs() {
      return syncs;
    },
    get connectedTo() {
      return connectedTo;
    },
    async stop() {
      stopped = true;
      abort.abort();
      await loop.catch(() => undefined);
    },
  };
}
