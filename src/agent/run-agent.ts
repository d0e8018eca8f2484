/**
 * The kernel agent's manager-facing loop: the protocol loop of followHost
 * (src/agent/protocol/follow-host.ts: WebSocket channel or NDJSON, delta folding,
 * acknowledgements, idle timeout, failover, resume with `since`) with
 * `Agent.applyState` as its apply step. There is no second client of the protocol:
 * what the tests and the benchmark follow a host with is what runs here.
 *
 * Before the first connection the agent adopts a table left by a previous run
 * (`Agent.start`). Fail-static: while no manager answers, or when an apply fails,
 * the last applied state stays enforced; nothing is flushed.
 */
import type { ClientCert } from '../client/http-fetch.js';
import type { HostState } from '../model/host-state.js';
import { Agent, type AgentOptions } from './agent.js';
import { makeExec } from './exec.js';
import { FlowCollector, type FlowCollectorOptions } from './flows/flow-collector.js';
import { followHost, type HostFollower } from './protocol/follow-host.js';

/** Settings of {@link runAgent}. */
export interface RunAgentOptions {
  /** Manager base URLs (`http://10.0.0.1:7400`), tried in turn. */
  servers: string[];
  host: string;
  token: string;
  underlayIp: string;
  /** The only CA trusted for https managers (`--ca-file`). */
  ca?: string;
  /** The client certificate shown to https managers (`--cert-file`/`--key-file`; agent mTLS). */
  clientCert?: ClientCert;
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
  /**
   * How often the agent checks that its datapath still holds the program and rewrites
   * it when not (OVS: ovs-vswitchd restarted). Default 5000 ms; 0 never checks.
   */
  verifyIntervalMs?: number;
  /** Collect flow records from the kernel and ship them to the manager (docs/flows.md). */
  flows?: Partial<Omit<FlowCollectorOptions, 'state' | 'send'>>;
}

/** A running agent loop. */
export interface AgentHandle {
  agent: Agent;
  /** Resolves when the first state has been applied (rejects if the agent cannot start). */
  ready: Promise<void>;
  /** The flow collector, when flows are collected. */
  readonly flows: FlowCollector | undefined;
  /** Number of (re)connections that opened a watch. */
  readonly syncs: number;
  /** The URL currently in use, if connected. */
  readonly connectedTo: string | undefined;
  /** Ends the loop; resolves once an apply in flight has finished. The kernel state stays. */
  stop(): Promise<void>;
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
  let stopped = false;
  let follower: HostFollower | undefined;
  let applying: Promise<void> | undefined;
  // Every new revision goes to the agent, an empty delta too: `agent.state` is the
  // applied revision. For an empty delta (`changed` false) the agent only takes the
  // revision: most revisions touch other hosts, and building the nft table of a large state costs.
  const apply = (state: HostState, changed: boolean): Promise<void> =>
    (applying = agent.applyState(state, changed));
  const started = agent.start().then(() => {
    if (stopped) return;
    follower = followHost({
      servers: opts.servers,
      host: opts.host,
      token: opts.token,
      underlayIp: opts.underlayIp,
      kind: agent.datapath.kind,
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
      ...(opts.clientCert ? { clientCert: opts.clientCert } : {}),
      apply,
      applyDelta: opts.applyDelta,
      heartbeatTimeoutMs: opts.idleTimeoutMs,
      minBackoffMs: opts.minBackoffMs,
      maxBackoffMs: opts.maxBackoffMs,
      log: opts.log,
    });
  });
  const flows = opts.flows
    ? new FlowCollector({
        exec: makeExec(),
        ...opts.flows,
        ...(opts.log && !opts.flows.log ? { log: opts.log } : {}),
        state: () => agent.state,
        send: (batch) => follower?.sendFlows(batch) ?? Promise.resolve(false),
      })
    : undefined;
  const collecting = started
    .then(() => (stopped ? undefined : flows?.start()))
    .catch((e: unknown) => opts.log?.(`flows: not collected: ${String(e)}`));
  // Datapaths whose program can vanish behind the agent (OVS) are checked periodically.
  const every = opts.verifyIntervalMs ?? 5000;
  const verifier =
    agent.datapath.intact && every > 0
      ? setInterval(() => {
          agent.verify().catch((e: unknown) => opts.log?.(`verify: ${String(e)}`));
        }, every)
      : undefined;
  verifier?.unref();
  // Stopped before the first connection: never ready (as a loop that was stopped).
  const ready = started.then(() => follower?.ready ?? new Promise<void>(() => undefined));

  return {
    agent,
    ready,
    flows,
    get syncs() {
      return follower?.stats.sessions ?? 0;
    },
    get connectedTo() {
      return follower?.connectedTo;
    },
    async stop() {
      stopped = true;
      clearInterval(verifier);
      await started.catch(() => undefined);
      await collecting;
      // Before the follower: the last batches still have a manager to go to.
      await flows?.stop();
      await follower?.stop();
      // An nft transaction is all or nothing, but a caller that exits after stop()
      // should not cut the links or conntrack steps of an apply short (nor its sweep).
      await applying?.catch(() => undefined);
      await agent.swept();
      agent.datapath.close?.();
    },
  };
}
