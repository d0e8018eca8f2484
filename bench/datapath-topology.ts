/**
 * The data-plane benchmark's network: an underlay namespace with a bridge and two
 * host namespaces on it, all named `vnpb-<random>-…` (the benchmark's own prefix,
 * distinct from the tests' `vnpt-`, so a run never touches anything else). The
 * root namespace is never touched. Command helpers and cleanup come from the e2e
 * support (`sh`, `destroyPrefix`).
 */
import { randomBytes } from 'node:crypto';
import { buildTopology, sh, type Topology } from '../test/e2e/support/topology.js';

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
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of TOOLS) {
    try {
      sh(tool);
    } catch {
      return `${tool[0]} is not available`;
    }
  }
  const probe = `vnpb-probe-${randomBytes(3).toString('hex')}`;
  try {
    sh(['ip', 'netns', 'add', probe]);
    sh([
      'ip',
      '-n',
      probe,
      'link',
      'add',
      'vx0',
      'type',
      'vxlan',
      'id',
      '1',
      'dstport',
      '4789',
      'gbp',
    ]);
    sh(['ip', 'netns', 'exec', probe, 'nft', 'list', 'ruleset']);
  } catch (err) {
    return `netns/vxlan-gbp/nft not usable: ${(err as Error).message.split('\n')[0]}`;
  } finally {
    try {
      sh(['ip', 'netns', 'del', probe]);
    } catch {
      /* never created */
    }
  }
  return undefined;
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
