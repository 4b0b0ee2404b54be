// The lab judges the wire through these readers, so they are tested on their own.
import { describe, expect, it } from 'vitest';
import { parsePcap } from './pcap.js';
import { arpFrame, decodeFrame, ndpFrame, solicitedNode, multicastMacFor, canonicalIp } from './frames.js';

function pcapFile(
  littleEndian: boolean,
  nanos: boolean,
  records: Array<{ sec: number; frac: number; data: Buffer }>,
): Buffer {
  const header = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, at: number) => (littleEndian ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  w32(header, nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w32(header, 65535, 16);
  w32(header, 1, 20);
  const parts: Buffer[] = [header];
  for (const r of records) {
    const rec = Buffer.alloc(16);
    w32(rec, r.sec, 0);
    w32(rec, r.frac, 4);
    w32(rec, r.data.length, 8);
    w32(rec, r.data.length, 12);
    parts.push(rec, r.data);
  }
  return Buffer.concat(parts);
}

describe('parsePcap', () => {
  const a = Buffer.from('aabbccdd', 'hex');
  const b = Buffer.from('0102030405', 'hex');

  it('reads little- and big-endian files with micro- and nanosecond stamps', () => {
    for (const littleEndian of [true, false]) {
      const us = parsePcap(
        pcapFile(littleEndian, false, [
          { sec: 10, frac: 250, data: a },
          { sec: 11, frac: 0, data: b },
        ]),
      );
      expect(us.linkType).toBe(1);
      expect(us.records.map((r) => [r.timeUs, r.data.toString('hex')])).toEqual([
        [10_000_250, 'aabbccdd'],
        [11_000_000, '0102030405'],
      ]);
      const ns = parsePcap(pcapFile(littleEndian, true, [{ sec: 10, frac: 250_000, data: a }]));
      expect(ns.records[0]!.timeUs).toBe(10_000_250);
    }
  });

  it('drops a record cut short at the end of the file', () => {
    const file = pcapFile(true, false, [
      { sec: 1, frac: 0, data: a },
      { sec: 2, frac: 0, data: b },
    ]);
    expect(parsePcap(file.subarray(0, file.length - 2)).records).toHaveLength(1);
  });

  it('rejects files that are not classic pcap, with the reason', () => {
    expect(() => parsePcap(Buffer.alloc(10))).toThrow(/too short/);
    expect(() => parsePcap(Buffer.from('0a0d0d0a' + '00'.repeat(20), 'hex'))).toThrow(
      /unknown magic 0xa0d0d0a \(pcapng is not supported\)/,
    );
  });
});

describe('lab frames', () => {
  it('round-trips an ARP frame', () => {
    const f = {
      ethSrc: '02:00:00:00:00:01',
      ethDst: 'ff:ff:ff:ff:ff:ff',
      op: 1,
      sha: '02:00:00:00:00:01',
      spa: '192.0.2.11',
      tha: '00:00:00:00:00:00',
      tpa: '192.0.2.200',
    };
    expect(decodeFrame(arpFrame(f))).toEqual({ kind: 'arp', ...f });
  });

  it('round-trips an NA with Target LLA and decodes the flags', () => {
    const f = {
      kind: 'na' as const,
      ethSrc: '02:00:00:00:00:02',
      ethDst: '33:33:00:00:00:01',
      srcIp: '2001:db8::200',
      dstIp: 'ff02::1',
      target: '2001:db8::200',
      router: false,
      solicited: false,
      override: true,
      targetLla: '02:00:00:00:00:02',
    };
    expect(decodeFrame(ndpFrame(f))).toEqual({ ...f, hopLimit: 255 });
  });

  it('writes a correct ICMPv6 checksum (the sum over pseudo-header and message folds to 0xffff)', () => {
    const frame = ndpFrame({
      kind: 'ns',
      ethSrc: '02:00:00:00:00:03',
      ethDst: '33:33:ff:00:02:00',
      srcIp: '2001:db8::100',
      dstIp: 'ff02::1:ff00:200',
      target: '2001:db8::200',
      router: false,
      solicited: false,
      override: false,
      sourceLla: '02:00:00:00:00:03',
    });
    const body = frame.subarray(54);
    const pseudo = Buffer.alloc(40);
    frame.copy(pseudo, 0, 22, 54);
    pseudo.writeUInt32BE(body.length, 32);
    pseudo[39] = 58;
    const all = Buffer.concat([pseudo, body]);
    let sum = 0;
    for (let i = 0; i < all.length; i += 2) sum += all.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    expect(sum).toBe(0xffff);
  });

  it('maps an address to its solicited-node group and multicast MAC', () => {
    expect(solicitedNode('2001:db8::1:2345:6789')).toBe('ff02::1:ff45:6789');
    expect(multicastMacFor('ff02::1:ff45:6789')).toBe('33:33:ff:45:67:89');
    expect(canonicalIp('2001:0db8:0::0200')).toBe('2001:db8::200');
  });

  it('ignores frames that are neither ARP nor NS/NA', () => {
    expect(decodeFrame(Buffer.alloc(10))).toBeUndefined();
    const ipv4 = Buffer.alloc(60);
    ipv4.writeUInt16BE(0x0800, 12);
    expect(decodeFrame(ipv4)).toBeUndefined();
  });
});
