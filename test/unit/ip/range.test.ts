import { describe, expect, test } from 'vitest';
import { mustParseIP } from '../../../src/ip/address.js';
import {
  findOverlap,
  formatRange,
  mergeRanges,
  parseAddressRange,
  rangeContains,
  rangeSize,
  type IPRange,
} from '../../../src/ip/range.js';

function range(text: string): IPRange {
  const result = parseAddressRange(text);
  if (!result.ok) throw new Error(result.error);
  return result.range;
}

describe('parseAddressRange', () => {
  test.each([
    ['192.0.2.0/24', 'IPv4', '192.0.2.0', '192.0.2.255'],
    ['192.0.2.7', 'IPv4', '192.0.2.7', '192.0.2.7'],
    ['192.0.2.7/32', 'IPv4', '192.0.2.7', '192.0.2.7'],
    ['192.0.2.10-192.0.2.20', 'IPv4', '192.0.2.10', '192.0.2.20'],
    ['192.0.2.10 - 192.0.2.20', 'IPv4', '192.0.2.10', '192.0.2.20'],
    ['192.0.2.10  -192.0.2.20', 'IPv4', '192.0.2.10', '192.0.2.20'],
    ['2001:db8::1 - 2001:db8::5', 'IPv6', '2001:db8::1', '2001:db8::5'],
    ['0.0.0.0/0', 'IPv4', '0.0.0.0', '255.255.255.255'],
    ['2001:db8::/64', 'IPv6', '2001:db8::', '2001:db8::ffff:ffff:ffff:ffff'],
    ['2001:db8::1-2001:db8::5', 'IPv6', '2001:db8::1', '2001:db8::5'],
  ])('%s', (text, family, start, end) => {
    expect(parseAddressRange(text)).toEqual({
      ok: true,
      range: { family, start: mustParseIP(start).value, end: mustParseIP(end).value },
    });
  });

  test.each([
    ['192.0.2.100/24', '192.0.2.0', '192.0.2.255', '192.0.2.100/24 taken as 192.0.2.0/24'],
    ['2001:db8::1/127', '2001:db8::', '2001:db8::1', '2001:db8::1/127 taken as 2001:db8::/127'],
    [' 192.0.2.5/31 ', '192.0.2.4', '192.0.2.5', '192.0.2.5/31 taken as 192.0.2.4/31'],
  ])('%j has host bits: masked as MetalLB does, and the masking is reported', (text, start, end, masked) => {
    const family = text.includes(':') ? 'IPv6' : 'IPv4';
    expect(parseAddressRange(text)).toEqual({
      ok: true,
      range: { family, start: mustParseIP(start).value, end: mustParseIP(end).value },
      masked,
    });
  });

  test.each([
    ['', 'empty address entry'],
    ['192.0.2.0/33', '"192.0.2.0/33": prefix length must be a number from 0 to 32'],
    ['2001:db8::/129', '"2001:db8::/129": prefix length must be a number from 0 to 128'],
    ['192.0.2.0/x', '"192.0.2.0/x": prefix length must be a number from 0 to 32'],
    ['192.0.2.0/24/8', '"192.0.2.0/24/8" has more than one "/"'],
    ['1.2.3/24', '"1.2.3/24": "1.2.3" is not a full IPv4 address (four decimal parts expected)'],
    ['10.0.0.5-10.0.0.1', '"10.0.0.5-10.0.0.1": range start is after end'],
    ['192.0.2.1-2001:db8::1', '"192.0.2.1-2001:db8::1": range mixes IPv4 and IPv6'],
    ['192.0.2.1-', '"192.0.2.1-": range end empty address'],
    [
      '192.0.2.1-192.0.2.2-192.0.2.3',
      '"192.0.2.1-192.0.2.2-192.0.2.3" is not a "start-end" range (exactly one "-" expected)',
    ],
    ['nonsense', '"nonsense" is not an IPv4 or IPv6 address'],
  ])('%j is refused', (text, error) => {
    expect(parseAddressRange(text)).toEqual({ ok: false, error });
  });
});

describe('range math', () => {
  test('sizes are exact BigInts', () => {
    expect(rangeSize(range('2001:db8::/64'))).toBe(1n << 64n);
    expect(rangeSize(range('192.0.2.0/24'))).toBe(256n);
    expect(rangeSize(range('192.0.2.9'))).toBe(1n);
  });

  test('contains respects family and bounds', () => {
    const r = range('192.0.2.0/24');
    expect(rangeContains(r, mustParseIP('192.0.2.255'))).toBe(true);
    expect(rangeContains(r, mustParseIP('192.0.3.0'))).toBe(false);
    expect(rangeContains(range('::/96'), mustParseIP('192.0.2.1'))).toBe(false);
  });

  test('merge joins overlapping and adjacent ranges of one family, keeps families apart', () => {
    const merged = mergeRanges([
      range('192.0.2.128/25'),
      range('2001:db8::/127'),
      range('192.0.2.0/25'),
      range('192.0.2.200-192.0.3.5'),
      range('2001:db8::2'),
    ]);
    expect(merged.map(formatRange)).toEqual(['192.0.2.0-192.0.3.5', '2001:db8::-2001:db8::2']);
  });

  test('findOverlap sees an overlap hidden behind a long range', () => {
    expect(findOverlap([range('192.0.2.0/24'), range('192.0.2.1'), range('192.0.2.5')])).toBeDefined();
    expect(
      findOverlap([range('192.0.2.1'), range('192.0.2.10-192.0.2.20'), range('192.0.2.15')])?.map(formatRange),
    ).toEqual(['192.0.2.10-192.0.2.20', '192.0.2.15']);
    expect(findOverlap([range('192.0.2.0/25'), range('192.0.2.128/25'), range('::/127')])).toBeUndefined();
  });

  test('formatRange prints a CIDR when exact', () => {
    expect(formatRange(range('192.0.2.0/26'))).toBe('192.0.2.0/26');
    expect(formatRange(range('192.0.2.1-192.0.2.4'))).toBe('192.0.2.1-192.0.2.4');
    expect(formatRange(range('2001:db8::/64'))).toBe('2001:db8::/64');
  });
});
