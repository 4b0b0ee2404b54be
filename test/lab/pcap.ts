// A small reader for classic pcap files (what `tcpdump -w` writes), so tests
// judge what reached the wire without trusting any of our own code.

export interface PcapRecord {
  /** Capture time in microseconds since the epoch. */
  timeUs: number;
  /** The captured bytes (may be shorter than the frame with a snap length). */
  data: Buffer;
  /** The frame's length on the wire. */
  originalLength: number;
}

export interface Pcap {
  /** Link type: 1 = Ethernet. */
  linkType: number;
  records: PcapRecord[];
}

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;

export function parsePcap(file: Buffer): Pcap {
  if (file.length < 24) throw new Error(`pcap: file too short for the 24-byte header (${file.length} bytes)`);
  let littleEndian: boolean;
  let nanos: boolean;
  const magicLE = file.readUInt32LE(0);
  const magicBE = file.readUInt32BE(0);
  if (magicLE === MAGIC_US || magicLE === MAGIC_NS) {
    littleEndian = true;
    nanos = magicLE === MAGIC_NS;
  } else if (magicBE === MAGIC_US || magicBE === MAGIC_NS) {
    littleEndian = false;
    nanos = magicBE === MAGIC_NS;
  } else {
    throw new Error(`pcap: unknown magic 0x${magicBE.toString(16)} (pcapng is not supported)`);
  }
  const u32 = (at: number) => (littleEndian ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linkType = u32(20) & 0xffff;
  const records: PcapRecord[] = [];
  let at = 24;
  while (at + 16 <= file.length) {
    const sec = u32(at);
    const frac = u32(at + 4);
    const captured = u32(at + 8);
    const originalLength = u32(at + 12);
    // tcpdump -U flushes whole records, but a capture stopped mid-write can end short.
    if (at + 16 + captured > file.length) break;
    records.push({
      timeUs: sec * 1e6 + (nanos ? frac / 1000 : frac),
      data: Buffer.from(file.subarray(at + 16, at + 16 + captured)),
      originalLength,
    });
    at += 16 + captured;
  }
  return { linkType, records };
}
