import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compareIP, formatIP, ipKey, isBuggyIPv4, mustParseIP, parseIP } from '../../../src/ip/address.js';

describe('parseIP', () => {
  test.each([
    ['192.0.2.1', 'IPv4', 0xc0000201n],
    ['0.0.0.0', 'IPv4', 0n],
    ['255.255.255.255', 'IPv4', 0xffffffffn],
    ['2001:db8::1', 'IPv6', 0x20010db8000000000000000000000001n],
    ['::', 'IPv6', 0n],
    ['2001:DB8::A', 'IPv6', 0x20010db800000000000000000000000an],
  ])('%s is %s %s', (text, family, value) => {
    expect(parseIP(text)).toEqual({ ok: true, ip: { family, value } });
  });

  test.each([
    ['', 'empty address'],
    ['1.2.3', '"1.2.3" is not a full IPv4 address (four decimal parts expected)'],
    ['10', '"10" is not a full IPv4 address (four decimal parts expected)'],
    ['01.2.3.4', '"01.2.3.4" is not an IPv4 or IPv6 address'],
    ['0x1.2.3.4', '"0x1.2.3.4" is not an IPv4 or IPv6 address'],
    ['256.1.1.1', '"256.1.1.1" is not an IPv4 or IPv6 address'],
    [' 192.0.2.1', '" 192.0.2.1" has surrounding whitespace'],
    ['::ffff:192.0.2.1', '"::ffff:192.0.2.1" is an IPv4-mapped IPv6 address; write the IPv4 address instead'],
    ['fe80::1%eth0', '"fe80::1%eth0" has a zone id, which has no meaning for a service address'],
    ['2001:db8::g', '"2001:db8::g" is not an IPv4 or IPv6 address'],
    ['hello', '"hello" is not an IPv4 or IPv6 address'],
  ])('%j is refused: %s', (text, error) => {
    expect(parseIP(text)).toEqual({ ok: false, error });
  });

  test('mustParseIP throws the parse error', () => {
    expect(() => mustParseIP('1.2.3')).toThrow('not a full IPv4 address');
  });
});

describe('formatIP', () => {
  test.each([
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
  ])('RFC 5952: %s -> %s', (input, output) => {
    expect(formatIP(mustParseIP(input))).toBe(output);
  });

  test('format then parse gives the same address, both families', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        (v4, v6) => {
          expect(mustParseIP(formatIP({ family: 'IPv4', value: v4 }))).toEqual({ family: 'IPv4', value: v4 });
          // IPv4-mapped addresses are refused by design; everything else round-trips.
          if (v6 >> 32n !== 0xffffn)
            expect(mustParseIP(formatIP({ family: 'IPv6', value: v6 }))).toEqual({ family: 'IPv6', value: v6 });
        },
      ),
    );
  });
});

describe('helpers', () => {
  test('ipKey separates families with the same number', () => {
    expect(ipKey({ family: 'IPv4', value: 1n })).not.toBe(ipKey({ family: 'IPv6', value: 1n }));
  });

  test('compareIP orders IPv4 before IPv6, then numerically', () => {
    const sorted = ['2001:db8::1', '192.0.2.10', '192.0.2.9', '::1'].map(mustParseIP).sort(compareIP).map(formatIP);
    expect(sorted).toEqual(['192.0.2.9', '192.0.2.10', '::1', '2001:db8::1']);
  });

  test('isBuggyIPv4 is true for .0 and .255 only', () => {
    expect([0, 1, 254, 255].map((last) => isBuggyIPv4(mustParseIP(`192.0.2.${last}`).value))).toEqual([
      true,
      false,
      false,
      true,
    ]);
  });
});
