/**
 * Agents of a test topology: one per host namespace, with the host's underlay address.
 */
import { Agent, type AgentOptions } from '../../../src/agent/agent.js';
import { makeExec } from '../../../src/agent/exec.js';
import type { TestHost, Topology } from './topology.js';

/**
 * An agent for test host `h` (its commands run in the host's namespace).
 *
 * @example const agent = hostAgent(topo.hosts[0]!); await agent.start();
 */
export function hostAgent(h: TestHost, opts: Partial<AgentOptions> = {}): Agent {
  return new Agent({ host: h.name, underlayIp: h.underlayIp, exec: makeExec(h.netns), ...opts });
}

/**
 * Starts one agent per host of `topo` and records them in `agents` by host name.
 *
 * @example await startAgents(topo, agents); // then applyState per host
 */
export async function startAgents(
  topo: Topology,
  agents: Map<string, Agent>,
  opts: (h: TestHost) => Partial<AgentOptions> = () => ({}),
): Promise<void> {
  for (const h of topo.hosts) {
    const agent = hostAgent(h, opts(h));
    await agent.start();
    agents.set(h.name, agent);
  }
}
