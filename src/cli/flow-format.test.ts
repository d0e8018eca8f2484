import { describe, expect, it } from 'vitest';
import type { FlowRecord } from '../model/flow.js';
import { flowRow, formatBytes, formatDenied, samplingNote } from './flow-format.js';

const base: FlowRecord = {
  time: '2026-01-01T12:00:01.234Z',
  host: 'h1',
  src: { address: '2001:db8::5', port: 4000, identity: 1, partitions: [] },
  dst: { address: '10.0.0.7', record: 'db-1', identity: 301, partitions: [] },
  protocol: 'icmp',
  port: 8,
  code: 0,
  verdict: 'deny',
  ingress: { verdict: 'deny', default: 'deny' },
  state: 'new',
};

describe('flow table', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1500, '1.5 kB'],
    [12_345_678, '12 MB'],
  ])('formatBytes(%d) = %s', (n, text) => expect(formatBytes(n)).toBe(text));

  it('names outside addresses, icmp type/code, and a default as the decider', () => {
    expect(flowRow(base)).toEqual([
      '12:00:01.234',
      '[2001:db8::5]:4000 id:1',
      'db-1 (10.0.0.7) id:301',
      'icmp/8/0',
      'DENIED',
      'ingress default deny',
      'h1',
    ]);
    const closed = flowRow({
      ...base,
      protocol: 'tcp',
      verdict: 'allow',
      ingress: { verdict: 'allow', policy: 'p', rule: 'ingress[2]', logged: true },
      state: 'closed',
      packets: 3,
      bytes: 2048,
    });
    expect(closed[4]).toBe('CLOSED 3 pkts 2.0 kB');
    expect(closed[5]).toBe('ingress p/ingress[2] (log)');
  });

  it('adds a sampling note only when something is missing', () => {
    expect(samplingNote({ unsampled: 0, dropped: 0 })).toBeUndefined();
    expect(samplingNote({ sampled: 3, unsampled: 5, dropped: 2 })).toContain(
      '5 of 8 denied packets were not sampled',
    );
  });

  it('shows exact deny counts beside the samples, and says when samples were kept back', () => {
    expect(formatDenied([])).toBe('');
    const out = formatDenied([
      { policy: 'lockdown', rule: 'ingress[0]', packets: 3000, sampled: 61 },
      { policy: '', rule: 'default', packets: 4, sampled: 4 },
      { policy: 'ovs', rule: 'egress[1]', packets: 0, sampled: 9 },
    ]);
    expect(out).toMatch(/lockdown\/ingress\[0\]\s+3000\s+61/);
    expect(out).toMatch(/default\s+4\s+4/);
    expect(out).toMatch(/ovs\/egress\[1\]\s+-\s+9/);
    expect(out).toContain('note: 2939 of 3004 denied packets have no sample record');
  });
});
