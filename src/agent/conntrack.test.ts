import { describe, expect, it } from 'vitest';
import type { HostState } from '../model/host-state.js';
import { killDeniedFlows, parseConntrack, sweepQueries } from './conntrack.js';
import type { Exec } from './exec.js';

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
    expect(entries.map((e) => e.mark)).toEqual([256, 0, 0]);
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
      '--mark',
      '256',
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
      '--mark',
      '0',
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

  it('lists the vnp-marked connections once per family for changed addresses, kept to them', () => {
    const tagged = ['--mark', `${0x56000000}/${0xff000000}`];
    const qs = sweepQueries(state, { ...none, addresses: ['10.0.9.1', '10.0.9.2', 'fd00::09'] });
    expect(qs.map((q) => [q.family, q.filter, [...(q.addresses ?? [])]])).toEqual([
      ['ipv4', tagged, ['10.0.9.1', '10.0.9.2']],
      ['ipv6', tagged, ['fd00::9']],
    ]);
    // With identities tightened too, the family's listing stands for their mark queries.
    const both = sweepQueries(state, { ...none, identities: [256], addresses: ['10.0.9.1'] });
    expect(both.map((q) => [q.family, q.filter, [...(q.marks ?? [])]])).toEqual([
      ['ipv4', tagged, [0x56000100]],
      ['ipv6', ['--mark', String(0x56000100)], []],
    ]);
    // An added allow entry (nothing tightened, no address): no conntrack call at all.
    expect(sweepQueries(state, none)).toEqual([]);
    // After a whole table: everything.
    expect(argv(sweepQueries(state))).toEqual([['ipv4'], ['ipv6']]);
  });
});

describe('killDeniedFlows', () => {
  it('deletes denied connections that saw a reply, by their mark; unreplied and closed ones are left', async () => {
    const state = {
      host: 'h1',
      revision: 1,
      locals: [{ name: 'a', identity: 256, ips: ['10.0.0.1'] }],
      remotes: [],
      ipcache: [],
      sides: [],
      defaults: [{ identity: 256, other: 'deny', peers: [] }],
    } as unknown as HostState;
    const listing = [
      'tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.1.2 sport=40000 dport=8080 src=10.0.1.2 dst=10.0.0.1 sport=8080 dport=40000 [ASSURED] mark=1442840832 use=1',
      'tcp      6 119 SYN_SENT src=10.0.0.1 dst=10.0.1.2 sport=40001 dport=8080 [UNREPLIED] src=10.0.1.2 dst=10.0.0.1 sport=8080 dport=40001 mark=1442840832 use=1',
      'tcp      6 119 TIME_WAIT src=10.0.0.1 dst=10.0.1.2 sport=40002 dport=8080 src=10.0.1.2 dst=10.0.0.1 sport=8080 dport=40002 [ASSURED] mark=1442840832 use=1',
    ].join('\n');
    const calls: string[][] = [];
    const exec: Exec = async (argv) => {
      calls.push(argv);
      return { code: 0, stdout: argv[1] === '-L' && argv[3] === 'ipv4' ? listing : '', stderr: '' };
    };
    expect(await killDeniedFlows(exec, state)).toBe(1);
    expect(calls.filter((c) => c[1] === '-D')).toEqual([
      [
        'conntrack',
        '-D',
        ...['-f', 'ipv4', '-p', 'tcp', '-s', '10.0.0.1', '-d', '10.0.1.2'],
        ...['--sport', '40000', '--dport', '8080', '--mark', '1442840832'],
      ],
    ]);
  });
});
