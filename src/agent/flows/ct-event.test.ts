import { describe, expect, it } from 'vitest';
import { ctLineId, parseCtEntry, parseCtEvent } from './ct-event.js';

describe('conntrack output', () => {
  it('reads a NEW event: original tuple, mark, id, time', () => {
    expect(
      parseCtEvent(
        '[1796607334.768243]\t    [NEW] tcp      6 120 SYN_SENT src=10.0.0.5 dst=10.0.1.7 sport=40000 dport=22 [UNREPLIED] src=10.0.1.7 dst=10.0.0.5 sport=22 dport=40000 mark=1442840833 id=2821998908',
      ),
    ).toEqual({
      type: 'new',
      at: 1796607334768,
      proto: 'tcp',
      src: '10.0.0.5',
      dst: '10.0.1.7',
      sport: 40000,
      dport: 22,
      tcpState: 'SYN_SENT',
      mark: 1442840833,
      id: 2821998908,
    });
  });

  it('sums both directions of a DESTROY with accounting', () => {
    const e = parseCtEvent(
      '[1796607335.255098]\t[DESTROY] ipv4     2 tcp      6 119 TIME_WAIT src=127.0.0.1 dst=127.0.0.1 sport=35132 dport=5000 packets=7 bytes=100372 src=127.0.0.1 dst=127.0.0.1 sport=5000 dport=35132 packets=4 bytes=216 [ASSURED] mark=1442840833 id=2821998908 [USERSPACE] portid=3777180483',
    );
    expect(e).toMatchObject({ type: 'destroy', packets: 11, bytes: 100588, tcpState: 'TIME_WAIT' });
  });

  it('reads icmp type and code, icmpv6 as icmp, and a listing line', () => {
    expect(
      parseCtEvent(
        '[1.000001]\t[NEW] icmp     1 30 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=77 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=77 mark=5 id=9',
      ),
    ).toMatchObject({ proto: 'icmp', icmpType: 8, icmpCode: 0, id: 9 });
    expect(
      parseCtEntry(
        'icmpv6   58 29 src=2001:db8::1 dst=2001:db8::2 type=128 code=0 id=1 src=2001:db8::2 dst=2001:db8::1 type=129 code=0 id=1 mark=5 use=1 id=3',
      ),
    ).toMatchObject({ proto: 'icmp', icmpType: 128, src: '2001:db8::1' });
    expect(
      parseCtEntry(
        'tcp      6 1 TIME_WAIT src=10.0.0.5 dst=10.0.1.7 sport=1 dport=2 packets=7 bytes=700 src=10.0.1.7 dst=10.0.0.5 sport=2 dport=1 packets=4 bytes=216 [ASSURED] mark=1 use=1 id=42',
      ),
    ).toMatchObject({ id: 42, packets: 11, bytes: 916 });
  });

  it('ignores other lines and protocols', () => {
    expect(
      parseCtEvent('conntrack v1.4.7 (conntrack-tools): 2 flow events have been shown.'),
    ).toBeUndefined();
    expect(
      parseCtEvent('[1.5]\t[NEW] gre 47 30 src=1.1.1.1 dst=2.2.2.2 srckey=0x0 mark=1 id=1'),
    ).toBeUndefined();
    expect(parseCtEntry('')).toBeUndefined();
  });
});

describe('ctLineId', () => {
  it('reads the id of a listing or event line without parsing the rest', () => {
    expect(
      ctLineId(
        'tcp      6 1 CLOSE src=10.0.0.5 dst=10.0.1.7 sport=40000 dport=22 packets=3 bytes=180 src=10.0.1.7 dst=10.0.0.5 sport=22 dport=40000 packets=2 bytes=120 mark=1442840833 use=1 id=2821998908',
      ),
    ).toBe(2821998908);
    expect(ctLineId('[1.5]\t [UPDATE] tcp 6 60 SYN_RECV src=10.0.0.1 id=7\n')).toBe(7);
    expect(ctLineId('conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.')).toBe(
      undefined,
    );
    expect(ctLineId('tcp 6 1 CLOSE src=10.0.0.1 id=x')).toBe(undefined);
  });
});
