// Every way a hostile or broken frame is refused: with a reason, never a throw.
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { decodeArp } from '../../../src/l2/arp.js';
import { icmpv6Checksum } from '../../../src/l2/checksum.js';
import { decodeEthernet, parseMac } from '../../../src/l2/ethernet.js';
import {
  canonicalIp,
  decodeNeighborFrame,
  decodeNdp,
  ipv6ToBytes,
  ipv6ToString,
  parseNeighborIp,
} from '../../../src/l2/ndp.js';
import { fixture } from './helpers.js';

function reasonOf(frame: Buffer): string {
  const decoded = decodeNeighborFrame(frame);
  return decoded.ok ? 'accepted' : decoded.reason;
}

function edit(name: string, change: (frame: Buffer) => void): Buffer {
  const frame = Buffer.from(fixture(name));
  change(frame);
  return frame;
}

/** Edits an ND frame, then fixes its checksum so only the edited rule can refuse it. */
function editNd(name: string, change: (frame: Buffer) => void): Buffer {
  const frame = edit(name, change);
  const length = frame.readUInt16BE(18);
  const message = frame.subarray(54, 54 + length);
  message.writeUInt16BE(0, 2);
  message.writeUInt16BE(icmpv6Checksum(frame.subarray(22, 38), frame.subarray(38, 54), message), 2);
  return frame;
}

describe('Ethernet', () => {
  it('refuses a frame shorter than the header', () => {
    expect(reasonOf(Buffer.alloc(13))).toMatch(/truncated Ethernet header/);
  });
  it('refuses a frame over 1514 bytes', () => {
    expect(reasonOf(Buffer.alloc(1515))).toMatch(/oversized frame/);
  });
  it('refuses EtherTypes other than ARP and IPv6', () => {
    expect(reasonOf(edit('arp-request', (f) => f.writeUInt16BE(0x0800, 12)))).toMatch(/EtherType 0x0800 is neither/);
  });
  it('decodeEthernet alone accepts any EtherType', () => {
    expect(decodeEthernet(Buffer.alloc(14)).ok).toBe(true);
  });
});

describe('ARP', () => {
  it('refuses a truncated packet', () => {
    expect(reasonOf(fixture('arp-request').subarray(0, 41))).toMatch(/truncated ARP packet: 27 bytes/);
  });
  it('accepts link padding up to a minimum frame', () => {
    expect(reasonOf(Buffer.concat([fixture('arp-request'), Buffer.alloc(18)]))).toBe('accepted');
    expect(reasonOf(Buffer.concat([fixture('arp-request'), Buffer.alloc(22)]))).toBe('accepted');
  });
  it('refuses bytes past the padding', () => {
    expect(reasonOf(Buffer.concat([fixture('arp-request'), Buffer.alloc(23)]))).toMatch(
      /oversized ARP frame: 65 bytes/,
    );
  });
  it('refuses a hardware type other than Ethernet', () => {
    expect(reasonOf(edit('arp-request', (f) => f.writeUInt16BE(6, 14)))).toMatch(/hardware type 6 is not Ethernet/);
  });
  it('refuses a protocol type other than IPv4', () => {
    expect(reasonOf(edit('arp-request', (f) => f.writeUInt16BE(0x86dd, 16)))).toMatch(
      /protocol type 0x86dd is not IPv4/,
    );
  });
  it('refuses a hardware length other than 6', () => {
    expect(reasonOf(edit('arp-request', (f) => (f[18] = 8)))).toMatch(/hardware length 8 is not 6/);
  });
  it('refuses a protocol length other than 4', () => {
    expect(reasonOf(edit('arp-request', (f) => (f[19] = 16)))).toMatch(/protocol length 16 is not 4/);
  });
  it.each([0, 3, 4, 8, 0xffff])('refuses operation %i', (op) => {
    expect(reasonOf(edit('arp-request', (f) => f.writeUInt16BE(op, 20)))).toBe(`unknown ARP operation ${op}`);
  });
  it('decodeArp alone refuses an empty payload', () => {
    expect(decodeArp(Buffer.alloc(0))).toEqual({ ok: false, reason: 'truncated ARP packet: 0 bytes < 28' });
  });
});

describe('IPv6 + ICMPv6 ND', () => {
  it('refuses a truncated IPv6 header', () => {
    expect(reasonOf(fixture('ns-multicast-ndisc6').subarray(0, 53))).toMatch(/truncated IPv6 header: 39 bytes/);
  });
  it('refuses an IP version other than 6', () => {
    expect(reasonOf(edit('ns-multicast-ndisc6', (f) => (f[14] = 0x40)))).toMatch(/IP version 4/);
  });
  it('refuses a payload length beyond the frame', () => {
    expect(reasonOf(edit('ns-multicast-ndisc6', (f) => f.writeUInt16BE(33, 18)))).toMatch(
      /truncated IPv6 packet: payload length 33, 32 bytes present/,
    );
  });
  it('refuses bytes after the packet in a full-size frame', () => {
    expect(reasonOf(Buffer.concat([fixture('ns-multicast-ndisc6'), Buffer.alloc(1)]))).toMatch(
      /oversized IPv6 frame: 1 bytes after the packet/,
    );
  });
  it('refuses extension headers and other protocols', () => {
    expect(reasonOf(edit('ns-multicast-ndisc6', (f) => (f[20] = 0)))).toMatch(/next header 0 is not ICMPv6/);
  });
  it.each([64, 254, 0])('refuses hop limit %i (RFC 4861: must be 255)', (hops) => {
    expect(reasonOf(edit('ns-multicast-ndisc6', (f) => (f[21] = hops)))).toBe(
      `ND hop limit ${hops} is not 255 (the message was forwarded)`,
    );
  });
  it('refuses a multicast source address', () => {
    expect(reasonOf(editNd('ns-multicast-ndisc6', (f) => (f[22] = 0xff)))).toMatch(/source is a multicast/);
  });
  it('refuses ICMPv6 types other than NS and NA', () => {
    expect(reasonOf(editNd('ns-multicast-ndisc6', (f) => (f[54] = 128)))).toMatch(/ICMPv6 type 128 is not NS/);
  });
  it('refuses a non-zero code', () => {
    expect(reasonOf(editNd('ns-multicast-ndisc6', (f) => (f[55] = 1)))).toBe('ND code 1 is not 0');
  });
  it('refuses a message shorter than 24 bytes', () => {
    const frame = editNd('ns-multicast-ndisc6', (f) => f.writeUInt16BE(20, 18));
    expect(reasonOf(frame.subarray(0, 74))).toMatch(/truncated ND message: 20 bytes < 24/);
    expect(reasonOf(edit('ns-multicast-ndisc6', (f) => f.writeUInt16BE(2, 18)).subarray(0, 56))).toMatch(
      /truncated ICMPv6 header: 2 bytes/,
    );
  });
  it('refuses a bad checksum', () => {
    expect(reasonOf(edit('ns-multicast-ndisc6', (f) => (f[57] ^= 1)))).toBe('bad ICMPv6 checksum');
    expect(reasonOf(edit('na-solicited-kernel', (f) => (f[70] ^= 0x80)))).toBe('bad ICMPv6 checksum');
  });
  it('refuses a multicast target', () => {
    expect(reasonOf(editNd('ns-multicast-ndisc6', (f) => (f[62] = 0xff)))).toBe('ND target is a multicast address');
  });
  it('refuses an option of length 0', () => {
    expect(reasonOf(editNd('ns-multicast-ndisc6', (f) => (f[79] = 0)))).toBe('ND option 1 has length 0');
  });
  it('refuses an option running past the message', () => {
    expect(reasonOf(editNd('ns-multicast-ndisc6', (f) => (f[79] = 2)))).toMatch(/ND option 1 of 16 bytes runs past/);
  });
  it('refuses a dangling option byte', () => {
    const frame = Buffer.concat([fixture('ns-multicast-ndisc6'), Buffer.alloc(1)]);
    expect(reasonOf(fixNd(frame, 33))).toMatch(/truncated ND option at byte 8/);
  });
  it('refuses a link-layer option that is not 8 bytes', () => {
    const frame = Buffer.concat([fixture('ns-multicast-ndisc6'), Buffer.alloc(8)]);
    frame[79] = 2;
    expect(reasonOf(fixNd(frame, 40))).toBe("link-layer address option of 16 bytes is not Ethernet's 8");
  });
  it('skips unknown options whatever their content', () => {
    const frame = Buffer.concat([fixture('ns-multicast-ndisc6'), Buffer.from([200, 1, 9, 9, 9, 9, 9, 9])]);
    expect(reasonOf(fixNd(frame, 40))).toBe('accepted');
  });
  it('refuses a DAD solicitation not sent to a solicited-node group', () => {
    expect(reasonOf(editNd('ns-dad-kernel', (f) => ipv6ToBytes('ff02::1').copy(f, 38)))).toMatch(
      /DAD solicitation .* not sent to a solicited-node group/,
    );
  });
  it('refuses a DAD solicitation with a source link-layer option', () => {
    // The kernel's nonce option (type 14) becomes an SLLA.
    expect(reasonOf(editNd('ns-dad-kernel', (f) => (f[78] = 1)))).toMatch(
      /DAD solicitation .* carries a source link-layer option/,
    );
  });
  it('refuses a solicited advertisement to a multicast address', () => {
    expect(reasonOf(editNd('na-unsolicited-kernel', (f) => (f[58] |= 0x40)))).toBe(
      'solicited advertisement sent to a multicast address',
    );
  });
  it('decodeNdp alone refuses an empty payload', () => {
    expect(decodeNdp(Buffer.alloc(0))).toEqual({ ok: false, reason: 'truncated IPv6 header: 0 bytes < 40' });
  });
});

/** Sets the IPv6 payload length to `length` and fixes the checksum. */
function fixNd(frame: Buffer, length: number): Buffer {
  frame.writeUInt16BE(length, 18);
  const message = frame.subarray(54, 54 + length);
  message.writeUInt16BE(0, 2);
  message.writeUInt16BE(icmpv6Checksum(frame.subarray(22, 38), frame.subarray(38, 54), message), 2);
  return frame;
}

describe('address and MAC text', () => {
  it.each(['', '1.2.3', '256.1.1.1', '01.2.3.4', 'fe80::1%eth0', '2001:db8::g', 'hello'])('refuses IP "%s"', (text) => {
    expect(() => parseNeighborIp(text)).toThrow(/not an (IPv6 |IP )?address/);
  });
  it('canonicalises IPv6 to RFC 5952 text', () => {
    expect(canonicalIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalIp('192.0.2.7')).toBe('192.0.2.7');
  });
  it.each(['', '02:00:00:00:0a', '02:00:00:00:0a:zz', '02:00-00:00:0a:01'])('refuses MAC "%s"', (text) => {
    expect(() => parseMac(text)).toThrow(/not a MAC address/);
  });
});

describe('IPv6 text', () => {
  it('formats like ipaddr.js (RFC 5952) for any address, zero runs favoured', () => {
    const word = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
        const bytes = Buffer.alloc(16);
        for (const [i, w] of words.entries()) bytes.writeUInt16BE(w, i * 2);
        expect(ipv6ToString(bytes)).toBe(ipaddr.fromByteArray([...bytes]).toString());
      }),
      { numRuns: 5000 },
    );
  });
  it.each([
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['2001:db8::1:0:0:1', '20010db8000000000001000000000001'],
    ['2001:0:0:1::1', '20010000000000010000000000000001'],
    ['2001:db8:0:1:1:1:1:1', '20010db8000000010001000100010001'],
  ])('formats %s', (text, hex) => {
    expect(ipv6ToString(Buffer.from(hex, 'hex'))).toBe(text);
  });
});
