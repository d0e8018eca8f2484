import { describe, expect, it } from 'vitest';
import { hostStateOf, peerEntry } from '../../test/e2e/support/host-states.js';
import { FlowJudge, judgeFlow } from './evaluate.js';

const recs = [
  { name: 'a', identity: 256, ips: ['10.0.0.1'], host: 'h1' },
  { name: 'b', identity: 257, ips: ['10.0.0.2'], host: 'h2' },
  { name: 'c', identity: 258, ips: ['10.0.0.3'], host: 'h1' },
];

describe('judgeFlow', () => {
  const state = hostStateOf(
    'h1',
    1,
    recs,
    [
      {
        identity: 256,
        direction: 'egress',
        cidr: [
          {
            range: '10.0.0.0/30',
            proto: 'tcp',
            ports: [22, 22],
            verdict: 'deny',
            policy: 'p',
            rule: 'egress[0]',
          },
        ],
        peers: [peerEntry(257, 'tcp', 1, 1024, 'log'), peerEntry(258, 'icmp', 0, 0, 'allow')],
        any: [{ proto: 'udp', ports: [53, 53], verdict: 'allow', policy: 'p', rule: 'egress[2]' }],
      },
      { identity: 258, direction: 'ingress', cidr: [], peers: [], any: [] },
    ],
    [
      { identity: 256, other: 'deny', peers: [] },
      { identity: 258, other: 'deny', peers: [{ peer: 256, verdict: 'allow' }] },
    ],
  );

  it('follows cidr → peers → any → defaults, both sides on the host', () => {
    const f = (dst: string, proto: 'tcp' | 'udp' | 'icmp', port: number) =>
      judgeFlow(state, { src: '10.0.0.1', dst, proto, port });
    expect(f('10.0.0.2', 'tcp', 22)).toBe('deny'); // cidr beats the peer entry
    expect(f('10.0.0.2', 'tcp', 80)).toBe('allow'); // log allows
    expect(f('10.0.0.2', 'tcp', 2000)).toBe('deny'); // default
    expect(f('192.0.2.1', 'udp', 53)).toBe('allow'); // any, world peer
    expect(f('10.0.0.3', 'icmp', 0)).toBe('allow'); // egress peer icmp, ingress default peer allow
    expect(judgeFlow(state, { src: '10.0.0.2', dst: '10.0.0.9', proto: 'tcp', port: 1 })).toBe(
      'unrelated',
    );
  });

  it('knows remote records by their addresses, as the table does, without the ipcache', () => {
    const bare = { ...state, ipcache: [] };
    // b (257, on h2) is a remote record: a's egress to it on tcp/80 is the peer entry
    // (log, allowed), not world's default (deny).
    expect(judgeFlow(bare, { src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp', port: 80 })).toBe(
      'allow',
    );
    const judge = new FlowJudge(bare);
    expect(judge.judge({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp', port: 2000 })).toBe(
      'deny',
    );
    expect(judge.judge({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp', port: 22 })).toBe('deny');
  });
});
