/**
 * Random records spread over a few hosts, and the address test a simulated PEP uses on
 * a host state's CIDR entries: shared by the engine tests that compare what a PEP would
 * enforce with what `check` says.
 */
import { cidrLast, parseCidr, parseIp, type Ip } from '../../src/model/net.js';
import type { Document } from '../../src/model/types.js';
import type { Rng } from './rng.js';

/** The hosts the records are spread over (Instance `i<n>` runs on `h<n>`). */
export const HOSTS = ['h0', 'h1', 'h2'];

/**
 * One Instance per host and every Interface attached to a random one; any other
 * document passes through `other` (in document order, so the draws are reproducible).
 */
export function attachToHosts(
  docs: Document[],
  rng: Rng,
  other: (doc: Document) => Document = (doc) => doc,
): Document[] {
  return [
    ...HOSTS.map((host, i): Document => ({ kind: 'Instance', name: `i${i}`, host })),
    ...docs.map((doc) =>
      doc.kind === 'Interface' ? { ...doc, instance: `i${rng.int(0, 2)}` } : other(doc),
    ),
  ];
}

/** Whether a host state's range (an address, a prefix, or `lo-hi`) holds `ip`. */
export function rangeContains(range: string, ip: Ip): boolean {
  const dash = range.indexOf('-');
  if (dash < 0) {
    const cidr = parseCidr(range.includes('/') ? range : `${range}/${ip.family === 4 ? 32 : 128}`);
    return (
      !!cidr && cidr.family === ip.family && cidr.base <= ip.value && ip.value <= cidrLast(cidr)
    );
  }
  const lo = parseIp(range.slice(0, dash))!;
  const hi = parseIp(range.slice(dash + 1))!;
  return lo.family === ip.family && lo.value <= ip.value && ip.value <= hi.value;
}
