/**
 * The cross-resource check of an interface record against its subnet (the one rule
 * that reads two documents). Field-named errors like every validation.
 */
import { cidrContains, cidrLast, formatCidr, parseCidr } from '../model/net.js';
import type { Interface, Subnet } from '../model/types.js';
import { badAddress, checkIp } from '../model/validate-primitives.js';
import { indexField, joinField } from '../model/validate-fields.js';

/**
 * Cross-resource check for an interface record against its subnet: every address
 * lies inside the subnet's prefix (same family). Throws VNP_ERR_ADDRESS naming `ips[i]`.
 *
 * @example validateInterfaceAddresses({ ...iface, ips: ['10.0.1.5'] }, { name: 'lan', cidr: '10.0.0.0/24' })
 *   // throws: "ips[0]: expected an address inside subnet lan (10.0.0.0/24), found \"10.0.1.5\""
 */
export function validateInterfaceAddresses(
  iface: Pick<Interface, 'ips'>,
  subnet: Pick<Subnet, 'name' | 'cidr'>,
  field = '',
): void {
  const cidr = parseCidr(subnet.cidr);
  if (cidr === undefined) throw badAddress(`subnet ${subnet.name}.cidr`, 'a prefix', subnet.cidr);
  // IPv4 subnets of 4+ addresses keep their network and broadcast addresses off hosts.
  const reserved = cidr.family === 4 && cidr.prefix <= 30 ? [cidr.base, cidrLast(cidr)] : [];
  iface.ips.forEach((text, i) => {
    const f = indexField(joinField(field, 'ips'), i);
    const ip = checkIp(text, f);
    if (!cidrContains(cidr, ip)) {
      throw badAddress(f, `an address inside subnet ${subnet.name} (${formatCidr(cidr)})`, text);
    }
    if (reserved.includes(ip.value)) {
      const what = ip.value === cidr.base ? 'network' : 'broadcast';
      throw badAddress(f, `a host address of ${formatCidr(cidr)}, not its ${what} address`, text);
    }
  });
}
