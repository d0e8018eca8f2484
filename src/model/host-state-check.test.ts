/**
 * checkHostState: every state the engine sends passes (steering included), and every
 * string or number that reaches an agent command is refused when it is not what its
 * field says — naming the field.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../engine/index.js';
import { routePolicy, STEERING_DOCS } from '../../test/support/steering-docs.js';
import type { HostState } from './host-state.js';
import { checkHostState } from './host-state-check.js';

function engineState(): HostState {
  const engine = new Engine();
  engine.load(
    [
      ...STEERING_DOCS,
      { kind: 'Instance', name: 'i4', host: 'h4', netns: 'ns_4.a-b' },
      routePolicy('steer', 100, [{ to: { cidr: '10.0.0.0/28' }, via: 'fw-a' }], {
        egress: [{ action: 'log', to: { cidr: '10.0.0.0/30' }, ports: ['tcp/80-90'] }],
        ingress: [{ action: 'deny', from: { selector: 'app == "db"' } }],
      }),
    ],
    0,
  );
  const s = engine.hostState('h1', 7);
  // Remotes carry the underlay the manager knows (HostFeed fills it in).
  return { ...s, remotes: s.remotes.map((r) => ({ ...r, underlay: '2001:db8::2' })) };
}

/** A copy of `s` with `path` set to `value` (numbers index arrays). */
function poke(s: HostState, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(s) as unknown as Record<string | number, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path[path.length - 1]!] = value;
  return copy;
}

const INJECT = '10.0.0.1 self\nlink set dev eth0 down\n';

describe('checkHostState', () => {
  it('accepts what the engine sends, steering and logs included', () => {
    const s = engineState();
    expect(s.steering?.length).toBeGreaterThan(0);
    expect(s.sides.some((x) => x.routes && x.routes.cidr.length > 0)).toBe(true);
    expect(s.sides.some((x) => x.cidr.length > 0)).toBe(true);
    expect(s.remotes.length).toBeGreaterThan(0);
    expect(checkHostState(s)).toBe(s);
  });

  const s = engineState();
  const egress = s.sides.findIndex((x) => x.direction === 'egress' && x.routes);
  const cases: [string, (string | number)[], unknown, string][] = [
    ['an underlay with a command', ['remotes', 0, 'underlay'], INJECT, 'state.remotes[0].underlay'],
    ['an underlay prefix', ['remotes', 0, 'underlay'], '10.0.0.0/8', 'state.remotes[0].underlay'],
    ['a remote host with a newline', ['remotes', 0, 'host'], 'h2\nx', 'state.remotes[0].host'],
    ['a vni that is text', ['remotes', 0, 'vni'], '1 dev eth0', 'state.remotes[0].vni'],
    ['a vni out of range', ['remotes', 0, 'vni'], 2 ** 24, 'state.remotes[0].vni'],
    [
      'a record address with a space',
      ['remotes', 0, 'ips', 0],
      '10.0.0.3 x',
      'state.remotes[0].ips[0]',
    ],
    ['a MAC with a command', ['locals', 0, 'mac'], 'aa nud x', 'state.locals[0].mac'],
    ['a netns path', ['locals', 0, 'netns'], '../../etc', 'state.locals[0].netns'],
    ['a netns option', ['locals', 0, 'netns'], '-all', 'state.locals[0].netns'],
    ['an instance name with a slash', ['locals', 0, 'instance'], 'a/b', 'state.locals[0].instance'],
    ['a record name with a newline', ['locals', 0, 'name'], 'web\n', 'state.locals[0].name'],
    ['an ipcache address', ['ipcache', 0, 'ip'], '1e21', 'state.ipcache[0].ip'],
    ['an identity above 16 bits', ['ipcache', 0, 'identity'], 65536, 'state.ipcache[0].identity'],
    ['a huge revision', ['revision'], 1e21, 'state.revision'],
    [
      'a protocol that is a set',
      ['sides', egress, 'cidr', 0, 'proto'],
      '@x',
      `state.sides[${egress}].cidr[0].proto`,
    ],
    [
      'a range that is not one',
      ['sides', egress, 'cidr', 0, 'range'],
      '10.0.0.9-10.0.0.1',
      `state.sides[${egress}].cidr[0].range`,
    ],
    [
      'a policy name for a log prefix',
      ['sides', egress, 'cidr', 0, 'policy'],
      'p" ; x',
      `state.sides[${egress}].cidr[0].policy`,
    ],
    [
      'a rule label',
      ['sides', egress, 'cidr', 0, 'rule'],
      'egress[0] x',
      `state.sides[${egress}].cidr[0].rule`,
    ],
    [
      'ports reversed',
      ['sides', egress, 'cidr', 0, 'ports'],
      [90, 80],
      `state.sides[${egress}].cidr[0].ports[1]`,
    ],
    ['a steer class as text', ['steering', 0, 'class'], '2 table 1', 'state.steering[0].class'],
    ['a steer class out of range', ['steering', 0, 'class'], 256, 'state.steering[0].class'],
    [
      'a route steer out of range',
      ['sides', egress, 'routes', 'cidr', 0, 'steer'],
      300,
      `state.sides[${egress}].routes.cidr[0].steer`,
    ],
    ['a list that is not one', ['remotes'], 'x', 'state.remotes'],
  ];
  it.each(cases)('refuses %s, naming the field', (_what, path, value, field) => {
    let err: unknown;
    try {
      checkHostState(poke(s, path, value));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'VNP_ERR_VALIDATION', details: { field } });
  });

  // Against the last checked state only what changed is checked: every case is still
  // refused (the poked entry is in the changed stretch of its list).
  it.each(cases)('refuses %s against the last checked state too', (_what, path, value, field) => {
    let err: unknown;
    try {
      checkHostState(poke(s, path, value), 'state', s);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'VNP_ERR_VALIDATION', details: { field } });
  });

  it('refuses what is not a state at all', () => {
    for (const v of [null, 1, 'x', [], { host: 'h1' }])
      expect(() => checkHostState(v)).toThrow(/state/);
  });
});
