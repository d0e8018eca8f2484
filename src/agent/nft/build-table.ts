/**
 * HostState → the whole `inet vnp` table (table.ts), for snapshots, resyncs and as
 * the reference the incremental updates (applied-table.ts) are tested against. Pure.
 *
 * The table is the frame (global sets, steering, default maps, side chains with
 * their maps declared, base chains: everything but the side maps' elements and the
 * log and rule-deny chains) plus the elements of every side's groups (side-maps.ts)
 * and the log and rule-deny chains those elements and side chains jump to.
 */
import type { DefaultState, Direction, HostState, SideState } from '../../model/host-state.js';
import { formatIp, parseIp } from '../../model/net.js';
import { DEFAULT_VNI, vethName, vxlanName } from '../names.js';
import { activeSteering } from '../steering.js';
import { baseChains, type SteerUse } from './base-chains.js';
import type { Verdict } from './disjoint.js';
import { DENY, denyChain, DENY_CHAIN } from './deny-chain.js';
import { identityCtMark, RETURN } from './expressions.js';
import {
  anyIcmpVerdict,
  defaultMapName,
  groupElements,
  groupSide,
  jumpChain,
  jumpChainName,
  sideChain,
  sideChainName,
  sideSets,
} from './side-maps.js';
import { localSlots } from './local-slots.js';
import { addSteering } from './steer-maps.js';
import {
  newSet,
  put,
  putElement,
  type NftTable,
  type RenderOptions,
  type SetDecl,
} from './table.js';

export const DIRECTIONS: readonly Direction[] = ['egress', 'ingress'];

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
    // Steering (see steer-maps.ts): veths of local via records, (steer class . via veth)
    // for steered packets entering a local via record, and the per-source steer chains.
    viaIfs: newSet('via-ifs', 'ifname'),
    steerVia: newSet('steer-via', ['mark', 'ifname']),
    steerDispatch: newSet('steer-dispatch', 'ifname', 'verdict'),
  };
}

/** The global sets filled from the records and the ipcache of `state`. */
function addGlobals(
  table: NftTable,
  state: HostState,
  slots: ReadonlyMap<number, string>,
  defaultVni: number,
): void {
  const g = globalSets();
  const ipcache = new Map<string, number>();
  // Precedence: ipcache, then remote records, then local records (as FlowJudge).
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
    const ifname = vethName(r.name);
    put(g.locals!, ifname);
    put(g.trusted!, ifname);
    put(g.ifid!, ifname, r.identity);
    put(g.ifct!, ifname, identityCtMark(r.identity));
    for (const ip of r.ips) {
      const p = parseIp(ip);
      if (p) put(p.family === 4 ? g.spoof4! : g.spoof6!, { concat: [ifname, formatIp(p)] });
    }
    const slot = slots.get(r.identity)!;
    put(g.egressDispatch!, ifname, { jump: { target: sideChainName('egress', slot) } });
    put(g.ingressDispatch!, ifname, { jump: { target: sideChainName('ingress', slot) } });
  }
  for (const s of Object.values(g)) table.sets.set(s.name, s);
}

/** `identity/direction` → side. */
export function sidesByKey(state: HostState): Map<string, SideState> {
  return new Map(state.sides.map((s) => [sideKey(s.identity, s.direction), s]));
}

export const sideKey = (identity: number, direction: Direction): string =>
  `${identity}/${direction}`;

/** The verdict for peers a local identity's default does not list; none sent: fail closed. */
function otherVerdict(def: DefaultState | undefined): Verdict {
  return { kind: def?.other === 'allow' ? 'allow' : 'deny', policy: '', rule: '' };
}

/**
 * The frame of a table, the verdicts whose chains its side chains jump to (log, rule
 * deny), and the slot of each local identity (local-slots.ts).
 */
export interface Frame {
  table: NftTable;
  jumps: Map<string, Verdict>;
  slots: Map<number, string>;
}

/**
 * Everything of the table but the side maps' elements and the jump chains: O(records +
 * ipcache + routes + defaults), independent of the number of side entries.
 *
 * @example buildFrame(state).table.chains.has(`eg-${vethName('web-1')}`) // web-1 is local
 */
export function buildFrame(state: HostState, opts: RenderOptions = {}): Frame {
  const table: NftTable = { sets: new Map(), chains: new Map() };
  const defaultVni = opts.defaultVni ?? DEFAULT_VNI;
  const slots = localSlots(state);
  addGlobals(table, state, slots, defaultVni);
  addSteering(table, state, slots, activeSteering(state, { defaultVni }));
  const sides = sidesByKey(state);
  const defaults = new Map(state.defaults.map((d) => [d.identity, d]));
  const jumps = new Map<string, Verdict>();
  // Before the side chains and maps that jump to it.
  table.chains.set(DENY_CHAIN, denyChain(opts.denyLog));
  for (const [id, slot] of slots) {
    const def = defaults.get(id);
    const defaultMap = newSet(defaultMapName(slot), 'mark', 'verdict');
    for (const p of def?.peers ?? [])
      put(defaultMap, p.peer, p.verdict === 'allow' ? RETURN : DENY);
    table.sets.set(defaultMap.name, defaultMap);
    for (const direction of DIRECTIONS) {
      for (const s of sideSets(slot, direction)) table.sets.set(s.name, s);
      const anyIcmp = anyIcmpVerdict(sides.get(sideKey(id, direction)));
      const jump = anyIcmp && jumpChainName(anyIcmp);
      if (jump) jumps.set(jump, anyIcmp!);
      const chain = sideChain(slot, direction, anyIcmp, otherVerdict(def));
      table.chains.set(chain.name, chain);
    }
  }
  const use: SteerUse = {
    sources: (table.sets.get('steer-dispatch')?.elems.size ?? 0) > 0,
    vias: (table.sets.get('via-ifs')?.elems.size ?? 0) > 0,
  };
  for (const c of baseChains(use)) table.chains.set(c.name, c);
  return { table, jumps, slots };
}

/**
 * The whole table of a host state.
 *
 * @example buildTable(state).chains.has(`eg-${vethName('web-1')}`) // web-1 is local
 */
export function buildTable(state: HostState, opts: RenderOptions = {}): NftTable {
  const { table, jumps, slots } = buildFrame(state, opts);
  const sides = sidesByKey(state);
  for (const [id, slot] of slots)
    for (const direction of DIRECTIONS) {
      const side = sides.get(sideKey(id, direction));
      if (!side) continue;
      const chain = sideChainName(direction, slot);
      for (const [group, entries] of groupSide(side))
        for (const e of groupElements(chain, group, entries)) {
          putElement(table.sets.get(e.set)!, e);
          if (e.jump) jumps.set(jumpChainName(e.jump)!, e.jump);
        }
    }
  for (const [, verdict] of [...jumps].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const chain = jumpChain(verdict);
    table.chains.set(chain.name, chain);
  }
  return table;
}
