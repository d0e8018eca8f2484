/**
 * The agent's underlay address when `--underlay-ip` is not given: the local
 * address the kernel would use to reach the (first) manager — the address the
 * other PEPs can reach this host on, in the common single-underlay setup.
 */
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';

/**
 * The source address towards `serverUrl` (a UDP "connect" sends nothing), else the
 * first non-internal IPv4 address of this host, else undefined.
 *
 * @example
 *   await guessUnderlayIp('http://10.0.0.5:7400') // '10.0.0.21'
 */
export async function guessUnderlayIp(serverUrl: string): Promise<string | undefined> {
  try {
    const url = new URL(serverUrl);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const { address, family } = await lookup(host);
    const local = await new Promise<string>((resolve, reject) => {
      const sock = createSocket(family === 6 ? 'udp6' : 'udp4');
      sock.once('error', (e) => (sock.close(), reject(e)));
      sock.connect(Number(url.port || (url.protocol === 'https:' ? 443 : 80)), address, () => {
        const a = sock.address().address;
        sock.close();
        resolve(a);
      });
    });
    // Loopback only says the manager is local; prefer a real interface then.
    if (!local.startsWith('127.') && local !== '::1') return local;
  } catch {
    // fall through to the interface list
  }
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}
