/**
 * Brings the host's links in line with a HostState through `ip`/`bridge`
 * (reading with `-j`). Idempotent: creates what is missing, fixes what differs,
 * removes what is ours (a `vnp` name, or a route with protocol {@link ROUTE_PROTO})
 * and no longer desired, and never touches anything else.
 */
import { configureInstanceEnd } from './instance-end.js';
import type { HostState } from '../../model/host-state.js';
import { makeExec, mustRun, type Exec } from '../exec.js';
import { GATEWAY_MAC, GATEWAY_V6, isOwnedLink } from '../names.js';
import { STEER_RULE_PREF, STEER_TABLE_BASE } from '../steering.js';
import { desiredLinks, type DesiredLinks, type DesiredVeth } from './desired.js';

/** Routing protocol number tagging the agent's routes (`ip route … proto 118`). */
export const ROUTE_PROTO = 118;
const VXLAN_PORT = 4789;

/** Link reconciler options. */
export interface LinkOptions {
  /** Runs commands in the host's namespace. */
  exec: Exec;
  /** This host's underlay address (VXLAN source). */
  underlayIp: string;
  defaultVni?: number;
  /** MTU of VXLAN devices and veths (underlay MTU minus 50). */
  mtu?: number;
  /**
   * Runs `ip netns add|list` (default: the current namespace). Must not run under
   * `ip netns exec`: a namespace created there is mounted in a private mount
   * namespace only and is unusable by name afterwards.
   */
  nsExec?: Exec;
}

interface LinkInfo {
  ifname: string;
  address?: string;
  ifalias?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number } };
}

interface RouteInfo {
  dst: string;
  dev?: string;
}

interface RuleInfo {
  priority?: number;
  iif?: string;
  fwmark?: string;
  fwmask?: string;
  table?: string;
  protocol?: string;
}

interface TableRouteInfo {
  dst: string;
  gateway?: string;
  dev?: string;
  table?: string;
  flags?: string[];
}

interface NeighInfo {
  dst: string;
  lladdr?: string;
  state?: string[];
}

interface FdbInfo {
  mac: string;
  dst?: string;
}

/** What a reconcile did, for logs and tests. */
export interface LinkReport {
  created: string[];
  removed: string[];
  unreachable: string[];
  /** Records whose veth could not be plumbed (retried on the next reconcile), with why. */
  failed: { record: string; error: string }[];
  /** Host settings that keep something from working (logged by the agent). */
  warnings: string[];
}

/**
 * Reconciles links. `ip -n NS` reaches instance namespaces by their global name.
 *
 * @example await new LinkReconciler({ exec: makeExec(), underlayIp: '192.0.2.1' }).reconcile(state);
 */
export class LinkReconciler {
  private readonly mtu: number;
  constructor(private readonly opts: LinkOptions) {
    this.mtu = opts.mtu ?? 1450;
  }

  private run(argv: string[]): Promise<string> {
    return mustRun(this.opts.exec, argv);
  }

  private async json<T>(argv: string[]): Promise<T[]> {
    const out = await this.run(argv);
    return out.trim() === '' ? [] : (JSON.parse(out) as T[]);
  }

  /** The desired links of `state` under this reconciler's settings. */
  desired(state: HostState): DesiredLinks {
    return desiredLinks(
      state,
      this.opts.defaultVni === undefined ? {} : { defaultVni: this.opts.defaultVni },
    );
  }

  /** Applies the desired links of `state` (`want`: {@link desired} of it, when known). */
  async reconcile(state: HostState, want = this.desired(state)): Promise<LinkReport> {
    const report: LinkReport = {
      created: [],
      removed: [],
      unreachable: want.unreachable,
      failed: [],
      warnings: [],
    };
    await this.sysctls();
    const links = (await this.json<LinkInfo>(['ip', '-j', '-d', 'link', 'show'])).filter((l) =>
      isOwnedLink(l.ifname),
    );
    await this.vxlans(want, links, report);
    await this.veths(want, links, report);
    await this.remotes(want);
    await this.steering(want, report);
    return report;
  }

  /**
   * Policy routing of steer classes: our `ip rule`s (protocol {@link ROUTE_PROTO}) and
   * the default routes of our tables (7302..7555), nothing else. Routes first, then
   * rules, so a rule never points at an empty table; stale rules go before their routes.
   */
  private async steering(want: DesiredLinks, report: LinkReport): Promise<void> {
    const ours = (t: string | undefined) => {
      const n = Number(t);
      return Number.isInteger(n) && n > STEER_TABLE_BASE && n <= STEER_TABLE_BASE + 255;
    };
    for (const fam of [4, 6] as const) {
      const ip: string[] = [];
      const after: string[] = [];
      const [rules, routes] = await Promise.all([
        this.json<RuleInfo>(['ip', '-j', `-${fam}`, 'rule', 'show']),
        this.json<TableRouteInfo>([
          'ip',
          '-j',
          `-${fam}`,
          'route',
          'show',
          'table',
          'all',
          'proto',
          String(ROUTE_PROTO),
        ]),
      ]);
      const wantRules = new Set<string>();
      const wantRoutes = new Map<string, string>();
      for (const s of want.steer) {
        const r = s.routes.find((x) => x.family === fam);
        if (!r) continue;
        for (const rule of s.rules) wantRules.add(ruleKey(rule.mark, rule.mask, rule.iif, s.table));
        wantRoutes.set(String(s.table), `${r.via}|${r.dev}`);
      }
      for (const r of rules) {
        if (r.protocol !== String(ROUTE_PROTO) || r.priority !== STEER_RULE_PREF) continue;
        const mask = r.fwmask === undefined ? 0xffffffff : Number(r.fwmask);
        const k = ruleKey(Number(r.fwmark ?? 0), mask, r.iif, Number(r.table));
        if (wantRules.delete(k)) continue;
        ip.push(`rule del ${k} proto ${ROUTE_PROTO}`);
      }
      for (const r of routes) {
        if (!ours(r.table) || r.dst !== 'default') continue;
        if (wantRoutes.get(r.table!) === `${r.gateway}|${r.dev}`) {
          wantRoutes.delete(r.table!);
          continue;
        }
        if (!wantRoutes.has(r.table!))
          after.push(`route del default table ${r.table} proto ${ROUTE_PROTO}`);
      }
      for (const [table, hop] of wantRoutes) {
        const [via, dev] = hop.split('|');
        ip.push(
          `route replace default via ${via} dev ${dev} onlink table ${table} proto ${ROUTE_PROTO}`,
        );
      }
      for (const k of wantRules) ip.push(`rule add ${k} proto ${ROUTE_PROTO}`);
      const cmds = [...ip, ...after];
      if (cmds.length > 0)
        await mustRun(this.opts.exec, ['ip', `-${fam}`, '-batch', '-'], cmds.join('\n') + '\n');
    }
    // A local via record forwards others' packets back out of its veth, whose host end
    // has no IPv4 address: the kernel's reverse path filter (strict or loose) refuses
    // any source not routed through it, so it is off there (nft's spoof sets keep
    // checking the record's own traffic). The effective value is max(all, device).
    const locals = want.steer.flatMap((s) => (s.localVeth ? [s.localVeth] : []));
    for (const dev of locals)
      await this.opts.exec(['sysctl', '-qw', `net.ipv4.conf.${dev}.rp_filter=0`]);
    if (locals.length > 0) {
      const all = await this.opts.exec(['sysctl', '-n', 'net.ipv4.conf.all.rp_filter']);
      if (all.stdout.trim() !== '0')
        report.warnings.push(
          `net.ipv4.conf.all.rp_filter is ${all.stdout.trim()}: steered IPv4 traffic leaving a local via record is dropped; set it to 0 (vnp leaves it alone)`,
        );
    }
  }

  private forwarding = false;

  /** IP forwarding on the host (once per agent run). */
  private async sysctls(): Promise<void> {
    if (this.forwarding) return;
    this.forwarding = true;
    await this.run(['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  }

  private async vxlans(want: DesiredLinks, links: LinkInfo[], report: LinkReport): Promise<void> {
    const wanted = new Map(want.vxlans.map((v) => [v.name, v]));
    for (const l of links) {
      if (l.linkinfo?.info_kind !== 'vxlan') continue;
      const w = wanted.get(l.ifname);
      if (w && l.address === w.mac && l.linkinfo.info_data?.id === w.vni) {
        wanted.delete(l.ifname);
        continue;
      }
      await this.remove(l.ifname);
      report.removed.push(l.ifname);
    }
    for (const v of wanted.values()) {
      await this.run([
        'ip',
        'link',
        'add',
        v.name,
        'address',
        v.mac,
        'mtu',
        String(this.mtu),
        'type',
        'vxlan',
        'id',
        String(v.vni),
        'local',
        this.opts.underlayIp,
        'dstport',
        String(VXLAN_PORT),
        'gbp',
        'nolearning',
      ]);
      await this.run(['ip', 'link', 'set', v.name, 'up']);
      report.created.push(v.name);
    }
  }

  /**
   * Deletes a link read moments ago. One already gone is what was wanted: a veth goes
   * when its peer does (its namespace deleted, or the record re-plumbed into the same
   * namespace by its new host's agent), and a failure here would abort the whole pass,
   * leaving every record still to plumb unplumbed until the next state.
   */
  private async remove(ifname: string): Promise<void> {
    const r = await this.opts.exec(['ip', 'link', 'del', ifname]);
    if (r.code === 0) return;
    const still = await this.opts.exec(['ip', 'link', 'show', 'dev', ifname]);
    if (still.code === 0) await this.run(['ip', 'link', 'del', ifname]);
  }

  private async veths(want: DesiredLinks, links: LinkInfo[], report: LinkReport): Promise<void> {
    const wanted = new Map(want.veths.map((v) => [v.name, v]));
    for (const l of links) {
      if (l.linkinfo?.info_kind !== 'veth') continue;
      const w = wanted.get(l.ifname);
      if (w && l.ifalias === w.alias) {
        wanted.delete(l.ifname);
        continue;
      }
      // Not desired, or moved/changed: the peer end goes with it.
      await this.remove(l.ifname);
      report.removed.push(l.ifname);
    }
    // One record that cannot be plumbed (its namespace is gone, …) must not keep the
    // others, or the policy, from being applied: the host end is removed so the next
    // reconcile retries from scratch.
    for (const v of wanted.values()) {
      try {
        await this.plumb(v);
        report.created.push(v.name);
      } catch (err) {
        report.failed.push({ record: v.record, error: (err as Error).message });
        await this.opts.exec(['ip', 'link', 'del', v.name]);
      }
    }
  }

  /** Creates a veth pair into the instance's namespace (Calico style gateway). */
  private async plumb(v: DesiredVeth): Promise<void> {
    const nsExec = this.opts.nsExec ?? makeExec();
    const nsList = await nsExec(['ip', 'netns', 'list']);
    if (!nsList.stdout.split('\n').some((line) => line.split(' ')[0] === v.netns))
      await mustRun(nsExec, ['ip', 'netns', 'add', v.netns]);
    const inNs = (argv: string[]) => this.run(['ip', '-n', v.netns, ...argv]);
    // The instance end may be left over from a crashed agent.
    await this.opts.exec(['ip', '-n', v.netns, 'link', 'del', v.name]);
    await this.run([
      'ip',
      'link',
      'add',
      v.name,
      'mtu',
      String(this.mtu),
      'address',
      GATEWAY_MAC,
      'type',
      'veth',
      'peer',
      'name',
      v.name,
      'mtu',
      String(this.mtu),
      'address',
      v.mac,
      'netns',
      v.netns,
    ]);
    await this.run(['ip', 'link', 'set', v.name, 'alias', v.alias]);
    await this.run(['sysctl', '-qw', `net.ipv4.conf.${v.name}.proxy_arp=1`]);
    await this.run(['ip', 'link', 'set', v.name, 'up']);
    await configureInstanceEnd(inNs, v);
    for (const a of v.ips) {
      await this.run([
        'ip',
        'route',
        'replace',
        `${a.ip}/${a.family === 4 ? 32 : 128}`,
        'dev',
        v.name,
        'proto',
        String(ROUTE_PROTO),
      ]);
      await this.run([
        'ip',
        'neigh',
        'replace',
        a.ip,
        'lladdr',
        v.mac,
        'dev',
        v.name,
        'nud',
        'permanent',
      ]);
    }
    if (v.ips.some((i) => i.family === 6))
      await this.run(['ip', 'addr', 'replace', `${GATEWAY_V6}/64`, 'dev', v.name, 'nodad']);
  }

  /**
   * Routes, neighbours and FDB entries for remote records, on our VXLAN devices
   * only: read everything once, then send only the differences in one `ip -batch`
   * and one `bridge -batch` (a steady state costs four reads and no writes).
   */
  private async remotes(want: DesiredLinks): Promise<void> {
    const ours = new Set(want.vxlans.map((v) => v.name));
    const [r4, r6, neighs, fdb] = await Promise.all([
      this.json<RouteInfo>(['ip', '-j', '-4', 'route', 'show', 'proto', String(ROUTE_PROTO)]),
      this.json<RouteInfo>(['ip', '-j', '-6', 'route', 'show', 'proto', String(ROUTE_PROTO)]),
      this.json<NeighInfo & { dev?: string }>(['ip', '-j', 'neigh', 'show']),
      this.json<FdbInfo & { ifname?: string }>(['bridge', '-j', 'fdb', 'show']),
    ]);
    const ip: string[] = [];
    const br: string[] = [];
    const hostLen = (ipText: string) => (ipText.includes(':') ? 128 : 32);
    const wantRoute = new Map(want.remotes.map((r) => [`${r.ip}/${hostLen(r.ip)}|${r.dev}`, r]));
    for (const r of [...r4, ...r6]) {
      if (!r.dev || !ours.has(r.dev)) continue;
      const dst = r.dst.includes('/') ? r.dst : `${r.dst}/${hostLen(r.dst)}`;
      if (!wantRoute.delete(`${dst}|${r.dev}`))
        ip.push(`route del ${dst} dev ${r.dev} proto ${ROUTE_PROTO}`);
    }
    for (const [key, r] of wantRoute)
      ip.push(`route replace ${key.split('|')[0]} dev ${r.dev} proto ${ROUTE_PROTO} scope link`);
    const wantNeigh = new Map(want.remotes.map((r) => [`${r.ip}|${r.dev}`, r]));
    for (const n of neighs) {
      if (!n.dev || !ours.has(n.dev)) continue;
      const w = wantNeigh.get(`${n.dst}|${n.dev}`);
      if (w && n.lladdr === w.vtepMac && n.state?.includes('PERMANENT'))
        wantNeigh.delete(`${n.dst}|${n.dev}`);
      else if (!w) ip.push(`neigh del ${n.dst} dev ${n.dev}`);
    }
    for (const r of wantNeigh.values())
      ip.push(`neigh replace ${r.ip} lladdr ${r.vtepMac} dev ${r.dev} nud permanent`);
    const wantFdb = new Map(want.remotes.map((r) => [`${r.vtepMac}|${r.dev}`, r]));
    for (const f of fdb) {
      if (!f.ifname || !ours.has(f.ifname) || f.dst === undefined) continue;
      const w = wantFdb.get(`${f.mac}|${f.ifname}`);
      if (w && w.underlay === f.dst) wantFdb.delete(`${f.mac}|${f.ifname}`);
      else br.push(`fdb del ${f.mac} dev ${f.ifname} dst ${f.dst} self`);
    }
    for (const r of wantFdb.values())
      br.push(`fdb replace ${r.vtepMac} dev ${r.dev} dst ${r.underlay} self permanent`);
    // FDB first: a route is usable as soon as it exists.
    if (br.length > 0)
      await mustRun(this.opts.exec, ['bridge', '-batch', '-'], br.join('\n') + '\n');
    if (ip.length > 0) await mustRun(this.opts.exec, ['ip', '-batch', '-'], ip.join('\n') + '\n');
  }
}

/** An `ip rule` selector of ours, also its identity when comparing. */
function ruleKey(mark: number, mask: number, iif: string | undefined, table: number): string {
  const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;
  return `pref ${STEER_RULE_PREF}${iif ? ` iif ${iif}` : ''} fwmark ${hex(mark)}/${hex(mask)} table ${table}`;
}

/** A reconciler for the current namespace; convenience for the CLI. */
export function localLinks(underlayIp: string): LinkReconciler {
  return new LinkReconciler({ exec: makeExec(), underlayIp });
}
