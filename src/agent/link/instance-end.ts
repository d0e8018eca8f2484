/**
 * The instance end of a local record's veth, the same for both PEP kinds: its
 * addresses (/32, /128), a static neighbour for the gateway with GATEWAY_MAC and the
 * default routes through it — so an instance never resolves the gateway and cannot
 * tell an nftables host from an OVS host.
 */
import { GATEWAY_MAC, GATEWAY_V4, GATEWAY_V6 } from '../names.js';
import type { DesiredVeth } from './desired.js';

/**
 * @example await configureInstanceEnd((argv) => run(['ip', '-n', v.netns, ...argv]), v)
 */
export async function configureInstanceEnd(
  inNs: (argv: string[]) => Promise<unknown>,
  v: Pick<DesiredVeth, 'name' | 'ips'>,
): Promise<void> {
  await inNs(['link', 'set', 'lo', 'up']);
  await inNs(['link', 'set', v.name, 'up']);
  for (const a of v.ips)
    await inNs([
      'addr',
      'replace',
      `${a.ip}/${a.family === 4 ? 32 : 128}`,
      'dev',
      v.name,
      ...(a.family === 6 ? ['nodad'] : []),
    ]);
  const gateway = (family: 4 | 6, ip: string) => [
    ...(family === 6 ? ['-6'] : []),
    'neigh',
    'replace',
    ip,
    'lladdr',
    GATEWAY_MAC,
    'dev',
    v.name,
    'nud',
    'permanent',
  ];
  if (v.ips.some((i) => i.family === 4)) {
    await inNs(gateway(4, GATEWAY_V4));
    await inNs(['route', 'replace', GATEWAY_V4, 'dev', v.name, 'scope', 'link']);
    await inNs(['route', 'replace', 'default', 'via', GATEWAY_V4, 'dev', v.name]);
  }
  if (v.ips.some((i) => i.family === 6)) {
    await inNs(gateway(6, GATEWAY_V6));
    await inNs(['-6', 'route', 'replace', 'default', 'via', GATEWAY_V6, 'dev', v.name]);
  }
}
