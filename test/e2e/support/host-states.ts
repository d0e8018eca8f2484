/**
 * Hand-built HostStates for renderer and datapath tests (until every scenario is
 * expressed as an Engine model). Small builders keep the scenarios readable.
 */
import type {
  DefaultState,
  HostState,
  LocalRecord,
  PeerEntry,
  Protocol,
  RemoteRecord,
  SideState,
} from './host-state-types.js';

/** A record placed on a host. */
export interface PlacedRecord {
  name: string;
  identity: number;
  ips: string[];
  host: string;
  netns?: string;
  vni?: number;
}

/** Deterministic MAC of a test record. */
export function testMac(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const b = [0x02, 0x42, (h >>> 24) & 0xff, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** A peer entry allowing (or denying) one protocol/port range from/to a peer identity. */
export function peerEntry(
  peer: number,
  proto: Protocol,
  lo: number,
  hi: number,
  verdict: 'allow' | 'deny' | 'log',
  policy = 'p',
  rule = 'egress[0]',
): PeerEntry {
  return { peer, proto, ports: [lo, hi], verdict, policy, rule };
}

/** Builds the HostState of `host` from placed records, sides and defaults for every identity. */
export function hostStateOf(
  host: string,
  revision: number,
  records: PlacedRecord[],
  sides: SideState[],
  defaults: DefaultState[],
  underlay: Record<string, string> = {},
): HostState {
  const locals: LocalRecord[] = records
    .filter((r) => r.host === host)
    .map((r) => ({
      name: r.name,
      identity: r.identity,
      ips: r.ips,
      mac: testMac(r.name),
      subnet: 'net',
      cidr: r.ips[0]!.includes(':') ? 'fd00::/64' : '10.0.0.0/16',
      ...(r.vni !== undefined ? { vni: r.vni } : {}),
      instance: `${r.name}-inst`,
      ...(r.netns ? { netns: r.netns } : {}),
    }));
  const remotes: RemoteRecord[] = records
    .filter((r) => r.host !== host)
    .map((r) => ({
      name: r.name,
      identity: r.identity,
      ips: r.ips,
      mac: testMac(r.name),
      subnet: 'net',
      ...(r.vni !== undefined ? { vni: r.vni } : {}),
      host: r.host,
      ...(underlay[r.host] ? { underlay: underlay[r.host] } : {}),
    }));
  const localIds = new Set(locals.map((l) => l.identity));
  return {
    host,
    revision,
    locals,
    remotes,
    ipcache: records.flatMap((r) => r.ips.map((ip) => ({ ip, identity: r.identity }))),
    sides: sides.filter((s) => localIds.has(s.identity)),
    defaults: defaults.filter((d) => localIds.has(d.identity)),
  };
}
