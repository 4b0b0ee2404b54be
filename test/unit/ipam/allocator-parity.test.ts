// Cases replayed from MetalLB's allocator, where ironlb must decide the same.
import { describe, expect, test } from 'vitest';
import { Allocator } from '../../../src/ipam/allocator.js';
import { addresses, pool, request } from './helpers.js';

function allocatorWith(...pools: Parameters<Allocator['setPools']>[0]): Allocator {
  const allocator = new Allocator();
  allocator.setPools(pools);
  return allocator;
}

describe('pool order (MetalLB pinnedPoolsForService)', () => {
  test('a serviceAllocation with only a priority pins the pool to every Service, sorted with the other pinned pools', () => {
    const a = allocatorWith(
      pool('general', ['192.0.2.0/24'], {}, '2020-01-01T00:00:00Z'),
      pool('team-5', ['198.51.100.0/24'], { serviceAllocation: { priority: 5, namespaces: ['team'] } }),
      pool('everyone-1', ['203.0.113.0/25'], { serviceAllocation: { priority: 1 } }),
    );
    // Priority 1 beats the namespace-pinned priority 5.
    expect(addresses(a.assign('team/a', request()))).toEqual(['203.0.113.0']);
    // And it is pinned for every other namespace too: before the general pool.
    expect(addresses(a.assign('other/a', request()))).toEqual(['203.0.113.1']);
  });

  test('an empty serviceAllocation pins to every Service with the lowest priority: after prioritised pinned pools, before general ones', () => {
    const a = allocatorWith(
      pool('general', ['192.0.2.0/24'], {}, '2020-01-01T00:00:00Z'),
      pool('everyone', ['203.0.113.0/25'], { serviceAllocation: {} }),
      pool('team-7', ['198.51.100.0/24'], { serviceAllocation: { priority: 7, namespaces: ['team'] } }),
    );
    expect(addresses(a.assign('team/a', request()))).toEqual(['198.51.100.0']);
    expect(addresses(a.assign('other/a', request()))).toEqual(['203.0.113.0']);
  });

  test('when every pinned pool is full, general pools are still tried', () => {
    const a = allocatorWith(
      pool('general', ['192.0.2.0/24']),
      pool('everyone-1', ['203.0.113.7'], { serviceAllocation: { priority: 1 } }),
    );
    expect(addresses(a.assign('ns/a', request()))).toEqual(['203.0.113.7']);
    expect(addresses(a.assign('ns/b', request()))).toEqual(['192.0.2.0']);
  });
});
