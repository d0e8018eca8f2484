/**
 * The data-plane benchmark's network: an underlay namespace with a bridge and two
 * host namespaces on it, all named `vnpb-<random>-…` (the benchmark's own prefix,
 * distinct from the tests' `vnpt-`, so a run never touches anything else). The
 * root namespace is never touched. Command helpers and cleanup come from the e2e
 * support (`sh`, `destroyPrefix`).
 */
import { buildTopology, privilegedProblem, type Topology } from '../test/e2e/support/topology.js';

/** The benchmark network: the e2e topology under the benchmark's own prefix. */
export type BenchTopology = Topology;

const TOOLS = [
  ['nft', '--version'],
  ['ip', '-V'],
  ['conntrack', '--version'],
  ['iperf3', '--version'],
];

/**
 * Why the benchmark cannot run here (not root, a tool missing, no VXLAN-GBP in a
 * namespace), or undefined when it can.
 *
 * @example const why = benchProblem(); if (why) return skipped(why);
 */
export function benchProblem(): string | undefined {
  return privilegedProblem(TOOLS, 'vnpb');
}

/**
 * Builds the underlay bridge and host namespaces `h1`, `h2`, … (192.168.77.N/24),
 * named `vnpb-<random>-…` so a run never touches the tests' namespaces.
 *
 * @example const topo = buildBenchTopology(['h1', 'h2']); try { … } finally { topo.destroy(); }
 */
export function buildBenchTopology(hostNames: string[]): BenchTopology {
  return buildTopology(hostNames, 'vnpb');
}
