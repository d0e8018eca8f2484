/**
 * Local records on an OVS bridge: a veth pair per record whose host end is a port of
 * the bridge (no address, no route: the kernel never forwards its packets, OVS does)
 * and whose instance end is configured as on the kernel agent (addresses, a static
 * neighbour for the gateway with GATEWAY_MAC, default routes), so an instance cannot
 * tell the two PEP kinds apart. The overlay: per VNI the kernel's VXLAN-GBP device,
 * named, addressed and filled (FDB: remote VTEP MAC → underlay) as on the kernel agent
 * and attached to the bridge as a port — OVS's own userspace VXLAN port can neither
 * read nor write GBP, and it drops GBP-flagged packets (docs/adr/0021-ovs-gbp.md).
 * The host's IP stack forwards none of these packets (ip_forward stays 0).
 */
import type { HostState } from '../../model/host-state.js';
import { makeExec, mustRun, type Exec } from '../exec.js';
import { desiredLinks, type DesiredVeth } from '../link/desired.js';
import { configureInstanceEnd } from '../link/instance-end.js';
import { GATEWAY_MAC, OWNED_PREFIX, vtepMac, vxlanName } from '../names.js';

/** What one plumbing pass did. */
export interface PlumbReport {
  failed: { record: string; error: string }[];
  /** ofport of every port of the bridge, by name. */
  ofports?: Map<string, number>;
}

interface PortsOptions {
  exec: Exec;
  vsctl: (args: string[]) => Promise<string>;
  bridge: string;
  mtu: number;
  underlayIp: string;
  vxlanPort: number;
  defaultVni: number;
}

export class OvsPorts {
  /** Ports plumbed by this process, with the alias they were plumbed for. */
  private plumbed = new Map<string, string>();
  private read = false;

  constructor(private readonly opts: PortsOptions) {}

  private run(argv: string[]): Promise<string> {
    return mustRun(this.opts.exec, argv);
  }

  /** Once per process: the veths a previous run left, by alias (kept when still wanted). */
  private async readExisting(): Promise<void> {
    if (this.read) return;
    const out = await this.run(['ip', '-j', 'link', 'show', 'type', 'veth']);
    for (const l of JSON.parse(out || '[]') as { ifname: string; ifalias?: string }[])
      if (l.ifname.startsWith(OWNED_PREFIX) && l.ifalias) this.plumbed.set(l.ifname, l.ifalias);
    this.read = true;
  }

  /** Plumbs missing or changed records; returns failures and the bridge's ofports. */
  async plumb(state: HostState): Promise<PlumbReport> {
    await this.readExisting();
    const report: PlumbReport = { failed: [] };
    await this.overlay(state);
    for (const v of desiredLinks(state).veths) {
      if (this.plumbed.get(v.name) === v.alias) continue;
      try {
        await this.plumbOne(v);
        this.plumbed.set(v.name, v.alias);
      } catch (err) {
        report.failed.push({ record: v.record, error: (err as Error).message });
        this.plumbed.delete(v.name);
        await this.opts.exec(['ip', 'link', 'del', v.name]);
      }
    }
    report.ofports = await this.ofports();
    return report;
  }

  /** VXLAN devices of the VNIs in use (kept once created) and their FDB entries. */
  private readonly vnis = new Set<number>();
  private fdb = new Set<string>();

  private async overlay(state: HostState): Promise<void> {
    const dv = this.opts.defaultVni;
    const want = new Set([...state.locals, ...state.remotes].map((r) => r.vni ?? dv));
    for (const vni of want) {
      if (this.vnis.has(vni)) continue;
      const dev = vxlanName(vni);
      const mac = vtepMac(state.host, vni);
      // A device left by a previous run stays when it is the one wanted: deleting a
      // bridge port's device under ovs-vswitchd leaves the port reading a dead ifindex.
      if (!(await this.vxlanAsWanted(dev, vni, mac))) {
        await this.opts.exec(['ip', 'link', 'del', dev]);
        await this.run([
          'ip',
          'link',
          'add',
          dev,
          'address',
          mac,
          'type',
          'vxlan',
          'id',
          String(vni),
          'local',
          this.opts.underlayIp,
          'dstport',
          String(this.opts.vxlanPort),
          'gbp',
          'nolearning',
        ]);
        await this.opts.exec(['sysctl', '-qw', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
        await this.reattach(dev);
      }
      await this.run(['ip', 'link', 'set', dev, 'up']);
      await this.opts.vsctl(['--may-exist', 'add-port', this.opts.bridge, dev]);
      this.vnis.add(vni);
    }
    const fdb = new Set<string>();
    for (const r of state.remotes)
      if (r.underlay)
        fdb.add(`${vtepMac(r.host, r.vni ?? dv)} ${vxlanName(r.vni ?? dv)} ${r.underlay}`);
    const lines = [...fdb]
      .filter((e) => !this.fdb.has(e))
      .map((e) => {
        const [mac, dev, dst] = e.split(' ');
        return `fdb replace ${mac} dev ${dev} dst ${dst} self permanent`;
      });
    if (lines.length > 0)
      await mustRun(this.opts.exec, ['bridge', '-batch', '-'], lines.join('\n') + '\n');
    this.fdb = fdb;
  }

  /** Whether `dev` is the VXLAN-GBP device {@link overlay} would create. */
  private async vxlanAsWanted(dev: string, vni: number, mac: string): Promise<boolean> {
    const r = await this.opts.exec(['ip', '-d', '-j', 'link', 'show', 'dev', dev]);
    if (r.code !== 0) return false;
    const [link] = JSON.parse(r.stdout || '[]') as {
      address?: string;
      linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
    }[];
    const d = link?.linkinfo?.info_data ?? {};
    return (
      link?.address === mac &&
      link.linkinfo?.info_kind === 'vxlan' &&
      d.id === vni &&
      d.local === this.opts.underlayIp &&
      d.port === this.opts.vxlanPort &&
      d.gbp === true &&
      d.learning === false
    );
  }

  /**
   * A recreated device becomes a new port: a port kept across the device's deletion
   * goes on reading the old ifindex. Two transactions: ovs-vswitchd matches ports by
   * name, so a delete and an add in one transaction keep the stale one.
   */
  private async reattach(dev: string): Promise<void> {
    await this.opts.vsctl(['--if-exists', 'del-port', this.opts.bridge, dev]);
    await this.opts.vsctl(['add-port', this.opts.bridge, dev]);
  }

  /** ofport of each VNI's VXLAN device. */
  tunnels(ofports: ReadonlyMap<string, number>): Map<number, number> {
    const out = new Map<number, number>();
    for (const vni of this.vnis) {
      const of = ofports.get(vxlanName(vni));
      if (of !== undefined) out.set(vni, of);
    }
    return out;
  }

  private async ofports(): Promise<Map<string, number>> {
    const out = await this.opts.vsctl([
      '--format=json',
      '--columns=name,ofport',
      'list',
      'interface',
    ]);
    const rows = (JSON.parse(out) as { data: [string, number][] }).data;
    return new Map(rows.filter(([, of]) => typeof of === 'number' && of > 0));
  }

  private async plumbOne(v: DesiredVeth): Promise<void> {
    // Namespaces are created where they are visible to all (see LinkOptions.nsExec).
    const nsExec = makeExec();
    const ns = await mustRun(nsExec, ['ip', 'netns', 'list']);
    if (!ns.split('\n').some((line) => line.split(' ')[0] === v.netns))
      await mustRun(nsExec, ['ip', 'netns', 'add', v.netns]);
    await this.opts.exec(['ip', '-n', v.netns, 'link', 'del', v.name]);
    await this.opts.exec(['ip', 'link', 'del', v.name]);
    const mtu = String(this.opts.mtu);
    await this.run([
      'ip',
      'link',
      'add',
      v.name,
      'mtu',
      mtu,
      'address',
      GATEWAY_MAC,
      'type',
      'veth',
      'peer',
      'name',
      v.name,
      'mtu',
      mtu,
      'address',
      v.mac,
      'netns',
      v.netns,
    ]);
    await this.run(['ip', 'link', 'set', v.name, 'alias', v.alias]);
    // The host end carries no IP stack of its own: OVS reads and writes its frames.
    await this.opts.exec(['sysctl', '-qw', `net.ipv6.conf.${v.name}.disable_ipv6=1`]);
    await this.run(['ip', 'link', 'set', v.name, 'up']);
    await this.reattach(v.name);
    const inNs = (argv: string[]) => this.run(['ip', '-n', v.netns, ...argv]);
    await configureInstanceEnd(inNs, v);
  }

  /** Removes the bridge ports (and veths) of records no longer local. */
  async removeStale(state: HostState): Promise<void> {
    const wanted = new Set(desiredLinks(state).veths.map((v) => v.name));
    const ports = (await this.opts.vsctl(['list-ports', this.opts.bridge]))
      .split('\n')
      .filter(Boolean);
    for (const p of ports) {
      if (!p.startsWith(OWNED_PREFIX) || wanted.has(p) || !this.plumbed.has(p)) continue;
      await this.opts.vsctl(['--if-exists', 'del-port', this.opts.bridge, p]);
      await this.opts.exec(['ip', 'link', 'del', p]);
      this.plumbed.delete(p);
    }
  }
}
