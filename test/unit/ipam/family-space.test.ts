import { describe, expect, test } from 'vitest';
import { mustParseIP } from '../../../src/ip/address.js';
import { FamilySpace } from '../../../src/ipam/family-space.js';
import { parseAddressRange, type IPRange } from '../../../src/ip/range.js';

function ranges(...texts: string[]): IPRange[] {
  return texts.map((t) => {
    const r = parseAddressRange(t);
    if (!r.ok) throw new Error(r.error);
    return r.range;
  });
}
const v = (text: string): bigint => mustParseIP(text).value;

describe('FamilySpace with avoidBuggyIPs', () => {
  test('a /24 has 254 usable addresses, a /12 has 4096 x 254', () => {
    expect(new FamilySpace('IPv4', ranges('192.0.2.0/24'), true).total).toBe(254n);
    expect(new FamilySpace('IPv4', ranges('10.16.0.0/12'), true).total).toBe(4096n * 254n);
    expect(new FamilySpace('IPv4', ranges('10.16.0.0/12'), false).total).toBe(1n << 20n);
  });

  test('allocating walks past .255 and .0 without storing them', () => {
    const space = new FamilySpace('IPv4', ranges('192.0.2.253-192.0.3.2'), true);
    const got: bigint[] = [];
    for (let value = space.lowestFree(); value !== undefined; value = space.lowestFree()) {
      expect(space.take(value)).toBe(true);
      got.push(value);
    }
    expect(got).toEqual(['192.0.2.253', '192.0.2.254', '192.0.3.1', '192.0.3.2'].map(v));
  });

  test('.0 and .255 are outside the pool: not takeable, not releasable', () => {
    const space = new FamilySpace('IPv4', ranges('192.0.2.0/24'), true);
    expect(space.contains(v('192.0.2.0'))).toBe(false);
    expect(space.take(v('192.0.2.255'))).toBe(false);
    expect(space.release(v('192.0.2.0'))).toBe(false);
    expect(space.available).toBe(254n);
  });

  test('a /8 costs one interval, not one per /24', () => {
    const space = new FamilySpace('IPv4', ranges('10.0.0.0/8'), true);
    expect(space.total).toBe(65536n * 254n);
    expect(space.take(v('10.1.2.3'))).toBe(true);
    expect(space.isFree(v('10.1.2.3'))).toBe(false);
    expect(space.release(v('10.1.2.3'))).toBe(true);
    expect(space.release(v('10.1.2.3'))).toBe(false);
    expect(space.available).toBe(space.total);
  });

  test('IPv6 is never skipped, even with the flag', () => {
    const space = new FamilySpace('IPv6', ranges('2001:db8::/120'), true);
    expect(space.total).toBe(256n);
    expect(space.lowestFree()).toBe(v('2001:db8::'));
  });

  test('several ranges: membership by binary search, gaps excluded', () => {
    const space = new FamilySpace('IPv4', ranges('192.0.2.10-192.0.2.12', '192.0.2.20'), false);
    expect([9, 10, 12, 13, 19, 20, 21].map((n) => space.contains(v(`192.0.2.${n}`)))).toEqual([
      false,
      true,
      true,
      false,
      false,
      true,
      false,
    ]);
    expect(space.total).toBe(4n);
  });
});
