/**
 * Deny samples from NFLOG (docs/adr/0028-deny-samples.md): the pcap stream
 * `tcpdump -i nflog:G -w -` writes (libpcap's NFLOG reader; link type 239,
 * DLT_NFLOG), cut into records, each the IP header of a denied packet → the tuple it
 * was judged on. Pure; fed chunk by chunk as the stream arrives.
 *
 * A DLT_NFLOG record: family (1 byte), version (1), resource id (2, big-endian), then
 * TLVs — length (2) and type (2) in host byte order (little-endian here), the value,
 * padding to 4 bytes; type 9 (NFULA_PAYLOAD) holds the packet from its IP header.
 */
import { formatIp } from '../../model/net.js';
import type { Protocol } from '../../model/types.js';
import type { FlowTuple } from './flow-builder.js';

const PCAP_HEADER = 24;
const RECORD_HEADER = 16;
const LINKTYPE_NFLOG = 239;
const NFULA_PAYLOAD = 9;
const PROTOS: Record<number, Protocol> = {
  6: 'tcp',
  17: 'udp',
  132: 'sctp',
  1: 'icmp',
  58: 'icmp',
};

/** Cuts a pcap byte stream into NFLOG samples. */
export class NflogStream {
  private pending: Buffer = Buffer.alloc(0);
  private headerSeen = false;
  private little = true;
  /** Records that were not an IPv4/IPv6 packet vnp judges (counted, skipped). */
  skipped = 0;

  /** Appends a chunk; returns the samples it completed. Throws on a stream that is not NFLOG pcap. */
  push(chunk: Buffer): FlowTuple[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: FlowTuple[] = [];
    let at = 0;
    if (!this.headerSeen) {
      if (this.pending.length < PCAP_HEADER) return out;
      this.readHeader(this.pending);
      at = PCAP_HEADER;
    }
    const b = this.pending;
    const u32 = (o: number) => (this.little ? b.readUInt32LE(o) : b.readUInt32BE(o));
    while (b.length - at >= RECORD_HEADER) {
      const len = u32(at + 8);
      if (b.length - at - RECORD_HEADER < len) break;
      const time = u32(at) * 1000 + Math.floor(u32(at + 4) / 1000);
      const t = sampleOf(b.subarray(at + RECORD_HEADER, at + RECORD_HEADER + len), time);
      if (t) out.push(t);
      else this.skipped++;
      at += RECORD_HEADER + len;
    }
    this.pending = b.subarray(at);
    return out;
  }

  private readHeader(b: Buffer): void {
    const magic = b.readUInt32LE(0);
    if (magic === 0xa1b2c3d4) this.little = true;
    else if (magic === 0xd4c3b2a1) this.little = false;
    else throw new Error(`not a pcap stream (magic 0x${magic.toString(16)})`);
    const link = this.little ? b.readUInt32LE(20) : b.readUInt32BE(20);
    if (link !== LINKTYPE_NFLOG) throw new Error(`pcap link type ${link}, want NFLOG (239)`);
    this.headerSeen = true;
  }
}

/** The tuple of one DLT_NFLOG record, or undefined when it holds no packet vnp judges. */
export function sampleOf(rec: Buffer, at: number): FlowTuple | undefined {
  for (let o = 4; o + 4 <= rec.length;) {
    const len = rec.readUInt16LE(o);
    const type = rec.readUInt16LE(o + 2) & 0x7fff;
    if (len < 4) return undefined;
    if (type === NFULA_PAYLOAD) return packetTuple(rec.subarray(o + 4, o + len), at);
    o += (len + 3) & ~3;
  }
  return undefined;
}

/**
 * The original-direction tuple of an IP packet (the first bytes suffice: headers only).
 *
 * @example packetTuple(ipv4TcpSyn, Date.now()) // {proto: 'tcp', src, dst, sport, dport, at}
 */
export function packetTuple(p: Buffer, at: number): FlowTuple | undefined {
  const version = p.length > 0 ? p[0]! >> 4 : 0;
  let proto: number;
  let l4: number;
  let src: string;
  let dst: string;
  if (version === 4 && p.length >= 20) {
    proto = p[9]!;
    l4 = (p[0]! & 0x0f) * 4;
    src = formatIp({ family: 4, value: BigInt(p.readUInt32BE(12)) });
    dst = formatIp({ family: 4, value: BigInt(p.readUInt32BE(16)) });
  } else if (version === 6 && p.length >= 40) {
    // Extension headers are not followed: vnp's tables judge the packet by l4proto,
    // which nft reads past them; a sample carrying one is skipped (rare for a SYN).
    proto = p[6]!;
    l4 = 40;
    src = formatIp({ family: 6, value: BigInt(`0x${p.subarray(8, 24).toString('hex')}`) });
    dst = formatIp({ family: 6, value: BigInt(`0x${p.subarray(24, 40).toString('hex')}`) });
  } else return undefined;
  const kind = PROTOS[proto];
  if (!kind || (proto === 1 && version !== 4) || (proto === 58 && version !== 6)) return undefined;
  if (p.length < l4 + 4) return undefined;
  if (kind === 'icmp') return { at, proto: kind, src, dst, icmpType: p[l4]!, icmpCode: p[l4 + 1]! };
  return { at, proto: kind, src, dst, sport: p.readUInt16BE(l4), dport: p.readUInt16BE(l4 + 2) };
}
