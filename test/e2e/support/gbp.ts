/**
 * Decoding VXLAN-GBP packets from a pcap (libpcap format, Ethernet link type):
 * the Group Policy ID in the VXLAN header and the inner packet's addresses.
 *
 * VXLAN-GBP header (draft-smith-vxlan-group-policy):
 *   byte 0: G(0x80) R R R I(0x08) R R R; byte 1: R D(0x40) R R A(0x08) R R R;
 *   bytes 2-3: Group Policy ID; bytes 4-6: VNI; byte 7: reserved.
 */

/** One decoded VXLAN packet. */
export interface VxlanPacket {
  gbp: boolean;
  groupPolicyId: number;
  /** The underlay addresses. */
  outerSrc: string;
  outerDst: string;
  vni: number;
  /** The inner Ethernet source MAC. */
  innerEthSrc?: string;
  innerSrc?: string;
  innerDst?: string;
  innerProto?: number;
}

function ipv4(b: Buffer, at: number): string {
  return [0, 1, 2, 3].map((i) => b[at + i]).join('.');
}

/**
 * All VXLAN packets (UDP port 4789 over IPv4) of a pcap file's bytes.
 *
 * @example decodeVxlanPcap(readFileSync('/tmp/x.pcap'))[0].groupPolicyId // 256
 */
export function decodeVxlanPcap(pcap: Buffer): VxlanPacket[] {
  const magic = pcap.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const u32 = (at: number) => (le ? pcap.readUInt32LE(at) : pcap.readUInt32BE(at));
  const out: VxlanPacket[] = [];
  for (let off = 24; off + 16 <= pcap.length;) {
    const capLen = u32(off + 8);
    const pkt = pcap.subarray(off + 16, off + 16 + capLen);
    off += 16 + capLen;
    if (pkt.length < 14 + 20 + 8 + 8 || pkt.readUInt16BE(12) !== 0x0800) continue;
    const ihl = (pkt[14]! & 0x0f) * 4;
    if (pkt[14 + 9] !== 17) continue;
    const udp = 14 + ihl;
    if (pkt.readUInt16BE(udp + 2) !== 4789) continue;
    const vx = udp + 8;
    const flags = pkt[vx]!;
    const p: VxlanPacket = {
      gbp: (flags & 0x80) !== 0,
      outerSrc: ipv4(pkt, 14 + 12),
      outerDst: ipv4(pkt, 14 + 16),
      groupPolicyId: pkt.readUInt16BE(vx + 2),
      vni: pkt.readUIntBE(vx + 4, 3),
    };
    const inner = vx + 8;
    if (pkt.length >= inner + 14)
      p.innerEthSrc = [...pkt.subarray(inner + 6, inner + 12)]
        .map((x) => x.toString(16).padStart(2, '0'))
        .join(':');
    if (pkt.length >= inner + 14 + 20 && pkt.readUInt16BE(inner + 12) === 0x0800) {
      const ip = inner + 14;
      p.innerProto = pkt[ip + 9]!;
      p.innerSrc = ipv4(pkt, ip + 12);
      p.innerDst = ipv4(pkt, ip + 16);
    }
    out.push(p);
  }
  return out;
}
