/**
 * The Open vSwitch datapath: one bridge (fail_mode=secure, so it forwards nothing
 * the program does not say, also while no agent runs), programmed by OpenFlow from
 * the same HostState as the kernel agent (src/agent/ovs/program.ts). Every update is
 * one `ovs-ofctl --bundle` transaction holding only the flows that differ (atomic:
 * traffic never sees half of it); the first one after a start replaces whatever the
 * bridge holds (`replace-flows --bundle`, which also diffs). Local records are veth
 * pairs whose host end is a bridge port; remote records are reached through one
 * VXLAN port with `remote_ip=flow`. Decisions: docs/adr/0020-ovs-flow-layout.md and
 * docs/adr/0021-ovs-gbp.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostState } from '../../model/host-state.js';
import type { Datapath, LinksReconciled, PolicyApplied, Swept } from '../datapath.js';
import { makeExec, mustRun, type Exec } from '../exec.js';
import { FlowJudge } from '../evaluate.js';
import { DEFAULT_VNI, vethName, vxlanName } from '../names.js';
import { SteerWire, steerWireDevices } from '../steer-wire.js';
import { retiredClasses, steerPaths, steeredLines } from './steering.js';
import { parseOvsConntrack } from './conntrack.js';
import { OvsPorts, type PlumbReport } from './ports.js';
import { ConjIds, flowKey, flowLine, ovsProgram, CT_ZONE, type OfFlow } from './program.js';
import { OvsFlowSource } from './ovs-flow-source.js';
import { meterSpecs } from './samples.js';

/** Settings of {@link OvsDatapath}. */
export interface OvsDatapathOptions {
  /** The bridge the agent owns (created when missing). */
  bridge: string;
  /** This host's underlay address (the VXLAN source). */
  underlayIp: string;
  /** OVS run directory: db.sock, BRIDGE.mgmt, ovs-vswitchd's control socket. */
  rundir?: string;
  /** UDP port of the VXLAN port (default 4789). */
  vxlanPort?: number;
  defaultVni?: number;
  mtu?: number;
  exec?: Exec;
  /**
   * Denied packets sampled to the agent per second (meter 1; default 200; 0: counted,
   * not sampled) and `log`-verdict copies per second (meter 2; default 200).
   */
  denyLogRate?: number;
  logCopyRate?: number;
  /** Delete connection-tracking entries of flows a new state denies (default true). */
  killDeniedFlows?: boolean;
  log?: (msg: string) => void;
}

/** Copies per second of each meter unless set (as the nftables deny chain's default). */
const DEFAULT_COPY_RATE = 200;

/** OVS bridge + OpenFlow program, behind {@link Datapath}. */
export class OvsDatapath implements Datapath {
  readonly kind = 'ovs' as const;
  private readonly exec: Exec;
  private readonly rundir: string;
  private readonly ids = new ConjIds();
  private readonly ports: OvsPorts;
  /** The flows in the bridge (what the last bundle left); undefined: replace them all. */
  private applied: Map<string, OfFlow> | undefined;
  private bridgeReady = false;
  private lastPlumb: PlumbReport = { failed: [] };
  private readonly wire: SteerWire;
  /** Where each steer class led in the applied program; classes it retired, for sweep. */
  private steer = new Map<number, string>();
  private retired: number[] = [];
  /** Flows written by the last applyPolicy (adds + deletes), for tests and the bench. */
  lastWritten = 0;

  constructor(private readonly opts: OvsDatapathOptions) {
    this.exec = opts.exec ?? makeExec();
    this.rundir = opts.rundir ?? '/var/run/openvswitch';
    this.wire = new SteerWire(this.exec);
    this.ports = new OvsPorts({
      exec: this.exec,
      vsctl: (args) => this.vsctl(args),
      bridge: opts.bridge,
      mtu: opts.mtu ?? 1450,
      underlayIp: opts.underlayIp,
      vxlanPort: opts.vxlanPort ?? 4789,
      defaultVni: opts.defaultVni ?? DEFAULT_VNI,
    });
  }

  private vsctl(args: string[]): Promise<string> {
    return mustRun(this.exec, ['ovs-vsctl', `--db=unix:${join(this.rundir, 'db.sock')}`, ...args]);
  }

  /** `ovs-ofctl [--bundle] CMD BRIDGE ARGS…` on the bridge's management socket. */
  private ofctl(args: string[], input?: string): Promise<string> {
    const target = `unix:${join(this.rundir, `${this.opts.bridge}.mgmt`)}`;
    const flags = args.filter((a) => a.startsWith('--'));
    const [cmd, ...rest] = args.filter((a) => !a.startsWith('--'));
    return mustRun(
      this.exec,
      ['ovs-ofctl', '-O', 'OpenFlow15', ...flags, cmd!, target, ...rest],
      input,
    );
  }

  /** ovs-vswitchd's control socket: `--unixctl` as given, else the pid's default. */
  private appctlTarget(): string {
    const fixed = join(this.rundir, 'ovs-vswitchd.ctl');
    if (existsSync(fixed)) return fixed;
    const pid = readFileSync(join(this.rundir, 'ovs-vswitchd.pid'), 'utf8').trim();
    return join(this.rundir, `ovs-vswitchd.${pid}.ctl`);
  }

  private appctl(args: string[]): Promise<string> {
    return mustRun(this.exec, ['ovs-appctl', '-t', this.appctlTarget(), ...args]);
  }

  /**
   * The bridge's flow events for a FlowCollector (ovs-flow-source.ts): conntrack dumps
   * and the packet-ins of the program's copies, both on this bridge's sockets.
   */
  flowSource(opts: { pollMs?: number } = {}): OvsFlowSource {
    return new OvsFlowSource({
      appctl: (args) => this.appctl(args),
      ofctl: (args) => this.ofctl(args),
      // ovs-ofctl monitor opens a control socket of its own in OVS_RUNDIR.
      monitor: [
        'env',
        `OVS_RUNDIR=${this.rundir}`,
        'stdbuf',
        '-oL',
        'ovs-ofctl',
        '-O',
        'OpenFlow15',
        'monitor',
        `unix:${join(this.rundir, `${this.opts.bridge}.mgmt`)}`,
        // A nonzero miss length: packet-ins reach this (service) connection.
        '65535',
      ],
      ...opts,
      ...(this.opts.log ? { log: this.opts.log } : {}),
    });
  }

  async adopt(): Promise<string | undefined> {
    const r = await this.exec([
      'ovs-vsctl',
      `--db=unix:${join(this.rundir, 'db.sock')}`,
      'br-exists',
      this.opts.bridge,
    ]);
    if (r.code !== 0) return undefined;
    const flows = (await this.ofctl(['dump-flows', '--no-stats'])).split('\n');
    const n = flows.filter((l) => l.includes('actions=')).length;
    return n > 0 ? `OVS bridge ${this.opts.bridge} (${n} flows)` : undefined;
  }

  /** The bridge in secure fail mode: without flows it forwards nothing. */
  private async ensureBridge(): Promise<void> {
    if (this.bridgeReady) return;
    await this.vsctl([
      '--may-exist',
      'add-br',
      this.opts.bridge,
      '--',
      'set',
      'bridge',
      this.opts.bridge,
      'datapath_type=netdev',
      'fail_mode=secure',
      'protocols=OpenFlow10,OpenFlow13,OpenFlow15',
    ]);
    await this.ensureMeters();
    this.bridgeReady = true;
  }

  /** The meters the program's copies name (before any flow names them). */
  private async ensureMeters(): Promise<void> {
    const deny = this.opts.denyLogRate ?? DEFAULT_COPY_RATE;
    for (const spec of meterSpecs(deny, this.opts.logCopyRate ?? DEFAULT_COPY_RATE)) {
      // add-meter refuses an existing meter (a bridge adopted from an earlier run).
      const added = await this.ofctl(['add-meter', spec]).then(
        () => true,
        () => false,
      );
      if (!added) await this.ofctl(['mod-meter', spec]);
    }
  }

  /**
   * Ports first (the program names them by ofport), then one bundle: the flows that
   * differ from the applied program, or a diffing replace of the whole bridge.
   */
  async applyPolicy(state: HostState): Promise<PolicyApplied> {
    await this.ensureBridge();
    this.lastPlumb = await this.ports.plumb(state);
    await this.steerWire(state);
    const records = new Map<string, number>();
    for (const l of state.locals) {
      const of = this.lastPlumb.ofports?.get(vethName(l.name));
      if (of !== undefined) records.set(l.name, of);
    }
    const ports = { records, tunnels: this.ports.tunnels(this.lastPlumb.ofports ?? new Map()) };
    const paths = steerPaths(state, ports, this.opts.defaultVni ?? DEFAULT_VNI);
    this.retired.push(...retiredClasses(this.steer, paths));
    this.steer = paths;
    const next = ovsProgram(
      state,
      ports,
      {
        ...(this.opts.defaultVni !== undefined ? { defaultVni: this.opts.defaultVni } : {}),
        denySamples: (this.opts.denyLogRate ?? DEFAULT_COPY_RATE) > 0,
      },
      this.ids,
    );
    const applied = this.applied;
    this.applied = undefined;
    if (applied) {
      const lines: string[] = [];
      for (const [k, f] of applied) if (!next.has(k)) lines.push(`delete_strict ${flowKey(f)}`);
      for (const [k, f] of next)
        if (applied.get(k)?.actions !== f.actions) lines.push(`add ${flowLine(f)}`);
      try {
        if (lines.length > 0)
          await this.ofctl(['--bundle', 'add-flows', '-'], lines.join('\n') + '\n');
        this.applied = next;
        this.lastWritten = lines.length;
        return { whole: false, changed: lines.length > 0 };
      } catch (err) {
        this.opts.log?.(`bundle refused, replacing the flows: ${(err as Error).message}`);
      }
    }
    const all = [...next.values()].map(flowLine).join('\n') + '\n';
    await this.ofctl(['--bundle', 'replace-flows', '-'], all);
    this.applied = next;
    this.lastWritten = next.size;
    return { whole: true, changed: true };
  }

  /**
   * The VXLAN devices' egress translation (steer-wire.ts) while a local source may be
   * steered to another host: OVS marks a steered packet by its source MAC, the kernel turns that into
   * the Group Policy ID. A failure is logged: steering to other hosts' via records
   * then goes without the class, nothing else is affected.
   */
  private async steerWire(state: HostState): Promise<void> {
    const devices = steerWireDevices(
      state,
      [...this.ports.tunnels(this.lastPlumb.ofports ?? new Map()).keys()].map(vxlanName),
      { defaultVni: this.opts.defaultVni ?? DEFAULT_VNI },
    );
    try {
      await this.wire.ensure(devices);
    } catch (err) {
      this.opts.log?.(`steering: ${(err as Error).message}`);
    }
  }

  /** Ports were plumbed with the policy; here stale ones go. */
  async reconcileLinks(state: HostState): Promise<LinksReconciled> {
    for (const f of this.lastPlumb.failed)
      this.opts.log?.(`record ${f.record}: not plumbed: ${f.error}`);
    let failures = this.lastPlumb.failed.length;
    try {
      await this.ports.removeStale(state);
    } catch (err) {
      this.opts.log?.(`ports: ${(err as Error).message}`);
      failures++;
    }
    return { failures };
  }

  /**
   * Connections of the bridge's zone that the new state denies are flushed; their
   * next packet is judged again (or is invalid mid-stream) and dropped. So are the
   * connections of retired steer classes: their next packet is steered again by the
   * current routes (TCP is picked up mid-stream).
   */
  async sweep(state: HostState, applied: PolicyApplied): Promise<Swept> {
    const retired = new Set(this.retired);
    this.retired = [];
    const kill = applied.changed && this.opts.killDeniedFlows !== false;
    if (!kill && retired.size === 0) return { killedFlows: 0, resteeredFlows: 0 };
    const dump = await this.appctl(['dpctl/dump-conntrack', `zone=${CT_ZONE}`]);
    const flushed = new Set<string>();
    let killedFlows = 0;
    if (kill) {
      const judge = new FlowJudge(state);
      for (const e of parseOvsConntrack(dump))
        if (judge.judge({ src: e.src, dst: e.dst, proto: e.proto, port: e.dport }) === 'deny')
          if (await this.flush(e.tuple, flushed)) killedFlows++;
    }
    let resteeredFlows = 0;
    if (retired.size > 0)
      for (const e of parseOvsConntrack(steeredLines(dump, retired).join('\n')))
        if (await this.flush(e.tuple, flushed)) resteeredFlows++;
    return { killedFlows, resteeredFlows };
  }

  /** Deletes one connection of the zone (once per sweep). */
  private async flush(tuple: string, done: Set<string>): Promise<boolean> {
    if (done.has(tuple)) return false;
    done.add(tuple);
    const r = await this.exec([
      'ovs-appctl',
      '-t',
      this.appctlTarget(),
      'dpctl/flush-conntrack',
      `zone=${CT_ZONE}`,
      tuple,
    ]);
    if (r.code !== 0) this.opts.log?.(`flush-conntrack ${tuple}: ${r.stderr.trim()}`);
    return r.code === 0;
  }

  /**
   * The bridge still holds the program: as many flows as the last bundle left. A
   * restarted ovs-vswitchd re-creates the bridge and its ports from OVSDB, but with
   * no flows (fail_mode=secure: it forwards nothing); the next apply then replaces
   * them whole. Throws while ovs-vswitchd does not answer.
   */
  async intact(): Promise<boolean> {
    const applied = this.applied;
    if (applied === undefined) return true;
    const out = await this.ofctl(['dump-aggregate']);
    const n = Number(/flow_count=(\d+)/.exec(out)?.[1] ?? NaN);
    if (n === applied.size) return true;
    this.opts.log?.(`bridge ${this.opts.bridge} holds ${n} flows, not ${applied.size}`);
    if (this.applied === applied) this.applied = undefined;
    this.bridgeReady = false;
    return false;
  }

  async removePolicy(): Promise<void> {
    await this.ofctl(['del-flows']);
    this.wire.forget();
    await this.wire.ensure([]);
    this.applied = undefined;
  }
}
