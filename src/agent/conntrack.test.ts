import { describe, expect, it } from 'vitest';
import type { HostState } from '../model/host-state.js';
import { parseConntrack, sweepQueries } from './conntrack.js';

describe('parseConntrack', () => {
  it('reads the original direction of tcp, udp and icmp entries', () => {
    const text = [
      'tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.1.2 sport=40000 dport=8080 src=10.0.1.2 dst=10.0.0.1 sport=8080 dport=40000 [ASSURED] mark=256 use=1',
      'udp      17 29 src=10.0.0.1 dst=10.0.0.53 sport=5353 dport=53 [UNREPLIED] src=10.0.0.53 dst=10.0.0.1 sport=53 dport=5353 mark=0 use=1',
      'icmp     1 29 src=10.0.0.1 dst=10.0.1.2 type=8 code=0 id=7 src=10.0.1.2 dst=10.0.0.1 type=0 code=0 id=7 mark=0 use=1',
      'conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.',
    ].join('\n');
    const entries = parseConntrack(text, 'ipv4');
    expect(entries.map((e) => [e.proto, e.src, e.dst, e.dport])).toEqual([
      ['tcp', '10.0.0.1', '10.0.1.2', 8080],
      ['udp', '10.0.0.1', '10.0.0.53', 53],
      ['icmp', '10.0.0.1', '10.0.1.2', undefined],
    ]);
    expect(entries.map((e) => e.state)).toEqual(['ESTABLISHED', undefined, undefined]);
    expect(entries[0]!.args).toEqual([
      '-f',
      'ipv4',
      '-p',
      'tcp',
      '-s',
      '10.0.0.1',
      '-d',
      '10.0.1.2',
      '--sport',
      '40000',
      '--dport',
      '8080',
    ]);
    expect(entries[2]!.args).toEqual([
      '-f',
      'ipv4',
      '-p',
      'icmp',
      '-s',
      '10.0.0.1',
      '-d',
      '10.0.1.2',
    ]);
  });
});

describe('sweepQueries', () => {
  const state = {
    host: 'h1',
    revision: 1,
    locals: [
      { name: 'a', identity: 256, ips: ['10.0.0.1', 'fd00::1'] },
      { name: 'd', identity: 259, ips: ['10.0.0.4'] },
    ],
    remotes: [],
    ipcache: [],
    sides: [],
    defaults: [],
  } as unknown as HostState;
  const none = { identities: [], localSenders: false, addresses: [], steerClasses: [] };
  const argv = (qs: ReturnType<typeof sweepQueries>) => qs.map((q) => [q.family, ...q.filter]);

  it('lists a tightened identity by its ct mark, in the families of its records', () => {
    expect(argv(sweepQueries(state, { ...none, identities: [259] }))).toEqual([
      ['ipv4', '--mark', String(0x56000103)],
    ]);
    expect(argv(sweepQueries(state, { ...none, identities: [256] }))).toEqual([
      ['ipv4', '--mark', String(0x56000100)],
      ['ipv6', '--mark', String(0x56000100)],
    ]);
  });

  it('adds the local senders and the steer classes only when an identity tightened', () => {
    expect(argv(sweepQueries(state, { ...none, localSenders: true, steerClasses: [2] }))).toEqual(
      [],
    );
    const qs = sweepQueries(state, {
      ...none,
      identities: [259],
      localSenders: true,
      steerClasses: [2],
    });
    expect(argv(qs)).toEqual([
      ['ipv4', '--mark', String(0x56000103)],
      ['ipv4', '--mark', String(0x56000100)],
      ['ipv6', '--mark', String(0x56000100)],
      ['ipv4', '--mark', String(0x56020002)],
      ['ipv6', '--mark', String(0x56020002)],
    ]);
  });

  it('lists the whole table once per family for changed addresses, kept to them', () => {
    const qs = sweepQueries(state, { ...none, addresses: ['10.0.9.1', '10.0.9.2', 'fd00::09'] });
    expect(qs.map((q) => [q.family, q.filter, [...(q.addresses ?? [])]])).toEqual([
      ['ipv4', [], ['10.0.9.1', '10.0.9.2']],
      ['ipv6', [], ['fd00::9']],
    ]);
    // An added allow entry (nothing tightened, no address): no conntrack call at all.
    expect(sweepQueries(state, none)).toEqual([]);
    // After a whole table: everything.
    expect(argv(sweepQueries(state))).toEqual([['ipv4'], ['ipv6']]);
  });
});
