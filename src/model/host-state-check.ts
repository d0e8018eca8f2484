/**
 * The agent's check of a HostState from the wire, before anything of it reaches a
 * command (`ip -batch`, `bridge -batch`, `nft -j -f`, `conntrack`, `ip netns`): every
 * string the agent builds command input from must be exactly what its field says —
 * one IP address, a name of the model's alphabet, a range, a rule label — and every
 * number an integer in its range. A manager (or anything posing as one, or a bug in
 * one) can then at worst send a wrong policy, never a command: an underlay of
 * `10.0.0.1 self\nlink set dev eth0 down` is refused here, not run as root.
 *
 * Unknown fields are ignored (a newer manager may add some; nothing reads them).
 * Pure, no allocation beyond the walk; O(size of the state).
 */
import { VnpError } from './errors.js';
import {
  IDENTITY_MAX,
  STEER_CLASS_LAST,
  type HostState,
  type PortRange,
  type SideState,
} from './host-state.js';
import { sideListWindow } from './list-window.js';
import { parseIp, parsePrefix } from './net.js';
import { HOST_RE, NETNS_RE } from './validate-primitives.js';
import {
  NAME_EXPECTED,
  NAME_RE,
  checkArray,
  checkEnum,
  checkInt,
  checkString,
  invalid,
} from './validate-primitives.js';
import { indexField, isPlainObject, joinField } from './validate-fields.js';

const PROTOCOLS = ['tcp', 'udp', 'sctp', 'icmp'] as const;
const VERDICTS = ['allow', 'deny', 'log'] as const;
const DEFAULT_VERDICTS = ['allow', 'deny'] as const;
const DIRECTIONS = ['ingress', 'egress'] as const;
const MAC_RE = /^(|[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5})$/;
const RULE_RE = /^(ingress|egress)\[[0-9]{1,6}\]$/;
const ROUTE_RE = /^routes\[[0-9]{1,6}\]$/;
const HOST_EXPECTED = 'a host name ([A-Za-z0-9._-], 1..253)';

type Obj = Record<string, unknown>;

function obj(v: unknown, field: string): Obj {
  if (!isPlainObject(v)) throw invalid(field, 'an object', v);
  return v;
}

function name(v: unknown, field: string): string {
  return checkString(v, field, NAME_RE, NAME_EXPECTED);
}

function identity(v: unknown, field: string): number {
  return checkInt(v, field, 1, IDENTITY_MAX);
}

/** Exactly one IPv4 or IPv6 address. */
function ip(v: unknown, field: string): string {
  if (typeof v !== 'string' || parseIp(v) === undefined)
    throw invalid(field, 'one IPv4 or IPv6 address', v);
  return v;
}

/** A cidr entry's range: an address, a prefix, or `lo-hi` of one family. */
function range(v: unknown, field: string): void {
  const what = 'an address, a prefix or a range lo-hi';
  if (typeof v !== 'string') throw invalid(field, what, v);
  const dash = v.indexOf('-');
  if (dash < 0) {
    if (parsePrefix(v) === undefined) throw invalid(field, what, v);
    return;
  }
  const lo = parseIp(v.slice(0, dash));
  const hi = parseIp(v.slice(dash + 1));
  if (!lo || !hi || lo.family !== hi.family || lo.value > hi.value) throw invalid(field, what, v);
}

function ports(v: unknown, field: string): PortRange {
  if (!Array.isArray(v) || v.length !== 2) throw invalid(field, 'a port range [lo, hi]', v);
  const lo = checkInt(v[0], indexField(field, 0), 0, 65535);
  const hi = checkInt(v[1], indexField(field, 1), lo, 65535);
  return [lo, hi];
}

function each(v: unknown, field: string, what: string, check: (x: Obj, f: string) => void): void {
  const list = checkArray(v, field, what);
  for (let i = 0; i < list.length; i++) {
    const f = indexField(field, i);
    check(obj(list[i], f), f);
  }
}

function optional(o: Obj, key: string, field: string, check: (v: unknown, f: string) => void) {
  if (o[key] !== undefined) check(o[key], joinField(field, key));
}

/** The fields both record forms share. */
function record(r: Obj, f: string): void {
  name(r.name, joinField(f, 'name'));
  identity(r.identity, joinField(f, 'identity'));
  const ips = checkArray(r.ips, joinField(f, 'ips'), 'addresses');
  ips.forEach((x, i) => ip(x, indexField(joinField(f, 'ips'), i)));
  checkString(r.mac, joinField(f, 'mac'), MAC_RE, 'a MAC address (or empty)');
  name(r.subnet, joinField(f, 'subnet'));
  optional(r, 'vni', f, (v, g) => checkInt(v, g, 1, 16_777_215));
}

function local(r: Obj, f: string): void {
  record(r, f);
  if (typeof r.cidr !== 'string' || (r.cidr !== '' && parsePrefix(r.cidr) === undefined))
    throw invalid(joinField(f, 'cidr'), 'a prefix (or empty)', r.cidr);
  name(r.instance, joinField(f, 'instance'));
  optional(r, 'netns', f, (v, g) =>
    checkString(v, g, NETNS_RE, 'a network namespace name ([A-Za-z0-9._-], no "/")'),
  );
}

function remote(r: Obj, f: string): void {
  record(r, f);
  checkString(r.host, joinField(f, 'host'), HOST_RE, HOST_EXPECTED);
  // The VXLAN destination in `bridge fdb … dst UNDERLAY`: the injection this guards.
  optional(r, 'underlay', f, ip);
}

function entry(e: Obj, f: string): void {
  checkEnum(e.proto, joinField(f, 'proto'), PROTOCOLS);
  ports(e.ports, joinField(f, 'ports'));
  name(e.policy, joinField(f, 'policy'));
}

function sideEntry(e: Obj, f: string): void {
  entry(e, f);
  checkEnum(e.verdict, joinField(f, 'verdict'), VERDICTS);
  checkString(e.rule, joinField(f, 'rule'), RULE_RE, 'a rule label like egress[0]');
}

function routeEntry(e: Obj, f: string): void {
  entry(e, f);
  checkInt(e.steer, joinField(f, 'steer'), 0, STEER_CLASS_LAST);
  checkString(e.route, joinField(f, 'route'), ROUTE_RE, 'a route label like routes[0]');
}

/** cidr, peers and any lists of verdict or route entries. */
function lookup(o: Obj, f: string, check: (e: Obj, g: string) => void): void {
  each(o.cidr, joinField(f, 'cidr'), 'entries', (e, g) => {
    check(e, g);
    range(e.range, joinField(g, 'range'));
  });
  each(o.peers, joinField(f, 'peers'), 'entries', (e, g) => {
    check(e, g);
    identity(e.peer, joinField(g, 'peer'));
  });
  each(o.any, joinField(f, 'any'), 'entries', check);
}

function side(sideObject: Obj, f: string): void {
  identity(sideObject.identity, joinField(f, 'identity'));
  checkEnum(sideObject.direction, joinField(f, 'direction'), DIRECTIONS);
  lookup(sideObject, f, sideEntry);
  optional(sideObject, 'routes', f, (v, g) => lookup(obj(v, g), g, routeEntry));
}

const LISTS = ['cidr', 'peers', 'any'] as const;

/**
 * A side that replaces `before` (a side of the last checked state with the same identity
 * and direction): the entries outside the changed stretch of each list equal checked
 * ones field by field (list-window.ts), so only the stretch is checked.
 */
function changedSide(sideObject: Obj, f: string, before: SideState): void {
  for (const list of LISTS) {
    const g = joinField(f, list);
    const entries = checkArray(sideObject[list], g, 'entries');
    const { start, afterEnd } = sideListWindow(before[list], entries);
    for (let i = start; i < afterEnd; i++) {
      const h = indexField(g, i);
      const e = obj(entries[i], h);
      sideEntry(e, h);
      if (list === 'cidr') range(e.range, joinField(h, 'range'));
      if (list === 'peers') identity(e.peer, joinField(h, 'peer'));
    }
  }
  optional(sideObject, 'routes', f, (v, g) => lookup(obj(v, g), g, routeEntry));
}

/** The sides; with the last checked state, a side it holds unchanged is not checked again. */
function sides(v: unknown, f: string, previous: HostState | undefined): void {
  const before = new Map(previous?.sides.map((x) => [`${x.identity}/${x.direction}`, x]));
  const list = checkArray(v, f, 'sides');
  for (let i = 0; i < list.length; i++) {
    const g = indexField(f, i);
    const sideObject = obj(list[i], g);
    identity(sideObject.identity, joinField(g, 'identity'));
    checkEnum(sideObject.direction, joinField(g, 'direction'), DIRECTIONS);
    const was = before.get(`${sideObject.identity as number}/${sideObject.direction as string}`);
    if (was === undefined) side(sideObject, g);
    else if (was !== (sideObject as unknown)) changedSide(sideObject, g, was);
  }
}

function defaults(d: Obj, f: string): void {
  identity(d.identity, joinField(f, 'identity'));
  checkEnum(d.other, joinField(f, 'other'), DEFAULT_VERDICTS);
  each(d.peers, joinField(f, 'peers'), 'peers', (p, g) => {
    identity(p.peer, joinField(g, 'peer'));
    checkEnum(p.verdict, joinField(g, 'verdict'), DEFAULT_VERDICTS);
  });
}

/**
 * Checks a HostState received from a manager; returns it typed, or throws a
 * VNP_ERR_VALIDATION naming the first bad field (`state.remotes[3].underlay: expected
 * one IPv4 or IPv6 address, found "10.0.0.1 self\nlink…"`).
 *
 * With `previous` (the last state that passed), what the new state holds unchanged —
 * the same lists (a folded delta keeps them), entries equal to checked ones — is not
 * checked again: a one-entry change costs the comparison, not the check of the state.
 *
 * @example checkHostState(JSON.parse(line).state) // the state, unchanged
 * @example checkHostState(folded, 'state', applied) // only what the delta changed
 */
export function checkHostState(v: unknown, field = 'state', previous?: HostState): HostState {
  try {
    const stateObject = obj(v, field);
    checkString(stateObject.host, joinField(field, 'host'), HOST_RE, HOST_EXPECTED);
    checkInt(stateObject.revision, joinField(field, 'revision'), 0, Number.MAX_SAFE_INTEGER);
    const kept = (key: keyof HostState) =>
      previous !== undefined && stateObject[key] === previous[key];
    if (!kept('locals')) each(stateObject.locals, joinField(field, 'locals'), 'records', local);
    if (!kept('remotes')) each(stateObject.remotes, joinField(field, 'remotes'), 'records', remote);
    if (!kept('ipcache'))
      each(stateObject.ipcache, joinField(field, 'ipcache'), 'entries', (e, f) => {
        ip(e.ip, joinField(f, 'ip'));
        identity(e.identity, joinField(f, 'identity'));
      });
    if (!kept('sides')) sides(stateObject.sides, joinField(field, 'sides'), previous);
    if (!kept('defaults'))
      each(stateObject.defaults, joinField(field, 'defaults'), 'defaults', defaults);
    if (!kept('steering'))
      optional(stateObject, 'steering', field, (x, f) =>
        each(x, f, 'steer classes', (c, g) => {
          checkInt(c.class, joinField(g, 'class'), 2, STEER_CLASS_LAST);
          name(c.via, joinField(g, 'via'));
        }),
      );
    return v as HostState;
  } catch (err) {
    if (err instanceof VnpError) throw err;
    throw invalid(field, 'a host state', v);
  }
}
