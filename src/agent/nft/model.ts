/**
 * HostState → a declarative model of the `inet vnp` table: named sets/maps with
 * their elements keyed by a canonical string, and chains with their rules. Both
 * the full render and the delta are derived from two such models, so they can
 * never disagree. Pure.
 *
 * Layout (see docs/adr/0005-datapath.md), one base chain so a packet pays one hook:
 *   forward (forward, prio 0): packets of accepted connections leave at once (mark from the
 *               ct mark). New ones from local records jump to `fwd-egress`: peer =
 *               ipcache[daddr] | world, held in meta mark while `eg-<L>` decides (allowed
 *               returns). Then the mark becomes the source identity for packets from local
 *               records (it leaves in the VXLAN-GBP header); for packets to local records the
 *               source identity is the mark (GBP on receipt) | ipcache[saddr] | world, and
 *               `in-<L>` decides.
 * Per local identity L and direction: one chain and seven maps; the rule count never grows
 * with the number of policy entries.
 */
import type { Direction, HostState, SideEntry, SideState } from '../../model/host-state.js';
import { IDENTITY_WORLD } from '../../model/host-state.js';
import { familyBits, formatIp, parseIp, parsePrefix, type Family } from '../../model/net.js';
import { DEFAULT_VNI, vethName, vxlanName } from '../names.js';
import { activeSteering } from '../steering.js';
import { addSteering } from './steer-model.js';
import {
  resolveCells,
  resolveIntervals,
  resolvePorts,
  sameVerdict,
  stricter,
  type Cell,
  type Interval,
  type Verdict,
} from './disjoint.js';
import type { NftValue } from './types.js';

/** A set or map of the table. */
export interface SetDecl {
  name: string;
  type: string | string[];
  /** Value type for maps (`verdict`, `mark`). */
  map?: string;
  flags?: string[];
  /** Canonical key → element JSON (a key, or `[key, value]` for maps). */
  elems: Map<string, NftValue>;
  /** Canonical key → canonical element (key and value): equal strings, equal elements. */
  sigs: Map<string, string>;
}

/** A chain; `hook` for base chains. */
export interface ChainDecl {
  name: string;
  hook?: { type: 'filter'; hook: 'forward' | 'prerouting'; prio: number; policy: 'accept' };
  rules: NftValue[][];
}

/** The whole table as data. */
export interface TableModel {
  sets: Map<string, SetDecl>;
  chains: Map<string, ChainDecl>;
}

/** Renderer options. */
export interface RenderOptions {
  /** VNI for records whose subnet has none (default 1). */
  defaultVni?: number;
}

export const ACCEPT = { accept: null };
export const RETURN = { return: null };
const COUNTER = { counter: { packets: 0, bytes: 0 } };
const DROP = { drop: null };
export const mark = { meta: { key: 'mark' } };
export const ctMark = { ct: { key: 'mark' } };
/**
 * Connections vnp marked carry this tag in the top byte of their ct mark (identity in
 * the low 16 bits), so the agent never reads or rewrites ct marks it did not set.
 */
export const CT_MARK_TAG = 0x56000000;
export const CT_TAG_MASK = 0xff000000;
/**
 * Bits 16..23 of a vnp ct mark: the steer class of a steered connection (0: not
 * steered). Such a connection's ct mark is `TAG | k << 16 | k`, so its packets leave
 * with Group Policy ID k (docs/adr/0008-steering.md).
 */
export const CT_STEER_MASK = 0x00ff0000;
export const l4proto = { meta: { key: 'l4proto' } };
export const dport = { payload: { protocol: 'th', field: 'dport' } };
export const ICMP_PROTOS = { set: ['icmp', 'ipv6-icmp'] };
export const iif = { meta: { key: 'iifname' } };
const oif = { meta: { key: 'oifname' } };
const ctState = { ct: { key: 'state' } };
export const nfproto = { meta: { key: 'nfproto' } };

export const addr = (family: Family, field: 'saddr' | 'daddr'): NftValue => ({
  payload: { protocol: family === 4 ? 'ip' : 'ip6', field },
});
export const match = (left: NftValue, right: NftValue, op = '=='): NftValue => ({
  match: { op, left, right },
});
export const vmap = (key: NftValue, name: string): NftValue => ({
  vmap: { key, data: `@${name}` },
});
export const setMark = (value: NftValue): NftValue => ({ mangle: { key: mark, value } });
export const lookup = (key: NftValue, name: string): NftValue => ({
  map: { key, data: `@${name}` },
});
/** The packet's source is not an address of the record behind its input veth. */
const notOwnSource = (family: Family): NftValue[] => [
  match(nfproto, family === 4 ? 'ipv4' : 'ipv6'),
  match({ concat: [iif, addr(family, 'saddr')] }, family === 4 ? '@spoof4' : '@spoof6', '!='),
];

/** Chain deciding a direction for local identity L. */
export function sideChainName(direction: Direction, identity: number): string {
  return `${direction === 'egress' ? 'eg' : 'in'}-${identity}`;
}

/** Chain that logs then accepts for one deciding rule. */
export function logChainName(policy: string, rule: string): string {
  return `lg-${policy}-${rule.replace(/[^A-Za-z0-9]+/g, '-').replace(/-$/, '')}`;
}

/**
 * nft verdict JSON for a resolved verdict of a side chain. Allowed *returns* (the
 * egress side continues with the ingress side in the same base chain; after the ingress
 * side the base chain's policy accepts); a logged verdict is a `goto` to its log chain,
 * which logs and returns likewise.
 */
function verdictJson(v: Verdict): NftValue {
  if (v.kind === 'allow') return RETURN;
  if (v.kind === 'deny') return DROP;
  return { goto: { target: logChainName(v.policy, v.rule) } };
}

/** Interval element value: a single value or a range. */
function span(lo: NftValue, hi: NftValue, single: boolean): NftValue {
  return single ? lo : { range: [lo, hi] };
}

/**
 * Ports are the last field of every concatenated key, and always a range: nft 1.0.6
 * cannot delete a concatenated interval element whose last field is a single value
 * ("No such file or directory"), while `80-80` adds and deletes fine.
 */
export function portSpan(lo: bigint, hi: bigint): NftValue {
  return { range: [Number(lo), Number(hi)] };
}

export function addrSpan(family: Family, lo: bigint, hi: bigint): NftValue {
  return span(formatIp({ family, value: lo }), formatIp({ family, value: hi }), lo === hi);
}

/** Parses a cidr entry's range (`a-b` or a prefix) into an inclusive bigint range. */
export function parseRange(text: string): { family: Family; lo: bigint; hi: bigint } | undefined {
  const dash = text.indexOf('-');
  if (dash > 0) {
    const a = parseIp(text.slice(0, dash));
    const b = parseIp(text.slice(dash + 1));
    if (!a || !b || a.family !== b.family || a.value > b.value) return undefined;
    return { family: a.family, lo: a.value, hi: b.value };
  }
  const p = parsePrefix(text);
  if (!p) return undefined;
  const host = (1n << BigInt(familyBits(p.ip.family) - p.prefix)) - 1n;
  return { family: p.ip.family, lo: p.ip.value & ~host, hi: (p.ip.value & ~host) | host };
}

const verdictOf = (e: SideEntry): Verdict => ({ kind: e.verdict, policy: e.policy, rule: e.rule });
/** ICMP entries (verdict or route) carry port 0: they apply when their range holds 0. */
export const icmpApplies = (e: Pick<SideEntry, 'proto' | 'ports'>): boolean =>
  e.proto === 'icmp' && e.ports[0] === 0;

export function newSet(
  name: string,
  type: string | string[],
  map?: string,
  interval = false,
): SetDecl {
  return {
    name,
    type,
    ...(map ? { map } : {}),
    ...(interval ? { flags: ['interval'] } : {}),
    elems: new Map(),
    sigs: new Map(),
  };
}

export function put(set: SetDecl, key: NftValue, value?: NftValue): void {
  const k = JSON.stringify(key);
  set.elems.set(k, value === undefined ? key : [key, value]);
  set.sigs.set(k, value === undefined ? k : `${k}=>${JSON.stringify(value)}`);
}

/**
 * The seven verdict maps of one lookup chain `c`, in the order host-state.ts looks
 * up: cidr (IPv4, IPv6, and their ICMP variants), peers (ports, ICMP), any. Side
 * chains and steering chains share the layout.
 */
export function lookupSets(c: string) {
  return {
    c4: newSet(`${c}-c4`, ['ipv4_addr', 'inet_proto', 'inet_service'], 'verdict', true),
    c6: newSet(`${c}-c6`, ['ipv6_addr', 'inet_proto', 'inet_service'], 'verdict', true),
    c4i: newSet(`${c}-c4i`, 'ipv4_addr', 'verdict', true),
    c6i: newSet(`${c}-c6i`, 'ipv6_addr', 'verdict', true),
    p: newSet(`${c}-p`, ['mark', 'inet_proto', 'inet_service'], 'verdict', true),
    pi: newSet(`${c}-pi`, 'mark', 'verdict'),
    a: newSet(`${c}-a`, ['inet_proto', 'inet_service'], 'verdict', true),
  };
}

/** Everything one (L, direction) needs: its chain, its maps, the log chains it jumps to. */
function renderSide(
  model: TableModel,
  identity: number,
  direction: Direction,
  side: SideState | undefined,
  other: Verdict,
  logs: Map<string, Verdict>,
): void {
  const c = sideChainName(direction, identity);
  const field = direction === 'egress' ? 'daddr' : 'saddr';
  const sets = lookupSets(c);
  const note = (v: Verdict): NftValue => {
    if (v.kind === 'log') logs.set(logChainName(v.policy, v.rule), v);
    return verdictJson(v);
  };
  let anyIcmp: Verdict | undefined;
  if (side) {
    // cidr: per family and protocol, (address × port) cells made disjoint.
    const cells = new Map<string, { family: Family; proto: string; cells: Cell[] }>();
    for (const e of side.cidr) {
      const r = parseRange(e.range);
      if (!r) continue;
      const proto = e.proto === 'icmp' ? 'icmp' : e.proto;
      if (e.proto === 'icmp' && !icmpApplies(e)) continue;
      const k = `${r.family}/${proto}`;
      const g = cells.get(k) ?? { family: r.family, proto, cells: [] };
      const [plo, phi] = e.proto === 'icmp' ? [0n, 0n] : [BigInt(e.ports[0]), BigInt(e.ports[1])];
      g.cells.push({ alo: r.lo, ahi: r.hi, plo, phi, v: verdictOf(e) });
      cells.set(k, g);
    }
    for (const g of cells.values()) {
      for (const cell of resolveCells(g.cells)) {
        const a = addrSpan(g.family, cell.alo, cell.ahi);
        if (g.proto === 'icmp') put(g.family === 4 ? sets.c4i : sets.c6i, a, note(cell.v));
        else
          put(
            g.family === 4 ? sets.c4 : sets.c6,
            { concat: [a, g.proto, portSpan(cell.plo, cell.phi)] },
            note(cell.v),
          );
      }
    }
    // peers: per peer and protocol, port intervals made disjoint.
    const byPeer = new Map<string, { peer: number; proto: string; items: Interval<Verdict>[] }>();
    for (const e of side.peers) {
      if (e.proto === 'icmp' && !icmpApplies(e)) continue;
      const k = `${e.peer}/${e.proto}`;
      const g = byPeer.get(k) ?? { peer: e.peer, proto: e.proto, items: [] };
      g.items.push({ lo: BigInt(e.ports[0]), hi: BigInt(e.ports[1]), v: verdictOf(e) });
      byPeer.set(k, g);
    }
    for (const g of byPeer.values()) {
      if (g.proto === 'icmp') {
        put(sets.pi, g.peer, note(g.items.map((i) => i.v).reduce(stricter)));
        continue;
      }
      for (const i of resolvePorts(g.items))
        put(sets.p, { concat: [g.peer, g.proto, portSpan(i.lo, i.hi)] }, note(i.v));
    }
    const byProto = new Map<string, Interval<Verdict>[]>();
    for (const e of side.any) {
      if (e.proto === 'icmp') {
        if (icmpApplies(e)) anyIcmp = anyIcmp ? stricter(anyIcmp, verdictOf(e)) : verdictOf(e);
        continue;
      }
      const items = byProto.get(e.proto) ?? [];
      items.push({ lo: BigInt(e.ports[0]), hi: BigInt(e.ports[1]), v: verdictOf(e) });
      byProto.set(e.proto, items);
    }
    for (const [proto, items] of byProto) {
      for (const i of resolveIntervals(items, stricter, sameVerdict))
        put(sets.a, { concat: [proto, portSpan(i.lo, i.hi)] }, note(i.v));
    }
  }
  for (const s of Object.values(sets)) model.sets.set(s.name, s);
  const rules: NftValue[][] = [
    [vmap({ concat: [addr(4, field), l4proto, dport] }, sets.c4.name)],
    [vmap({ concat: [addr(6, field), l4proto, dport] }, sets.c6.name)],
    [match(l4proto, 'icmp'), vmap(addr(4, field), sets.c4i.name)],
    [match(l4proto, 'ipv6-icmp'), vmap(addr(6, field), sets.c6i.name)],
    [vmap({ concat: [mark, l4proto, dport] }, sets.p.name)],
    [match(l4proto, ICMP_PROTOS), vmap(mark, sets.pi.name)],
    [vmap({ concat: [l4proto, dport] }, sets.a.name)],
    ...(anyIcmp ? [[match(l4proto, ICMP_PROTOS), note(anyIcmp)]] : []),
    [vmap(mark, `def-${identity}`)],
    // Counted, so `nft list chain` shows how much traffic the default decided.
    [COUNTER, note(other)],
  ];
  model.chains.set(c, { name: c, rules });
}

/** Global sets: interfaces, identities of interfaces, anti-spoofing, ipcache, dispatch. */
function globalSets(): Record<string, SetDecl> {
  return {
    locals: newSet('locals', 'ifname'),
    trusted: newSet('trusted', 'ifname'),
    ifid: newSet('ifid', 'ifname', 'mark'),
    ifct: newSet('ifct', 'ifname', 'mark'),
    spoof4: newSet('spoof4', ['ifname', 'ipv4_addr']),
    spoof6: newSet('spoof6', ['ifname', 'ipv6_addr']),
    ipcache4: newSet('ipcache4', 'ipv4_addr', 'mark'),
    ipcache6: newSet('ipcache6', 'ipv6_addr', 'mark'),
    egressDispatch: newSet('egress-dispatch', 'ifname', 'verdict'),
    ingressDispatch: newSet('ingress-dispatch', 'ifname', 'verdict'),
    // Steering (see steer-model.ts): veths of local via records, (steer class . via veth)
    // for steered packets entering a local via record, and the per-source steer chains.
    viaIfs: newSet('via-ifs', 'ifname'),
    steerVia: newSet('steer-via', ['mark', 'ifname']),
    steerDispatch: newSet('steer-dispatch', 'ifname', 'verdict'),
  };
}

/**
 * What of steering a host needs in its base chains: `sources` when some local record's
 * new connections may be steered, `vias` when a via record is local. A host without
 * either pays nothing for steering (adding it later replaces the table atomically).
 */
interface SteerUse {
  sources: boolean;
  vias: boolean;
}

function baseChains(use: SteerUse): ChainDecl[] {
  const hook = (prio: number) => ({
    type: 'filter' as const,
    hook: 'forward' as const,
    prio,
    policy: 'accept' as const,
  });
  const steered = [
    match({ '&': [ctMark, CT_TAG_MASK] }, CT_MARK_TAG),
    match({ '&': [ctMark, CT_STEER_MASK] }, 0, '!='),
  ];
  const only = <T>(cond: boolean, items: T[]): T[] => (cond ? items : []);
  const steerChains: ChainDecl[] = [
    {
      // Before the routing decision: a new connection from a local record that a route
      // matches gets its steer class as ct mark and mark (ip rule fwmark k → table
      // 7300+k → the via record); its later original-direction packets get it back from
      // the ct mark. Replies and transit traffic are never steered.
      name: 'pre-steer',
      hook: { type: 'filter', hook: 'prerouting', prio: -150, policy: 'accept' },
      rules: [
        [match(iif, '@locals', '!='), ACCEPT],
        // Most packets: established and not steered.
        [
          match(ctState, ['established', 'related'], 'in'),
          match({ '&': [ctMark, CT_STEER_MASK] }, 0),
          ACCEPT,
        ],
        [match({ ct: { key: 'direction' } }, 'reply'), ACCEPT],
        [...notOwnSource(4), ACCEPT],
        [...notOwnSource(6), ACCEPT],
        [match(ctState, ['established', 'related'], 'in'), ...steered, setMark(ctMark), ACCEPT],
        [match(ctState, 'new', '!='), ACCEPT],
        [vmap(iif, 'steer-dispatch')],
        // Back from a steer chain without steering: the peer identity held in the mark
        // must not reach the routing decision.
        [setMark(0)],
      ],
    },
    {
      // Transit: a packet leaving a local via record (middlebox) with a source that is
      // not its own was steered there and decided at the source's host. The mark it
      // leaves with is the source's identity, so the destination's ingress sees the
      // source, not the middlebox; a local destination decides its ingress as usual.
      name: 'transit',
      rules: [
        [setMark(IDENTITY_WORLD)],
        [setMark(lookup(addr(4, 'saddr'), 'ipcache4'))],
        [setMark(lookup(addr(6, 'saddr'), 'ipcache6'))],
        [match(oif, '@locals', '!='), ACCEPT],
        [match(ctState, ['established', 'related'], 'in'), ACCEPT],
        [vmap(oif, 'ingress-dispatch')],
        // Allowed by the destination's ingress side (it returns): decided.
        [ACCEPT],
      ],
    },
    {
      // Packets leaving a local via record (one set test in `forward` for the others):
      // transit when the source is not the record's own, else back to `forward`.
      name: 'from-via',
      rules: [
        [...notOwnSource(4), { goto: { target: 'transit' } }],
        [...notOwnSource(6), { goto: { target: 'transit' } }],
      ],
    },
  ];
  return [
    ...steerChains.filter((c) => (c.name === 'pre-steer' ? use.sources : use.vias)),
    {
      // The one forward base chain: every forwarded packet pays one hook and, when it
      // belongs to an accepted connection, two rules (docs/adr/0005-datapath.md).
      name: 'forward',
      hook: hook(0),
      rules: [
        // Transit out of a local via record, new or established: `transit` decides.
        ...only(use.vias, [[match(iif, '@via-ifs'), { jump: { target: 'from-via' } }]]),
        // Packets of accepted connections: the local end's identity comes back from the
        // ct mark (one expression, no map lookup), so every packet still leaves with its
        // GBP Group Policy ID; connections vnp did not mark are left alone.
        [
          match(ctState, ['established', 'related'], 'in'),
          match({ '&': [ctMark, CT_TAG_MASK] }, CT_MARK_TAG),
          setMark({ '&': [ctMark, 0xffff] }),
          ACCEPT,
        ],
        [match(ctState, ['established', 'related'], 'in'), ACCEPT],
        // New connections from local records: their egress side; allowed returns here.
        [match(iif, '@locals'), { jump: { target: 'fwd-egress' } }],
        // Source identity of local records: it leaves in the GBP header.
        [setMark(lookup(iif, 'ifid'))],
        // A steered connection's packets leave with its steer class instead.
        ...only(use.sources, [
          [match(iif, '@locals'), ...steered, setMark({ '&': [ctMark, 0xffff] })],
        ]),
        // Steered packets entering a local via record: nothing to decide here (the
        // source's egress was decided at its host, the destination's ingress will be).
        ...only(use.vias, [[match({ concat: [mark, oif] }, '@steer-via'), ACCEPT]]),
        // Remember the local end's identity for the connection's later packets (see the
        // first rules): the sender's when it is local, else the local receiver's, whose
        // replies then leave with its identity. A steered connection keeps its ct mark.
        [
          match(iif, '@locals'),
          ...only(use.sources, [match({ '&': [ctMark, CT_STEER_MASK] }, 0)]),
          { mangle: { key: ctMark, value: lookup(iif, 'ifct') } },
        ],
        [
          match(iif, '@locals', '!='),
          match(oif, '@locals'),
          { mangle: { key: ctMark, value: lookup(oif, 'ifct') } },
        ],
        [match(oif, '@locals', '!='), ACCEPT],
        [match(ctState, 'invalid', 'in'), DROP],
        // Only marks from our VXLAN devices (GBP) or local records are identities.
        [match(iif, '@trusted', '!='), setMark(0)],
        [setMark({ '&': [mark, 0xffff] })],
        [match(mark, 0), setMark(lookup(addr(4, 'saddr'), 'ipcache4'))],
        [match(mark, 0), setMark(lookup(addr(6, 'saddr'), 'ipcache6'))],
        [match(mark, 0), setMark(IDENTITY_WORLD)],
        // The local destination's ingress side; allowed returns, and the policy accepts.
        [vmap(oif, 'ingress-dispatch')],
      ],
    },
    {
      // The egress side of a new connection from a local record (jumped from `forward`).
      name: 'fwd-egress',
      rules: [
        [match(ctState, 'invalid', 'in'), DROP],
        // Anti-spoofing: a record sends only from its own addresses.
        [
          match({ meta: { key: 'nfproto' } }, 'ipv4'),
          match({ concat: [iif, addr(4, 'saddr')] }, '@spoof4', '!='),
          DROP,
        ],
        [
          match({ meta: { key: 'nfproto' } }, 'ipv6'),
          match({ concat: [iif, addr(6, 'saddr')] }, '@spoof6', '!='),
          DROP,
        ],
        // The peer identity (destination), held in the mark while eg-<L> decides.
        [setMark(IDENTITY_WORLD)],
        [setMark(lookup(addr(4, 'daddr'), 'ipcache4'))],
        [setMark(lookup(addr(6, 'daddr'), 'ipcache6'))],
        [vmap(iif, 'egress-dispatch')],
      ],
    },
  ];
}

/**
 * Builds the table model of a host state.
 *
 * @example buildModel(state).chains.has('eg-256') // when 256 is a local identity
 */
export function buildModel(state: HostState, opts: RenderOptions = {}): TableModel {
  const model: TableModel = { sets: new Map(), chains: new Map() };
  const g = globalSets();
  const defaultVni = opts.defaultVni ?? DEFAULT_VNI;
  const localIds = new Set<number>();
  const ipcache = new Map<string, number>();
  for (const e of state.ipcache) ipcache.set(e.ip, e.identity);
  for (const r of state.remotes) for (const ip of r.ips) ipcache.set(ip, r.identity);
  for (const r of state.locals) for (const ip of r.ips) ipcache.set(ip, r.identity);
  for (const [ip, id] of ipcache) {
    const p = parseIp(ip);
    if (p) put(p.family === 4 ? g.ipcache4! : g.ipcache6!, formatIp(p), id);
  }
  const vnis = new Set<number>([...state.locals, ...state.remotes].map((r) => r.vni ?? defaultVni));
  for (const vni of vnis) put(g.trusted!, vxlanName(vni));
  for (const r of state.locals) {
    const ifn = vethName(r.name);
    localIds.add(r.identity);
    put(g.locals!, ifn);
    put(g.trusted!, ifn);
    put(g.ifid!, ifn, r.identity);
    put(g.ifct!, ifn, (CT_MARK_TAG | r.identity) >>> 0);
    for (const ip of r.ips) {
      const p = parseIp(ip);
      if (p) put(p.family === 4 ? g.spoof4! : g.spoof6!, { concat: [ifn, formatIp(p)] });
    }
    put(g.egressDispatch!, ifn, { jump: { target: sideChainName('egress', r.identity) } });
    put(g.ingressDispatch!, ifn, { jump: { target: sideChainName('ingress', r.identity) } });
  }
  for (const s of Object.values(g)) model.sets.set(s.name, s);
  addSteering(model, state, activeSteering(state, { defaultVni }));
  const logs = new Map<string, Verdict>();
  for (const id of [...localIds].sort((a, b) => a - b)) {
    const def = state.defaults.find((d) => d.identity === id);
    const defSet = newSet(`def-${id}`, 'mark', 'verdict');
    for (const p of def?.peers ?? []) put(defSet, p.peer, p.verdict === 'allow' ? RETURN : DROP);
    model.sets.set(defSet.name, defSet);
    // No default sent for a local identity: fail closed.
    const other: Verdict = {
      kind: def?.other === 'allow' ? 'allow' : 'deny',
      policy: '',
      rule: '',
    };
    for (const dir of ['egress', 'ingress'] as const) {
      renderSide(
        model,
        id,
        dir,
        state.sides.find((s) => s.identity === id && s.direction === dir),
        other,
        logs,
      );
    }
  }
  for (const [name, v] of [...logs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const prefix = `vnp:${v.policy}:${v.rule} `.slice(0, 127);
    // No verdict: the chain was reached by `goto`, so its end returns like an allow.
    model.chains.set(name, { name, rules: [[COUNTER, { log: { prefix } }]] });
  }
  const use: SteerUse = {
    sources: (model.sets.get('steer-dispatch')?.elems.size ?? 0) > 0,
    vias: (model.sets.get('via-ifs')?.elems.size ?? 0) > 0,
  };
  for (const c of baseChains(use)) model.chains.set(c.name, c);
  return model;
}
