/**
 * Test topology: an underlay namespace with a bridge, and host namespaces wired
 * to it by veths. Everything lives in namespaces named `vnpt-<random>-…`; the
 * root namespace is never touched. `destroy()` removes every namespace with the
 * prefix, also those the agent created for instances.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Runs a command synchronously, throwing with its stderr on failure. */
export function sh(argv: string[], input?: string): string {
  return execFileSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    input: input ?? '',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

const TEST_TOOLS = [
  ['nft', '--version'],
  ['ip', '-V'],
  ['conntrack', '--version'],
  ['tcpdump', '--version'],
  ['python3', '--version'],
];

/**
 * Whether privileged datapath work can run here, and why not: root, the tools
 * (default: what the tests use), and VXLAN-GBP + nft in a namespace named
 * `<namePrefix>-probe-…`.
 */
export function privilegedProblem(
  tools: string[][] = TEST_TOOLS,
  namePrefix = 'vnpt',
): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of tools) {
    try {
      sh(tool);
    } catch {
      return `${tool[0]} is not available`;
    }
  }
  const probe = `${namePrefix}-probe-${randomBytes(3).toString('hex')}`;
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
    return `netns/vxlan-gbp/nft not usable: ${(err as Error).message}`;
  } finally {
    try {
      sh(['ip', 'netns', 'del', probe]);
    } catch {
      /* was never created */
    }
  }
  return undefined;
}

/** One host namespace on the underlay. */
export interface TestHost {
  name: string;
  netns: string;
  underlayIp: string;
}

/** The whole test network. */
export interface Topology {
  prefix: string;
  underlayNs: string;
  hosts: TestHost[];
  /** Namespace name for an instance (created by the agent on attach). */
  instanceNs(name: string): string;
  destroy(): void;
}

/**
 * Builds the underlay bridge and `hostNames.length` host namespaces, all named
 * `<namePrefix>-<random>-…` (tests use `vnpt`, the data-plane benchmark `vnpb`).
 *
 * @example const topo = buildTopology(['h1', 'h2', 'h3']); try { … } finally { topo.destroy(); }
 */
export function buildTopology(hostNames: string[], namePrefix = 'vnpt'): Topology {
  const prefix = `${namePrefix}-${randomBytes(3).toString('hex')}`;
  const underlayNs = `${prefix}-ul`;
  const topo: Topology = {
    prefix,
    underlayNs,
    hosts: [],
    instanceNs: (name) => `${prefix}-i-${name}`,
    destroy: () => destroyPrefix(prefix),
  };
  try {
    sh(['ip', 'netns', 'add', underlayNs]);
    sh(['ip', '-n', underlayNs, 'link', 'add', 'br0', 'type', 'bridge']);
    sh(['ip', '-n', underlayNs, 'link', 'set', 'br0', 'up']);
    sh(['ip', '-n', underlayNs, 'link', 'set', 'lo', 'up']);
    hostNames.forEach((name, i) => {
      const netns = `${prefix}-${name}`;
      const underlayIp = `192.168.77.${i + 1}`;
      sh(['ip', 'netns', 'add', netns]);
      sh([
        'ip',
        '-n',
        underlayNs,
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
      sh(['ip', '-n', underlayNs, 'link', 'set', `ul${i}`, 'master', 'br0', 'up']);
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

/** Deletes every namespace whose name starts with `prefix-` (ours only). */
export function destroyPrefix(prefix: string): void {
  let list: string;
  try {
    list = sh(['ip', 'netns', 'list']);
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const ns = line.split(' ')[0];
    if (ns && ns.startsWith(`${prefix}-`)) {
      try {
        sh(['ip', 'netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
  }
}
