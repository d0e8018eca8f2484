/**
 * The verdict the rendered ruleset gives a new flow, computed from the HostState
 * with the same lookup order (host-state.ts) and the same overlap tie-break as
 * the renderer. Pure. The agent uses it to find established flows a new state
 * denies (and delete their conntrack entries); tests use it as an oracle.
 */
import type {
  CidrEntry,
  Direction,
  HostState,
  PeerEntry,
  SideEntry,
  SideState,
  SideVerdict,
} from '../model/host-state.js';
import { IDENTITY_WORLD } from '../model/host-state.js';
import type { FlowSide } from '../model/flow.js';
import type { Protocol } from '../model/types.js';
import { familyBits, formatIp, parseIp, parsePrefix } from '../model/net.js';

/** A flow as the datapath sees it. */
export interface Flow {
  src: string;
  dst: string;
  proto: Protocol;
  /** Destination port; 0 for icmp. */
  port: number;
}

/** The host's verdict: `unrelated` when neither end is a local record. */
export type FlowVerdict = 'allow' | 'deny' | 'unrelated';

const STRICT: Record<SideVerdict, number> = { allow: 0, log: 1, deny: 2 };

function canon(ip: string): string | undefined {
  const p = parseIp(ip);
  return p ? formatIp(p) : undefined;
}

function inRange(range: string, ip: string): boolean {
  const a = parseIp(ip);
  if (!a) return false;
  const dash = range.indexOf('-');
  if (dash > 0) {
    const lo = parseIp(range.slice(0, dash));
    const hi = parseIp(range.slice(dash + 1));
    return !!lo && !!hi && lo.family === a.family && a.value >= lo.value && a.value <= hi.value;
  }
  const p = parsePrefix(range);
  if (!p || p.ip.family !== a.family) return false;
  const shift = BigInt(familyBits(a.family) - p.prefix);
  return a.value >> shift === p.ip.value >> shift;
}

function holds(e: SideEntry, flow: Flow): boolean {
  if (e.proto !== flow.proto) return false;
  const port = flow.proto === 'icmp' ? 0 : flow.port;
  return port >= e.ports[0] && port <= e.ports[1];
}

/** The deciding entry among matching ones: the strictest, the first on a tie (as the renderer). */
function strictest(entries: SideEntry[]): SideEntry | undefined {
  if (entries.length === 0) return undefined;
  return entries.reduce((a, b) => (STRICT[b.verdict] > STRICT[a.verdict] ? b : a));
}

/**
 * Verdict of one side (local identity `local`, peer identity `peer` at `peerAddr`).
 *
 * @example sideVerdict(state, 256, 'egress', 257, '10.0.1.2', flow) // 'allow'
 */
export function sideVerdict(
  state: HostState,
  local: number,
  direction: Direction,
  peer: number,
  peerAddr: string,
  flow: Flow,
): 'allow' | 'deny' {
  return new FlowJudge(state).sideVerdict(local, direction, peer, peerAddr, flow);
}

/** One side's entries, peer entries grouped by peer identity. */
interface IndexedSide {
  cidr: CidrEntry[];
  peers: Map<number, PeerEntry[]>;
  any: SideEntry[];
}

/**
 * {@link judgeFlow} for many flows of one state (the conntrack sweep judges every
 * entry of the table): addresses, sides and defaults are indexed once, so a flow
 * costs the entries of its own peer, not the whole state.
 *
 * @example const judge = new FlowJudge(state); flows.filter((f) => judge.judge(f) === 'deny')
 */
export class FlowJudge {
  private readonly ids = new Map<string, number>();
  private readonly locals = new Map<string, number>();
  private readonly sides = new Map<string, IndexedSide>();
  private readonly unindexed = new Map<string, SideState>();
  private readonly defaults = new Map<number, HostState['defaults'][number]>();

  constructor(state: HostState) {
    // The same address → identity precedence as the table's ipcache (nft/build-table.ts):
    // ipcache, then remote records, then local records.
    for (const e of state.ipcache) {
      const k = canon(e.ip);
      if (k) this.ids.set(k, e.identity);
    }
    for (const r of state.remotes) {
      for (const ip of r.ips) {
        const k = canon(ip);
        if (k) this.ids.set(k, r.identity);
      }
    }
    for (const r of state.locals) {
      for (const ip of r.ips) {
        const k = canon(ip);
        if (k) {
          this.locals.set(k, r.identity);
          this.ids.set(k, r.identity);
        }
      }
    }
    // Sides are indexed when first judged: a sweep after a delta judges the flows of
    // the identities it changed, and indexing every side would cost the whole state.
    for (const side of state.sides) this.unindexed.set(`${side.identity}/${side.direction}`, side);
    for (const d of state.defaults) this.defaults.set(d.identity, d);
  }

  private side(key: string): IndexedSide | undefined {
    const indexed = this.sides.get(key);
    if (indexed) return indexed;
    const side = this.unindexed.get(key);
    if (!side) return undefined;
    const peers = new Map<number, PeerEntry[]>();
    for (const e of side.peers) {
      const list = peers.get(e.peer);
      if (list) list.push(e);
      else peers.set(e.peer, [e]);
    }
    const built = { cidr: side.cidr, peers, any: side.any };
    this.sides.set(key, built);
    this.unindexed.delete(key);
    return built;
  }

  /** What this host's ruleset does with a new flow. */
  judge(flow: Flow): FlowVerdict {
    const src = canon(flow.src) ?? flow.src;
    const dst = canon(flow.dst) ?? flow.dst;
    const srcLocal = this.locals.get(src);
    const dstLocal = this.locals.get(dst);
    if (srcLocal === undefined && dstLocal === undefined) return 'unrelated';
    const srcId = this.ids.get(src) ?? IDENTITY_WORLD;
    const dstId = this.ids.get(dst) ?? IDENTITY_WORLD;
    if (srcLocal !== undefined && this.sideVerdict(srcLocal, 'egress', dstId, dst, flow) === 'deny')
      return 'deny';
    if (
      dstLocal !== undefined &&
      this.sideVerdict(dstLocal, 'ingress', srcId, src, flow) === 'deny'
    )
      return 'deny';
    return 'allow';
  }

  /**
   * Verdict of one side (local identity `local`, peer identity `peer` at `peerAddr`),
   * in host-state.ts's lookup order: cidr, peers, any, then the defaults.
   */
  sideVerdict(
    local: number,
    direction: Direction,
    peer: number,
    peerAddr: string,
    flow: Flow,
  ): 'allow' | 'deny' {
    return this.decide(local, direction, peer, peerAddr, flow).verdict;
  }

  /**
   * How one side decides, naming the deciding entry's policy and rule (the names the
   * manager resolved, which `vnp check` gives) or the default taken. Flow records use
   * it (docs/flows.md), so they name exactly what this host's tables enforce.
   */
  decide(
    local: number,
    direction: Direction,
    peer: number,
    peerAddr: string,
    flow: Flow,
  ): FlowSide {
    const side = this.side(`${local}/${direction}`);
    const found =
      strictest((side?.cidr ?? []).filter((e) => holds(e, flow) && inRange(e.range, peerAddr))) ??
      strictest((side?.peers.get(peer) ?? []).filter((e) => holds(e, flow))) ??
      strictest((side?.any ?? []).filter((e) => holds(e, flow)));
    if (found)
      return {
        verdict: found.verdict === 'deny' ? 'deny' : 'allow',
        policy: found.policy,
        rule: found.rule,
        ...(found.verdict === 'log' ? { logged: true } : {}),
      };
    const def = this.defaults.get(local);
    const listed = def?.peers.find((p) => p.peer === peer);
    const verdict = listed ? listed.verdict : def?.other === 'allow' ? 'allow' : 'deny';
    return { verdict, default: verdict };
  }

  /** The identity of an address as this host's tables see it (1: world), and whether it is local. */
  addressIdentity(ip: string): { identity: number; local: boolean } {
    const k = canon(ip) ?? ip;
    const local = this.locals.get(k);
    return { identity: local ?? this.ids.get(k) ?? IDENTITY_WORLD, local: local !== undefined };
  }
}

/**
 * What this host's ruleset does with a new flow (one flow; for many, {@link FlowJudge}).
 *
 * @example judgeFlow(state, { src: '10.0.0.1', dst: '10.0.1.2', proto: 'tcp', port: 80 })
 */
export function judgeFlow(state: HostState, flow: Flow): FlowVerdict {
  return new FlowJudge(state).judge(flow);
}
