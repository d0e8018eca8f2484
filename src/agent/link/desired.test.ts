import { describe, expect, it } from 'vitest';
import { hostStateOf } from '../../../test/e2e/support/host-states.js';
import { vethName, vtepMac, vxlanName } from '../names.js';
import { desiredLinks } from './desired.js';

describe('desiredLinks', () => {
  const recs = [
    { name: 'a', identity: 256, ips: ['10.0.0.1', 'fd00::1'], host: 'h1', netns: 'ns-a' },
    { name: 'b', identity: 257, ips: ['10.0.0.2'], host: 'h2', vni: 7 },
    { name: 'c', identity: 258, ips: ['10.0.0.3'], host: 'h3' },
  ];

  it('plans veths for locals, VXLAN devices per VNI, FDB/neighbour data for reachable remotes', () => {
    const d = desiredLinks(hostStateOf('h1', 1, recs, [], [], { h2: '192.0.2.2' }));
    expect(d.veths.map((v) => [v.name, v.netns, v.ips.map((i) => i.ip)])).toEqual([
      [vethName('a'), 'ns-a', ['10.0.0.1', 'fd00::1']],
    ]);
    expect(d.vxlans.map((v) => [v.name, v.mac])).toEqual([
      [vxlanName(1), vtepMac('h1', 1)],
      [vxlanName(7), vtepMac('h1', 7)],
    ]);
    expect(d.remotes).toEqual([
      {
        ip: '10.0.0.2',
        family: 4,
        dev: 'vnpvx7',
        vtepMac: vtepMac('h2', 7),
        underlay: '192.0.2.2',
      },
    ]);
    expect(d.unreachable).toEqual(['c']);
  });

  it('names are short enough for the kernel and stable', () => {
    expect(vethName('a-very-long-record-name-that-goes-on')).toHaveLength(15);
    expect(vethName('x')).toBe(vethName('x'));
    expect(vethName('x')).not.toBe(vethName('y'));
    expect(vtepMac('h1', 1)).toMatch(/^0a(:[0-9a-f]{2}){5}$/);
  });
});
