/**
 * Steering in the table and the link plan (pure): which classes are active on
 * a host, the per-source steer maps and their values, the per-class chains, the
 * transit sets of a local via record, the policy routing wanted, and deltas.
 */
import { describe, expect, it } from 'vitest';
import type { SteeringEntries } from '../../model/host-state.js';
import { routes, steerState as state } from '../../../test/e2e/support/steer-state.js';
import { desiredLinks } from '../link/desired.js';
import { vethName } from '../names.js';
import { activeSteering } from '../steering.js';
import { buildTable } from './build-table.js';
import type { SetDecl } from './table.js';
import { renderDelta } from './render.js';
import { steerCtMark } from './steer-maps.js';

/** The slot of src's identity 256 (local-slots.ts): its steer chain and maps are named by it. */
const SRC = `st-${vethName('src')}`;

const elems = (set: SetDecl | undefined) => [...(set?.elems.values() ?? [])];

describe('steering (pure)', () => {
  it('activates the classes this host uses or hosts, with a reachable via record', () => {
    const a = activeSteering(state(routes));
    expect([...a.keys()]).toEqual([2, 4]);
    expect(a.get(2)).toMatchObject({ via: 'fw', local: false, dev: 'vnpvx1' });
    expect(a.get(4)).toMatchObject({ via: 'fwl', local: true, dev: vethName('fwl') });
    // The via host activates its local via record's class with no local sources.
    const h2 = activeSteering(state(undefined, 'h2'));
    expect([...h2.keys()]).toEqual([2]);
    expect(h2.get(2)).toMatchObject({ local: true, arrival: 'vnpvx1' });
  });

  it('renders steer maps: active classes goto their chain, inert ones return', () => {
    const m = buildTable(state(routes));
    expect(elems(m.sets.get(`${SRC}-p`))).toEqual([
      [{ concat: [257, 'tcp', { range: [8080, 8080] }] }, { goto: { target: 'steer-2' } }],
    ]);
    expect(elems(m.sets.get(`${SRC}-pi`))).toEqual([[257, { goto: { target: 'steer-2' } }]]);
    expect(elems(m.sets.get(`${SRC}-c4`))).toEqual([
      [
        { concat: [{ range: ['192.0.2.0', '192.0.2.255'] }, 'udp', { range: [53, 53] }] },
        { return: null },
      ],
    ]);
    expect(elems(m.sets.get(`${SRC}-a`))).toEqual([
      [{ concat: ['tcp', { range: [9000, 9999] }] }, { goto: { target: 'steer-4' } }],
    ]);
    expect(elems(m.sets.get('steer-dispatch'))).toEqual([
      [vethName('src'), { jump: { target: `${SRC}` } }],
    ]);
    expect(m.chains.has('steer-3')).toBe(false);
    expect(m.chains.get('steer-2')!.rules).toEqual([
      [
        {
          match: {
            op: '==',
            left: { payload: { protocol: 'ip', field: 'daddr' } },
            right: { set: ['10.0.0.10'] },
          },
        },
        { return: null },
      ],
      [
        {
          match: {
            op: '==',
            left: { payload: { protocol: 'ip6', field: 'daddr' } },
            right: { set: ['fd00::10'] },
          },
        },
        { return: null },
      ],
      [{ mangle: { key: { ct: { key: 'mark' } }, value: steerCtMark(2) } }],
      [{ mangle: { key: { meta: { key: 'mark' } }, value: steerCtMark(2) } }, { accept: null }],
    ]);
    expect(steerCtMark(2)).toBe(0x56020002);
    // A local via record: its veth is a transit source and a steered destination.
    expect(elems(m.sets.get('via-ifs'))).toEqual([vethName('fwl')]);
    expect(elems(m.sets.get('steer-via'))).toEqual([{ concat: [4, vethName('fwl')] }]);
    expect(m.chains.get('steer-4')!.rules).toContainEqual([
      { match: { op: '==', left: { meta: { key: 'iifname' } }, right: vethName('fwl') } },
      { return: null },
    ]);
    // fwl has no IPv6 address: IPv6 packets are not steered through it.
    expect(m.chains.get('steer-4')!.rules).toContainEqual([
      { match: { op: '==', left: { meta: { key: 'nfproto' } }, right: 'ipv6' } },
      { return: null },
    ]);
  });

  it('costs nothing on a host without steering: base chains only where needed', () => {
    const chains = (h: string, r?: SteeringEntries) => {
      const m = buildTable(state(r, h));
      return ['pre-steer', 'transit', 'from-via'].filter((c) => m.chains.has(c));
    };
    expect(chains('h3')).toEqual([]);
    expect(chains('h2')).toEqual(['transit', 'from-via']);
    expect(chains('h1', routes)).toEqual(['pre-steer', 'transit', 'from-via']);
    const plain = JSON.stringify(buildTable(state(undefined, 'h3')).chains.get('forward'));
    expect(plain).not.toContain('via-ifs');
    expect(plain).not.toContain('steer-via');
  });

  it('plans policy routing per active class and family', () => {
    const d = desiredLinks(state(routes));
    expect(d.steer).toEqual([
      {
        class: 2,
        table: 7302,
        rules: [{ mark: 0x56020002, mask: 0xffffffff }],
        routes: [
          { family: 4, via: '10.0.0.10', dev: 'vnpvx1' },
          { family: 6, via: 'fd00::10', dev: 'vnpvx1' },
        ],
      },
      {
        class: 4,
        table: 7304,
        rules: [
          { mark: 0x56040004, mask: 0xffffffff },
          { mark: 4, mask: 0xffff, iif: 'vnpvx1' },
        ],
        routes: [{ family: 4, via: '10.0.0.11', dev: vethName('fwl') }],
        localVeth: vethName('fwl'),
      },
    ]);
    expect(desiredLinks(state(undefined, 'h3')).steer).toEqual([]);
  });

  it('a route change is an element delta; removing all routes replaces the table', () => {
    const a = state(routes);
    const b = state({ ...routes, any: [] }, 'h1', 2);
    const delta = JSON.stringify(renderDelta(a, b));
    expect(delta).toContain('"delete"');
    expect(delta).not.toContain('"table":{');
    // The last route gone takes the prerouting base chain with it: one full replace.
    const text = JSON.stringify(renderDelta(a, state(undefined, 'h1', 3)));
    expect(text).toContain('{"delete":{"table"');
    expect(text).not.toContain(`${SRC}`);
    expect(buildTable(state(undefined)).chains.has(`${SRC}`)).toBe(false);
  });
});
