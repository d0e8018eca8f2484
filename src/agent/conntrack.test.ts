import { describe, expect, it } from 'vitest';
import { parseConntrack } from './conntrack.js';

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
