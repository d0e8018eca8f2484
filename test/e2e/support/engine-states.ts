/**
 * The manager's part in privileged tests that drive agents from an Engine directly:
 * a host's state is the engine's, with the remote hosts' underlay addresses filled in
 * (what the distribution layer adds in production).
 */
import type { Agent } from '../../../src/agent/agent.js';
import type { Engine } from '../../../src/engine/index.js';
import type { HostState } from '../../../src/model/host-state.js';
import { applyChecked } from './agents.js';
import type { Topology } from './topology.js';

/**
 * `engine.hostState(host)` at `revision`, remote records given their host's underlay IP.
 *
 * @example await agent.applyState(engineHostState(engine, topo, 'h1', 3))
 */
export function engineHostState(
  engine: Engine,
  topo: Topology,
  host: string,
  revision: number,
): HostState {
  const s = engine.hostState(host, revision);
  const underlay = new Map(topo.hosts.map((h) => [h.name, h.underlayIp]));
  return { ...s, remotes: s.remotes.map((r) => ({ ...r, underlay: underlay.get(r.host)! })) };
}

/**
 * Every agent applies its host's engine state at `revision` and sweeps after it; fails
 * when an agent could not plumb its links (applyChecked), saying why.
 *
 * @example await syncAgents(engine, topo, agents, revision)
 */
export async function syncAgents(
  engine: Engine,
  topo: Topology,
  agents: ReadonlyMap<string, Agent>,
  revision: number,
): Promise<void> {
  // And their sweeps: a test that checks connections after a change sees them cut.
  await Promise.all(
    [...agents].map(async ([host, a]) => {
      await applyChecked(a, host, engineHostState(engine, topo, host, revision));
      await a.swept();
    }),
  );
}
