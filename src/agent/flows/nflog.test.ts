import { describe, expect, it } from 'vitest';
import { NflogStream, packetTuple } from './nflog.js';

// Captured with `tcpdump -i nflog:7 -U -w -` in a namespace: a TCP SYN 127.0.0.1:59222 →
// 127.0.0.1:9 and its RST, logged by `log prefix "vnp" group 7`.
const CAPTURE = Buffer.from(
  'd4c3b2a102000400000000000000000000010000ef000000b02f166b9cd002006c0000006c00000002000007080001000800030008000a00766e7000080005000000000108000b000000000008000e0000000000400009004500003c971e40004006a59b7f0000017f000001e756000949d2e06b00000000a002ffd7fe3000000204ffd70402080a4bf0edc7000000000103030ab02f166bc3d00200480000004800000002000007080001000800030008000a00766e700008000500000000012c000900450000280000400040063cce7f0000017f0000010009e7560000000049d2e06c50140000a02f0000',
  'hex',
);

describe('NFLOG samples from a pcap stream', () => {
  it('reads each record’s packet tuple, also when the stream arrives in pieces', () => {
    const whole = new NflogStream().push(CAPTURE);
    expect(whole).toHaveLength(2);
    expect(whole[0]).toMatchObject({
      proto: 'tcp',
      src: '127.0.0.1',
      dst: '127.0.0.1',
      sport: 59222,
      dport: 9,
    });
    expect(whole[0]!.at).toBe(0x6b162fb0 * 1000 + Math.floor(0x2d09c / 1000));
    const s = new NflogStream();
    const pieces = [];
    for (let i = 0; i < CAPTURE.length; i += 7) pieces.push(...s.push(CAPTURE.subarray(i, i + 7)));
    expect(pieces).toEqual(whole);
  });

  it('refuses a stream that is not NFLOG pcap', () => {
    const eth = Buffer.from(CAPTURE.subarray(0, 24));
    eth.writeUInt32LE(1, 20);
    expect(() => new NflogStream().push(eth)).toThrow(/link type 1/);
    expect(() => new NflogStream().push(Buffer.alloc(24))).toThrow(/not a pcap/);
  });

  it('reads ICMP type/code, IPv6 UDP, and skips what vnp does not judge', () => {
    const icmp = Buffer.alloc(28);
    icmp.set([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1], 0);
    icmp.set([10, 0, 0, 1, 10, 0, 0, 2, 8, 0], 12);
    expect(packetTuple(icmp, 5)).toEqual({
      at: 5,
      proto: 'icmp',
      src: '10.0.0.1',
      dst: '10.0.0.2',
      icmpType: 8,
      icmpCode: 0,
    });
    const udp6 = Buffer.alloc(48);
    udp6[0] = 0x60;
    udp6[6] = 17;
    udp6.set([0x20, 0x01, 0x0d, 0xb8], 8);
    udp6[23] = 1;
    udp6.set([0x20, 0x01, 0x0d, 0xb8], 24);
    udp6[39] = 2;
    udp6.writeUInt16BE(5353, 40);
    udp6.writeUInt16BE(53, 42);
    expect(packetTuple(udp6, 0)).toMatchObject({
      proto: 'udp',
      src: '2001:db8::1',
      dst: '2001:db8::2',
      sport: 5353,
      dport: 53,
    });
    const gre = Buffer.from(icmp);
    gre[9] = 47;
    expect(packetTuple(gre, 0)).toBeUndefined();
    expect(packetTuple(Buffer.alloc(3), 0)).toBeUndefined();
  });
});
