/**
 * How a steered packet says "steer class k" on the wire, so both PEP kinds understand
 * each other (docs/adr/0041-ovs-steering.md): the VXLAN Group Policy ID is k (what
 * nftables hosts read, ADR 0008) AND the inner Ethernet source is {@link steerMac}(k)
 * (what OVS hosts read: the GBP ID never reaches OVS's userspace datapath, ADR 0021).
 *
 * One netdev table, the same on both kinds, with an egress chain per VXLAN device,
 * translates between the two before encapsulation: a packet leaving with mark k (an
 * nftables host's steered packet) gets source MAC steerMac(k); a packet leaving with
 * source MAC steerMac(k) (an OVS host's: OVS cannot set the mark) gets mark k, which
 * the kernel's VXLAN-GBP device writes as the Group Policy ID. Receivers ignore the
 * inner source MAC (no learning), so neither field disturbs the other kind. The table
 * exists only while a local source may be steered to another host's via record:
 * elsewhere the devices pay no hook.
 */
import type { HostState } from '../model/host-state.js';
import { mustRun, type Exec } from './exec.js';
import { activeSteering } from './steering.js';

/** The netdev table of the translation. */
export const STEER_WIRE_TABLE = 'vnp-steer';

/** Steer classes are 2..255 (ADR 0008). */
const CLASSES = Array.from({ length: 254 }, (_, i) => i + 2);

/**
 * Inner source MAC of a packet steered through class k (locally administered, unicast).
 *
 * @example steerMac(2) // '0e:76:6e:70:73:02'
 */
export function steerMac(k: number): string {
  return `0e:76:6e:70:73:${k.toString(16).padStart(2, '0')}`;
}

/**
 * The devices the translation is wanted on: all of `devices` while some class this
 * host steers to leads to another host, else none.
 *
 * @example steerWireDevices(state, ['vnpvx1']) // [] without steering
 */
export function steerWireDevices(
  state: HostState,
  devices: readonly string[],
  opts: { defaultVni?: number } = {},
): string[] {
  const remote = [...activeSteering(state, opts).values()].some((a) => !a.local);
  return remote ? [...devices] : [];
}

/**
 * The `nft -f` script that makes the table exactly what `devices` need (an empty list
 * removes it). Atomic: one transaction replaces the previous table.
 *
 * @example steerWireScript(['vnpvx1'])
 */
export function steerWireScript(devices: readonly string[]): string {
  const lines = [`table netdev ${STEER_WIRE_TABLE} {}`, `delete table netdev ${STEER_WIRE_TABLE}`];
  if (devices.length === 0) return lines.join('\n') + '\n';
  const macOf = CLASSES.map((k) => `${k} : ${steerMac(k)}`).join(', ');
  const markOf = CLASSES.map((k) => `${steerMac(k)} : ${k}`).join(', ');
  lines.push(`table netdev ${STEER_WIRE_TABLE} {`);
  lines.push(`  map mac-of { type mark : ether_addr; elements = { ${macOf} } }`);
  lines.push(`  map mark-of { type ether_addr : mark; elements = { ${markOf} } }`);
  for (const dev of [...devices].sort())
    lines.push(
      `  chain out-${dev} {`,
      `    type filter hook egress device "${dev}" priority 0; policy accept;`,
      '    meta mark 2-255 ether saddr set meta mark map @mac-of',
      '    meta mark set ether saddr map @mark-of',
      '  }',
    );
  lines.push('}');
  return lines.join('\n') + '\n';
}

/**
 * Keeps the translation table in step with the host's VXLAN devices: written when the
 * wanted devices change (and again after `forget`, e.g. a device was re-created: a
 * netdev chain's hook goes with its device).
 */
export class SteerWire {
  private written: string | undefined;

  constructor(private readonly exec: Exec) {}

  /** `devices`: the VXLAN devices, or none when the state has no steer classes. */
  async ensure(devices: readonly string[]): Promise<void> {
    const script = steerWireScript(devices);
    if (script === this.written) return;
    this.written = undefined;
    await mustRun(this.exec, ['nft', '-f', '-'], script);
    this.written = script;
  }

  /** The next `ensure` writes the table again. */
  forget(): void {
    this.written = undefined;
  }
}
