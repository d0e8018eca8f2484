/**
 * Steering in the OVS program (pure; docs/adr/0041-ovs-steering.md): the route entries
 * of a local source become flows of table 35 that set the steer class (or nothing for
 * an inert winner, which still shadows lower entries); table 55 sends a class to its
 * via record — beside the source through its port, on another host through the
 * tunnel with the class's source MAC — except to the via record's own addresses; a
 * local via record gets the arrival and transit flows; a state without steering has
 * none of it. And the netdev translation script both kinds install.
 */
import { describe, expect, it } from 'vitest';
import { vtepMac } from '../../src/agent/names.js';
import { ovsProgram, T, type OfFlow } from '../../src/agent/ovs/program.js';
import { retiredClasses, steeredLines, steerPaths } from '../../src/agent/ovs/steering.js';
import { steerMac, steerWireScript } from '../../src/agent/steer-wire.js';
import { routes, steerState } from '../e2e/support/steer-state.js';

const ports = {
  records: new Map([
    ['src', 1],
    ['fwl', 2],
  ]),
  tunnels: new Map([[1, 9]]),
};

const table = (m: Map<string, OfFlow>, t: number) => [...m.values()].filter((f) => f.table === t);

describe('OVS steering flows', () => {
  const program = ovsProgram(steerState(routes), ports);

  it('route entries set the active class, inert winners set none', () => {
    const steer = table(program, T.steer);
    const peer = steer.find((f) => f.match === 'reg0=256,tcp,reg1=257,tcp_dst=8080')!;
    expect(peer.actions).toBe(`set_field:2->reg6,goto_table:${T.ingress}`);
    // Class 3's via record has no known underlay: inert, but still the winner.
    const cidr = steer.find((f) => f.match === 'reg0=256,udp,nw_dst=192.0.2.0/24,udp_dst=53')!;
    expect(cidr.actions).toBe(`goto_table:${T.ingress}`);
    expect(cidr.priority).toBeGreaterThan(peer.priority);
    expect(steer.filter((f) => f.actions.includes('->reg6')).length).toBeGreaterThan(2);
  });

  it('table 55 leads to the via record, not for its own addresses or its own packets', () => {
    const out = table(program, T.steerOut);
    const remote = out.find((f) => f.match === 'reg6=2,ip')!;
    expect(remote.actions).toContain(`set_field:${steerMac(2)}->eth_src`);
    expect(remote.actions).toContain(`set_field:${vtepMac('h2', 1)}->eth_dst`);
    expect(remote.actions).toContain('set_field:9->reg3');
    expect(out.find((f) => f.match === 'reg6=2,ip,nw_dst=10.0.0.10')!.actions).toBe(
      `goto_table:${T.output}`,
    );
    expect(out.find((f) => f.match === 'reg6=4,ip')!.actions).toContain('set_field:2->reg3');
    expect(out.find((f) => f.match === 'reg6=4,in_port=2')!.actions).toBe(`goto_table:${T.output}`);
    // fwl has no IPv6 address: no next hop, IPv6 is not steered through it.
    expect(out.find((f) => f.match === 'reg6=4,ipv6')).toBeUndefined();
    // Inert and unused classes lead nowhere.
    expect(out.filter((f) => /reg6=[35],/.test(f.match))).toEqual([]);
  });

  it('a local via record takes steered arrivals and marks what it sends back as transit', () => {
    const classify = table(program, T.classify);
    expect(classify.find((f) => f.match === `in_port=9,ip,dl_src=${steerMac(4)}`)!.actions).toMatch(
      /output:2$/,
    );
    expect(classify.find((f) => f.match === 'in_port=2,ip' && f.priority === 105)!.actions).toBe(
      `set_field:4->reg2,goto_table:${T.srcIpcache}`,
    );
    expect(classify.find((f) => f.match === 'in_port=2,ip,nw_src=10.0.0.11')!.priority).toBe(110);
  });

  it('a state without steer classes has no steering flows but the two table defaults', () => {
    const plain = ovsProgram({ ...steerState(undefined), steering: [] }, ports);
    const steering = [...plain.values()].filter(
      (f) => f.table === T.steer || f.table === T.steerOut || /reg6|ct_label|dl_src/.test(f.match),
    );
    expect(steering.map((f) => `${f.table} ${f.match}`)).toEqual([`${T.steer} `, `${T.steerOut} `]);
  });

  it('the netdev translation: both directions per device, nothing without devices', () => {
    const script = steerWireScript(['vnpvx1', 'vnpvx7']);
    expect(script).toContain('type filter hook egress device "vnpvx1"');
    expect(script).toContain('meta mark 2-255 ether saddr set meta mark map @mac-of');
    expect(script).toContain(`255 : ${steerMac(255)}`);
    expect(steerWireScript([])).toBe('table netdev vnp-steer {}\ndelete table netdev vnp-steer\n');
  });

  it('a class renumbered to another via record or dropped is retired; its connections found by ct_label', () => {
    const before = steerPaths(steerState(routes), ports, 1);
    expect([...before.keys()].sort()).toEqual([2, 4]);
    const renumbered = {
      ...steerState(routes),
      steering: [
        { class: 2, via: 'fwl' },
        { class: 4, via: 'fwl' },
      ],
    };
    expect(retiredClasses(before, steerPaths(renumbered, ports, 1))).toEqual([2]);
    expect(retiredClasses(before, before)).toEqual([]);
    const dump = [
      'tcp,orig=(src=10.0.0.1,dst=10.0.0.3,sport=4000,dport=8080),reply=(src=10.0.0.3,dst=10.0.0.1,sport=8080,dport=4000),zone=7,mark=256,labels=0x2,protoinfo=(state=ESTABLISHED)',
      'tcp,orig=(src=10.0.0.1,dst=10.0.0.3,sport=4001,dport=8080),reply=(src=10.0.0.3,dst=10.0.0.1,sport=8080,dport=4001),zone=7,mark=256,labels=0x4,protoinfo=(state=ESTABLISHED)',
      'tcp,orig=(src=10.0.0.1,dst=10.0.0.3,sport=4002,dport=80),reply=(src=10.0.0.3,dst=10.0.0.1,sport=80,dport=4002),zone=7,mark=256,protoinfo=(state=ESTABLISHED)',
    ].join('\n');
    expect(steeredLines(dump, new Set([2])).map((l) => /sport=(\d+)/.exec(l)![1])).toEqual([
      '4000',
    ]);
  });
});
