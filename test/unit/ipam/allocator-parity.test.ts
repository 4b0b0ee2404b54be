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
  test('a serviceAllocation with only a priority pins the pool to every Service, sorted among the pinned pools', () => {
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

  test('an empty serviceAllocation pins at the lowest priority: after prioritised pools, before general ones', () => {
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

describe('restore applies the run-time fit rules (a restart is checked as a change at run time)', () => {
  const dualPool = () => pool('dual', ['192.0.2.0/24', '2001:db8::/120']);

  test('an IPv4 Service whose status holds an IPv6 address keeps nothing, and the reverse', () => {
    const a = allocatorWith(dualPool());
    expect(a.restore('ns/v4', ['2001:db8::5'], request())).toMatchObject({
      ok: false,
      reason: 'IPFamilyMismatch',
      message: 'ns/v4: 2001:db8::5 is IPv6, but the Service is SingleStack IPv4',
    });
    expect(a.restore('ns/v6', ['192.0.2.5'], request({ ipFamilies: ['IPv6'] }))).toMatchObject({
      ok: false,
      reason: 'IPFamilyMismatch',
    });
    expect(a.usage('dual')!.ipv4.assigned + a.usage('dual')!.ipv6.assigned).toBe(0n);
  });

  test('a Service that went from dual stack to single stack keeps its primary address only', () => {
    const a = allocatorWith(dualPool());
    const result = a.restore('ns/web', ['192.0.2.5', '2001:db8::5'], request());
    expect(addresses(result)).toEqual(['192.0.2.5']);
    expect(result.ok && result.dropped).toEqual([
      { address: '2001:db8::5', why: '2001:db8::5 is IPv6, but the Service is SingleStack IPv4' },
    ]);
    expect(a.usage('dual')!.ipv6.assigned).toBe(0n);
  });

  test('a RequireDualStack Service holding one family keeps it; the next assign adds the other beside it', () => {
    const a = allocatorWith(dualPool());
    const dual = request({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] });
    expect(addresses(a.restore('ns/web', ['192.0.2.5'], dual))).toEqual(['192.0.2.5']);
    expect(addresses(a.assign('ns/web', dual))).toEqual(['192.0.2.5', '2001:db8::']);
  });

  test('an address in a pool whose serviceAllocation no longer admits the Service is not kept', () => {
    const a = allocatorWith(
      pool('team', ['192.0.2.0/24'], { serviceAllocation: { namespaces: ['team'] } }),
      pool('general', ['198.51.100.0/24']),
    );
    expect(a.restore('other/web', ['192.0.2.5'], request())).toMatchObject({
      ok: false,
      reason: 'PoolNotAllowed',
      message: 'other/web: pool "team" holding 192.0.2.5 no longer allows this Service (serviceAllocation)',
    });
    expect(addresses(a.restore('team/web', ['192.0.2.6'], request()))).toEqual(['192.0.2.6']);
  });

  test('an address outside the pool the Service now asks for is not kept', () => {
    const a = allocatorWith(pool('a', ['192.0.2.0/24']), pool('b', ['198.51.100.0/24']));
    expect(a.restore('ns/web', ['192.0.2.5'], request({ requestedPool: 'b' }))).toMatchObject({
      ok: false,
      reason: 'IPNotInRequestedPool',
      message: 'ns/web: 192.0.2.5 is in pool "a", not in the requested pool "b"',
    });
    expect(addresses(a.restore('ns/other', ['192.0.2.5'], request({ requestedPool: 'a' })))).toEqual(['192.0.2.5']);
  });

  test('a requested address is restored only where the request may have it', () => {
    const a = allocatorWith(pool('team', ['192.0.2.0/24'], { serviceAllocation: { namespaces: ['team'] } }));
    expect(a.restore('other/web', ['192.0.2.5'], request({ requestedIPs: ['192.0.2.5'] }))).toMatchObject({
      ok: false,
      reason: 'PoolNotAllowed',
    });
    expect(addresses(a.restore('team/web', ['192.0.2.5'], request({ requestedIPs: ['192.0.2.5'] })))).toEqual([
      '192.0.2.5',
    ]);
  });

  test('assign reports what it dropped and why, in the same words', () => {
    const a = allocatorWith(dualPool());
    const dual = request({ ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] });
    expect(addresses(a.assign('ns/web', dual))).toEqual(['192.0.2.0', '2001:db8::']);
    const single = a.assign('ns/web', request());
    expect(addresses(single)).toEqual(['192.0.2.0']);
    expect(single.ok && single.dropped).toEqual([
      { address: '2001:db8::', why: '2001:db8:: is IPv6, but the Service is SingleStack IPv4' },
    ]);
  });
});

describe('where ironlb decides otherwise on purpose (docs/configuration.md, Differences from MetalLB)', () => {
  test('a PreferDualStack Service with two cluster IPs that requests one IPv4 address gets that address alone', () => {
    // MetalLB refuses: the request's family (IPv4) is not the Service's (dual stack).
    const a = allocatorWith(pool('dual', ['192.0.2.0/24', '2001:db8::/120']));
    const prefer = request({
      ipFamilyPolicy: 'PreferDualStack',
      ipFamilies: ['IPv4', 'IPv6'],
      requestedIPs: ['192.0.2.7'],
    });
    expect(addresses(a.assign('ns/web', prefer))).toEqual(['192.0.2.7']);
    // RequireDualStack cannot be served by one address: refused, as MetalLB does.
    expect(
      a.assign(
        'ns/req',
        request({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'], requestedIPs: ['192.0.2.8'] }),
      ),
    ).toMatchObject({ ok: false, reason: 'IPFamilyMismatch' });
  });

  test('dual stack from two single-family pools (MetalLB needs one pool holding both)', () => {
    const a = allocatorWith(pool('v4', ['192.0.2.0/24']), pool('v6', ['2001:db8::/120']));
    expect(
      addresses(a.assign('ns/web', request({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] }))),
    ).toEqual(['2001:db8::', '192.0.2.0']);
  });
});
