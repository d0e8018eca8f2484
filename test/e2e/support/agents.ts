/**
 * Agents of a test topology: one per host namespace, with the host's underlay address.
 * Each collects what it logs, so that a test can say why a link was not plumbed
 * ({@link applyChecked}): the agent only counts such failures and retries them with
 * the next state, which a test would see as a missing address much later.
 */
import { Agent, type AgentOptions } from '../../../src/agent/agent.js';
import { makeExec } from '../../../src/agent/exec.js';
import type { HostState } from '../../../src/model/host-state.js';
import type { TestHost, Topology } from './topology.js';

const logs = new WeakMap<Agent, string[]>();

/**
 * An agent for test host `h` (its commands run in the host's namespace), logging into
 * `messages` (see {@link agentLog}) unless `opts` brings its own log.
 *
 * @example const agent = hostAgent(topo.hosts[0]!); await agent.start();
 */
export function hostAgent(
  h: TestHost,
  opts: Partial<AgentOptions> = {},
  messages: string[] = [],
): Agent {
  const agent = new Agent({
    host: h.name,
    underlayIp: h.underlayIp,
    exec: makeExec(h.netns),
    log: (msg) => messages.push(msg),
    ...opts,
  });
  logs.set(agent, messages);
  return agent;
}

/** What a test agent (and a datapath given the same log) logged so far. */
export function agentLog(agent: Agent): readonly string[] {
  return logs.get(agent) ?? [];
}

/**
 * `agent.applyState(state)`, failing when the agent counted a link failure (a record
 * not plumbed, …) meanwhile, with what it logged.
 *
 * @example await applyChecked(agents.get('h1')!, 'h1', state)
 */
export async function applyChecked(agent: Agent, host: string, state: HostState): Promise<void> {
  const failures = agent.stats.linkFailures;
  const seen = agentLog(agent).length;
  await agent.applyState(state);
  const n = agent.stats.linkFailures - failures;
  if (n > 0)
    throw new Error(
      `${host} at revision ${state.revision}: ${n} link failure(s): ${agentLog(agent).slice(seen).join(' | ') || '(nothing logged)'}`,
    );
}

/**
 * Starts one agent per host of `topo` and records them in `agents` by host name.
 * `opts` gets the agent's collecting log (for a datapath it builds).
 *
 * @example await startAgents(topo, agents); // then applyState per host
 */
export async function startAgents(
  topo: Topology,
  agents: Map<string, Agent>,
  opts: (h: TestHost, log: (msg: string) => void) => Partial<AgentOptions> = () => ({}),
): Promise<void> {
  for (const h of topo.hosts) {
    const messages: string[] = [];
    const agent = hostAgent(
      h,
      opts(h, (msg) => messages.push(msg)),
      messages,
    );
    await agent.start();
    agents.set(h.name, agent);
  }
}
