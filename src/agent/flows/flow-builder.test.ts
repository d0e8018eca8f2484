import { describe, expect, it } from 'vitest';
import type { HostState } from '../../model/host-state.js';
import { FlowBuilder } from './flow-builder.js';

// h1 holds web (256); db (257) is remote. web's egress: db tcp/5432 allowed by
// policy p egress[0], anything to 10.9.0.0/16 denied by q egress[1]; default deny.
const state: HostState = {
  host: 'h1',
  revision: 3,
  locals: [
    {
      name: 'web',
      identity: 256,
      ips: ['10.0.0.5'],
      mac: '02:00:00:00:00:05',
      subnet: 'net',
      cidr: '10.0.0.0/24',
      instance: 'vm',
    },
  ],
  remotes: [
    {
      name: 'db',
      identity: 257,
      ips: ['10.0.0.7'],
      mac: '02:00:00:00:00:07',
      subnet: 'net',
      host: 'h2',
    },
  ],
  ipcache: [
    { ip: '10.0.0.5', identity: 256 },
    { ip: '10.0.0.7', identity: 257 },
  ],
  sides: [
    {
      identity: 256,
      direction: 'egress',
      cidr: [
        {
          range: '10.9.0.0/16',
          proto: 'tcp',
          ports: [0, 65535],
          verdict: 'deny',
          policy: 'q',
          rule: 'egress[1]',
        },
      ],
      peers: [
        {
          peer: 257,
          proto: 'tcp',
          ports: [5432, 5432],
          verdict: 'allow',
          policy: 'p',
          rule: 'egress[0]',
        },
      ],
      any: [],
    },
  ],
  defaults: [{ identity: 256, other: 'deny', peers: [] }],
};

describe('flow records from the enforced state', () => {
  const b = new FlowBuilder(state);
  const at = Date.UTC(2026, 0, 1);

  it('names the deciding entry of the sides this host enforces', () => {
    expect(
      b.build(
        { at, proto: 'tcp', src: '10.0.0.5', dst: '10.0.0.7', sport: 40000, dport: 5432 },
        'new',
      ),
    ).toEqual({
      time: '2026-01-01T00:00:00.000Z',
      host: 'h1',
      src: { address: '10.0.0.5', port: 40000, record: 'web', identity: 256, partitions: [] },
      dst: { address: '10.0.0.7', port: 5432, record: 'db', identity: 257, partitions: [] },
      protocol: 'tcp',
      port: 5432,
      verdict: 'allow',
      egress: { verdict: 'allow', policy: 'p', rule: 'egress[0]' },
      state: 'new',
    });
  });

  it('names a CIDR rule, the default, icmp type/code; skips flows of no local record', () => {
    expect(
      b.build({ at, proto: 'tcp', src: '10.0.0.5', dst: '10.9.1.1', sport: 1, dport: 80 }, 'new'),
    ).toMatchObject({
      verdict: 'deny',
      dst: { identity: 1 },
      egress: { verdict: 'deny', policy: 'q', rule: 'egress[1]' },
    });
    expect(
      b.build(
        { at, proto: 'icmp', src: '10.0.0.5', dst: '10.0.0.7', icmpType: 8, icmpCode: 0 },
        'new',
      ),
    ).toMatchObject({
      port: 8,
      code: 0,
      verdict: 'deny',
      egress: { verdict: 'deny', default: 'deny' },
    });
    expect(
      b.build({ at, proto: 'udp', src: '10.0.0.7', dst: '10.0.0.8', sport: 1, dport: 53 }, 'new'),
    ).toBeUndefined();
  });
});
