import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { formatIP, isBuggyIPv4, mustParseIP, type IPFamily } from '../../../src/ip/address.js';
import { Allocator } from '../../../src/ipam/allocator.js';
import type { AllocationRequest } from '../../../src/api/service.js';
import { pool, request } from './helpers.js';

/**
 * Random assign/release sequences on a small pool, checked against a naive model
 * that scans every address the way MetalLB does. Pools straddle a /24 boundary
 * so avoidBuggyIPs has .255 and .0 to skip.
 */

interface Scenario {
  family: IPFamily;
  ranges: Array<[number, number]>;
  avoidBuggyIPs: boolean;
  services: Array<{ sharingKey: string | undefined; port: number }>;
  ops: Array<{ assign: boolean; service: number }>;
}

const V4_BASE = mustParseIP('192.0.2.248').value;
const V6_BASE = mustParseIP('2001:db8::fff8').value;
const WINDOW = 16;

const scenario: fc.Arbitrary<Scenario> = fc.record({
  family: fc.constantFrom<IPFamily>('IPv4', 'IPv6'),
  ranges: fc
    .uniqueArray(fc.integer({ min: 0, max: WINDOW - 1 }), { minLength: 1, maxLength: 10 })
    .map((offsets) => mergeOffsets(offsets)),
  avoidBuggyIPs: fc.boolean(),
  services: fc.array(fc.record({ sharingKey: fc.constantFrom(undefined, 'a', 'b'), port: fc.constantFrom(80, 443) }), {
    minLength: 1,
    maxLength: 8,
  }),
  ops: fc.array(fc.record({ assign: fc.boolean(), service: fc.nat() }), { maxLength: 60 }),
});

/** Offsets -> sorted inclusive runs. */
function mergeOffsets(offsets: number[]): Array<[number, number]> {
  const sorted = [...offsets].sort((a, b) => a - b);
  const runs: Array<[number, number]> = [];
  for (const offset of sorted) {
    const last = runs[runs.length - 1];
    if (last && offset === last[1] + 1) last[1] = offset;
    else runs.push([offset, offset]);
  }
  return runs;
}

interface Holding {
  address: bigint;
  sharingKey: string | undefined;
  port: number;
}

describe('Allocator against a naive scanning model', () => {
  test('no double use except valid sharing, lowest-free order, consistent counts, release frees', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const base = s.family === 'IPv4' ? V4_BASE : V6_BASE;
        const at = (offset: number) => formatIP({ family: s.family, value: base + BigInt(offset) });
        const entries = s.ranges.map(([from, to]) => `${at(from)}-${at(to)}`);
        const allocator = new Allocator();
        allocator.setPools([pool('p', entries, { avoidBuggyIPs: s.avoidBuggyIPs })]);

        const inPool = (value: bigint): boolean =>
          s.ranges.some(([from, to]) => value >= base + BigInt(from) && value <= base + BigInt(to)) &&
          !(s.avoidBuggyIPs && s.family === 'IPv4' && isBuggyIPv4(value));
        const universe = Array.from({ length: WINDOW }, (_, i) => base + BigInt(i)).filter(inPool);
        const model = new Map<string, Holding>();
        const users = (address: bigint): Holding[] => [...model.values()].filter((h) => h.address === address);

        for (const op of s.ops) {
          const index = op.service % s.services.length;
          const name = `ns/svc${index}`;
          const terms = s.services[index]!;
          const req: AllocationRequest = request({
            ipFamilies: [s.family],
            sharingKey: terms.sharingKey,
            ports: [{ protocol: 'TCP', port: terms.port }],
          });
          if (!op.assign) {
            const held = model.get(name);
            model.delete(name);
            expect(allocator.release(name)).toEqual(held ? [formatIP({ family: s.family, value: held.address })] : []);
            continue;
          }
          const result = allocator.assign(name, req);
          const previous = model.get(name);
          let expected: bigint | undefined = previous?.address;
          if (expected === undefined) {
            // A compatible address already shared under this key comes first, else the lowest address nobody uses.
            const compatible =
              terms.sharingKey === undefined
                ? []
                : universe.filter((a) => {
                    const on = users(a);
                    return on.length > 0 && on.every((h) => h.sharingKey === terms.sharingKey && h.port !== terms.port);
                  });
            expected = compatible[0] ?? universe.find((a) => users(a).length === 0);
          }
          if (expected === undefined) {
            expect(result).toMatchObject({ ok: false, reason: 'PoolExhausted' });
            continue;
          }
          expect(result.ok && result.ips.map((i) => i.ip.value)).toEqual([expected]);
          model.set(name, { address: expected, sharingKey: terms.sharingKey, port: terms.port });

          // Invariants after every assign.
          for (const address of universe) {
            const on = users(address);
            if (on.length > 1) {
              expect(on.every((h) => h.sharingKey !== undefined && h.sharingKey === on[0]!.sharingKey)).toBe(true);
              expect(new Set(on.map((h) => h.port)).size).toBe(on.length);
            }
          }
          const used = new Set([...model.values()].map((h) => h.address)).size;
          const usage = allocator.usage('p')!;
          const familyUsage = s.family === 'IPv4' ? usage.ipv4 : usage.ipv6;
          expect(familyUsage).toEqual({ assigned: BigInt(used), available: BigInt(universe.length - used) });
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('Allocator dual stack against a naive model', () => {
  type Policy = 'SingleIPv4' | 'SingleIPv6' | 'RequireDualStack' | 'PreferDualStack';
  const dualScenario = fc.record({
    v4Size: fc.integer({ min: 1, max: 6 }),
    v6Size: fc.integer({ min: 1, max: 6 }),
    policies: fc.array(fc.constantFrom<Policy>('SingleIPv4', 'SingleIPv6', 'RequireDualStack', 'PreferDualStack'), {
      minLength: 1,
      maxLength: 8,
    }),
    ops: fc.array(fc.record({ assign: fc.boolean(), service: fc.nat() }), { maxLength: 50 }),
  });

  test('a v4 pool and a v6 pool: each family lowest free, Require all-or-nothing, Prefer takes what exists', () => {
    fc.assert(
      fc.property(dualScenario, (s) => {
        const allocator = new Allocator();
        const v4Base = mustParseIP('192.0.2.1').value;
        const v6Base = mustParseIP('2001:db8::1').value;
        allocator.setPools([
          pool('v4', [`192.0.2.1-${formatIP({ family: 'IPv4', value: v4Base + BigInt(s.v4Size - 1) })}`]),
          pool('v6', [`2001:db8::1-${formatIP({ family: 'IPv6', value: v6Base + BigInt(s.v6Size - 1) })}`]),
        ]);
        const held = new Map<string, { IPv4?: bigint; IPv6?: bigint }>();
        const lowestFree = (family: IPFamily): bigint | undefined => {
          const base = family === 'IPv4' ? v4Base : v6Base;
          const size = family === 'IPv4' ? s.v4Size : s.v6Size;
          const used = new Set([...held.values()].map((h) => h[family]).filter((v) => v !== undefined));
          for (let i = 0; i < size; i++) if (!used.has(base + BigInt(i))) return base + BigInt(i);
          return undefined;
        };
        for (const op of s.ops) {
          const index = op.service % s.policies.length;
          const name = `ns/svc${index}`;
          if (!op.assign) {
            allocator.release(name);
            held.delete(name);
            continue;
          }
          const policy = s.policies[index]!;
          const families: IPFamily[] =
            policy === 'SingleIPv6' ? ['IPv6'] : policy === 'SingleIPv4' ? ['IPv4'] : ['IPv4', 'IPv6'];
          const req = request({
            ipFamilyPolicy: policy.startsWith('Single')
              ? 'SingleStack'
              : (policy as 'RequireDualStack' | 'PreferDualStack'),
            ipFamilies: families,
          });
          const result = allocator.assign(name, req);
          // Kept addresses stay; a family still missing (PreferDualStack) is filled when a pool has room again.
          const expected: { IPv4?: bigint; IPv6?: bigint } = { ...held.get(name) };
          for (const family of families) expected[family] ??= lowestFree(family);
          const got = families.filter((f) => expected[f] !== undefined);
          const satisfied = policy === 'PreferDualStack' ? got.length > 0 : got.length === families.length;
          if (!satisfied) {
            expect(result.ok).toBe(false);
            continue;
          }
          expect(result.ok && result.ips.map((i) => i.ip.value)).toEqual(got.map((f) => expected[f]));
          held.set(name, expected);
          for (const family of ['IPv4', 'IPv6'] as const) {
            const values = [...held.values()].map((h) => h[family]).filter((v) => v !== undefined);
            expect(new Set(values).size).toBe(values.length);
            const usage = allocator.usage(family === 'IPv4' ? 'v4' : 'v6')!;
            expect((family === 'IPv4' ? usage.ipv4 : usage.ipv6).assigned).toBe(BigInt(values.length));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
