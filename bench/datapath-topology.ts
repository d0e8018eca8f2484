/**
 * The data-plane benchmark's network: an underlay namespace with a bridge and two
 * host namespaces on it, all named `vnpb-<random>-…` (the benchmark's own prefix,
 * distinct from the tests' `vnpt-`, so a run never touches anything else). The
 * root namespace is never touched. Command helpers and cleanup come from the e2e
 * support (`sh`, `destroyPrefix`).
 */
import { randomBytes } from 'node:crypto';
import { destroyPrefix, sh } from '../test/e2e/support/topology.js';

/** One host namespace on the underlay. */
export interface BenchHost {
  name: string;
  netns: string;
  underlayIp: string;
}

/** The benchmark network; `destroy()` removes every namespace with its prefix. */
export interface BenchTopology {
  prefix: string;
  hosts: BenchHost[];
  /** Namespace of an instance (the agent creates it on attach). */
  instanceNs(name: string): string;
  destroy(): void;
}

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
 * Builds the underlay bridge and host namespaces `h1`, `h2`, … (192.168.77.N/24).
 *
 * @example const topo = buildBenchTopology(['h1', 'h2']); try { … } finally { topo.destroy(); }
 */
export function buildBenchTopology(hostNames: string[]): BenchTopology {
  const prefix = `vnpb-${randomBytes(3).toString('hex')}`;
  const ul = `${prefix}-ul`;
  const topo: BenchTopology = {
    prefix,
    hosts: [],
    instanceNs: (name) => `${prefix}-i-${name}`,
    destroy: () => destroyPrefix(prefix),
  };
  try {
    sh(['ip', 'netns', 'add', ul]);
    sh(['ip', '-n', ul, 'link', 'add', 'br0', 'type', 'bridge']);
    sh(['ip', '-n', ul, 'link', 'set', 'br0', 'up']);
    hostNames.forEach((name, i) => {
      const netns = `${prefix}-${name}`;
      const underlayIp = `192.168.77.${i + 1}`;
      sh(['ip', 'netns', 'add', netns]);
      sh([
        'ip',
        '-n',
        ul,
        'link',
        'add',
        `ul${i}`,
        'type',
        'veth',
        'peer',
        'name',
        'uplink',
        'netns',
        netns,
      ]);
      sh(['ip', '-n', ul, 'link', 'set', `ul${i}`, 'master', 'br0', 'up']);
      sh(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
      sh(['ip', '-n', netns, 'addr', 'add', `${underlayIp}/24`, 'dev', 'uplink']);
      sh(['ip', '-n', netns, 'link', 'set', 'uplink', 'up']);
      topo.hosts.push({ name, netns, underlayIp });
    });
  } catch (err) {
    topo.destroy();
    throw err;
  }
  return topo;
}
