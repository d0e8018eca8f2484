/**
 * The pcap decoder of scripts/demo-two-hosts.sh (the demo runs the product, `vnp
 * server` and `vnp agent`, for everything else):
 *
 *   tsx test/e2e/support/demo-cli.ts gbp FILE.pcap
 *       prints the VXLAN Group Policy ID and inner addresses of each packet.
 */
import { readFileSync } from 'node:fs';
import { decodeVxlanPcap } from './gbp.js';

async function main(argv: string[]): Promise<void> {
  const [cmd, ...args] = argv;
  if (cmd === 'gbp' && args.length === 1) {
    for (const p of decodeVxlanPcap(readFileSync(args[0]!))) {
      console.log(
        `  VXLAN vni ${p.vni} ${p.gbp ? 'GBP' : 'no GBP'} group policy id ${p.groupPolicyId}: ${p.innerSrc} -> ${p.innerDst} (ip proto ${p.innerProto})`,
      );
    }
    return;
  }
  console.error('usage: demo-cli.ts gbp FILE.pcap');
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
