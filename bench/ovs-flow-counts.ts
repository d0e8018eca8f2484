/**
 * Flow counts of the OVS layout (ADR 0020) at 10, 1k and 10k policies: the host
 * state's entries, the flows with conjunctions, and the flows the same tables would
 * need without them (one flow per key × port prefix). Run: `npx tsx bench/ovs-flow-counts.ts`.
 */
import { performance } from 'node:perf_hooks';
import { ConjIds, ovsProgram, type OvsPorts } from '../src/agent/ovs/program.js';
import type { HostState } from '../src/model/host-state.js';
import { ovsModelState } from './ovs-model.js';

/** One row of the table. */
export interface FlowCountRow {
  policies: number;
  entries: number;
  flows: number;
  flowsWithoutConjunction: number;
  compileMs: number;
}

const entriesOf = (s: HostState): number =>
  s.sides.reduce((n, side) => n + side.cidr.length + side.peers.length + side.any.length, 0);

/** Ports as a plumbed bridge would have them (every local record has a port). */
export function fakePorts(state: HostState): OvsPorts {
  return {
    records: new Map(state.locals.map((l, i) => [l.name, i + 1])),
    tunnels: new Map([[1, 4000]]),
  };
}

export function flowCounts(policies: number): FlowCountRow {
  const state = ovsModelState(policies);
  const ports = fakePorts(state);
  const t0 = performance.now();
  const flows = ovsProgram(state, ports).size;
  const compileMs = performance.now() - t0;
  const flowsWithoutConjunction = ovsProgram(state, ports, {}, new ConjIds(false)).size;
  return { policies, entries: entriesOf(state), flows, flowsWithoutConjunction, compileMs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(
    '| policies | host-state entries | flows (conjunction) | flows without | compile ms |',
  );
  console.log(
    '| -------: | -----------------: | ------------------: | ------------: | ---------: |',
  );
  for (const n of [10, 1000, 10000]) {
    const r = flowCounts(n);
    console.log(
      `| ${r.policies} | ${r.entries} | ${r.flows} | ${r.flowsWithoutConjunction} | ${r.compileMs.toFixed(0)} |`,
    );
  }
}
