/**
 * A tiny driver for scripts/demo-two-hosts.sh (and for poking at a host by hand):
 *
 *   tsx test/e2e/support/demo-cli.ts apply NETNS HOST UNDERLAY_IP < state.json
 *       applies a HostState with the real Agent inside namespace NETNS;
 *   tsx test/e2e/support/demo-cli.ts gbp FILE.pcap
 *       prints the VXLAN Group Policy ID and inner addresses of each packet.
 */
import { readFileSync } from 'node:fs';
import { Agent } from '../../../src/agent/agent.js';
import { makeExec } from '../../../src/agent/exec.js';
import type { HostState } from '../../../src/model/host-state.js';
import { decodeVxlanPcap } from './gbp.js';

async function main(argv: string[]): Promise<void> {
  const [cmd, ...args] = argv;
  if (cmd === 'apply' && args.length === 3) {
    const [netns, host, underlayIp] = args as [string, string, string];
    const state = JSON.parse(readFileSync(0, 'utf8')) as HostState;
    const agent = new Agent({
      host,
      underlayIp,
      exec: makeExec(netns),
      log: (m) => console.log(`  agent: ${m}`),
    });
    await agent.start();
    await agent.applyState(state);
    const s = agent.stats;
    console.log(
      `  ${host}: revision ${state.revision} applied (links ${s.lastLinksMs?.toFixed(0)} ms, nft ${s.lastNftMs?.toFixed(0)} ms)`,
    );
    return;
  }
  if (cmd === 'gbp' && args.length === 1) {
    for (const p of decodeVxlanPcap(readFileSync(args[0]!))) {
      console.log(
        `  VXLAN vni ${p.vni} ${p.gbp ? 'GBP' : 'no GBP'} group policy id ${p.groupPolicyId}: ${p.innerSrc} -> ${p.innerDst} (ip proto ${p.innerProto})`,
      );
    }
    return;
  }
  console.error(
    'usage: demo-cli.ts apply NETNS HOST UNDERLAY_IP < state.json | demo-cli.ts gbp FILE.pcap',
  );
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
