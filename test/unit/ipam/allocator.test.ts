import { describe, expect, test } from 'vitest';
import { Allocator } from '../../../src/ipam/allocator.js';
import { addresses, pool, request } from './helpers.js';

function allocatorWith(...pools: Parameters<Allocator['setPools']>[0]): Allocator {
  const allocator = new Allocator();
  allocator.setPools(pools);
  return allocator;
}

describe('lowest free address', () => {
  test('hands out addresses in order and reuses the lowest freed one', () => {
    const a = allocatorWith(pool('p', ['192.0.2.10-192.0.2.12']));
    expect(addresses(a.assign('ns/a', request()))).toEqual(['192.0.2.10']);
    expect(addresses(a.assign('ns/b', request()))).toEqual(['192.0.2.11']);
    expect(addresses(a.assign('ns/c', request()))).toEqual(['192.0.2.12']);
    expect(a.release('ns/b')).toEqual(['192.0.2.11']);
    expect(addresses(a.assign('ns/d', request()))).toEqual(['192.0.2.11']);
  });

  test('walks ranges of a pool in address order, whatever order they are listed in', () => {
    const a = allocatorWith(pool('p', ['192.0.2.20', '192.0.2.5']));
    expect(addresses(a.assign('ns/a', request()))).toEqual(['192.0.2.5']);
    expect(addresses(a.assign('ns/b', request()))).toEqual(['192.0.2.20']);
  });

  test('an exhausted pool refuses with PoolExhausted naming the Service and pool', () => {
    const a = allocatorWith(pool('tiny', ['192.0.2.1']));
    a.assign('ns/a', request());
    const result = a.assign('ns/b', request());
    expect(result).toMatchObject({ ok: false, reason: 'PoolExhausted' });
    expect(!result.ok && result.message).toBe('ns/b: no free IPv4 address in pool "tiny"');
  });

  test('assigning again with the same request keeps the address and reports no change', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/28']));
    a.assign('ns/a', request());
    const again = a.assign('ns/a', request());
    expect(again).toMatchObject({ ok: true, changed: false });
    expect(addresses(again)).toEqual(['192.0.2.0']);
  });

  test('thousands of frees (past the point where freed entries are swept) leave state consistent', () => {
    const a = allocatorWith(pool('p', ['198.51.100.0/24', '203.0.113.0/24', '192.0.2.0/24', '10.0.0.0/19']));
    const total = 6000;
    for (let i = 0; i < total; i++) a.assign(`ns/s${i}`, request());
    for (let i = 0; i < total; i += 2) a.release(`ns/s${i}`);
    for (let i = 1; i < total; i += 2) a.release(`ns/s${i}`);
    expect(a.usage('p')!.ipv4.assigned).toBe(0n);
    expect(a.servicesOn('10.0.0.0')).toEqual([]);
    expect(addresses(a.assign('ns/again', request()))).toEqual(['10.0.0.0']);
    expect(a.servicesOn('10.0.0.0')).toEqual(['ns/again']);
    expect(addresses(a.assign('ns/next', request()))).toEqual(['10.0.0.1']);
  });

  test('release of an unknown Service frees nothing', () => {
    expect(new Allocator().release('ns/none')).toEqual([]);
  });
});

describe('avoidBuggyIPs', () => {
  test('skips .0 and .255 when allocating and counting', () => {
    const a = allocatorWith(pool('p', ['192.0.2.255-192.0.3.1'], { avoidBuggyIPs: true }));
    expect(a.usage('p')!.ipv4).toEqual({ assigned: 0n, available: 1n });
    expect(addresses(a.assign('ns/a', request()))).toEqual(['192.0.3.1']);
    expect(a.assign('ns/b', request())).toMatchObject({ ok: false, reason: 'PoolExhausted' });
  });

  test('a requested .0 in such a pool is not in the pool', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/24'], { avoidBuggyIPs: true }));
    expect(a.assign('ns/a', request({ requestedIPs: ['192.0.2.0'] }))).toMatchObject({
      ok: false,
      reason: 'IPNotInAnyPool',
    });
  });
});

describe('allocation order', () => {
  test('requested IP wins over pools, must be in a pool, and must be free', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/24']));
    expect(addresses(a.assign('ns/a', request({ requestedIPs: ['192.0.2.77'] })))).toEqual(['192.0.2.77']);
    const taken = a.assign('ns/b', request({ requestedIPs: ['192.0.2.77'] }));
    expect(taken).toMatchObject({ ok: false, reason: 'IPInUse' });
    expect(!taken.ok && taken.message).toBe('ns/b: 192.0.2.77 is already used by ns/a (ns/a does not allow sharing)');
    const outside = a.assign('ns/c', request({ requestedIPs: ['198.51.100.1'] }));
    expect(outside).toEqual({
      ok: false,
      reason: 'IPNotInAnyPool',
      message: 'ns/c: requested 198.51.100.1 is not in any pool',
    });
  });

  test('requested IP and requested pool must agree', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/25']), pool('q', ['192.0.2.128/25']));
    expect(a.assign('ns/a', request({ requestedIPs: ['192.0.2.1'], requestedPool: 'q' }))).toMatchObject({
      ok: false,
      reason: 'IPNotInRequestedPool',
    });
    expect(addresses(a.assign('ns/a', request({ requestedIPs: ['192.0.2.130'], requestedPool: 'q' })))).toEqual([
      '192.0.2.130',
    ]);
  });

  test('requested pool is used even when autoAssign is false; unknown pool is refused', () => {
    const a = allocatorWith(pool('auto', ['192.0.2.0/24']), pool('manual', ['198.51.100.0/24'], { autoAssign: false }));
    expect(addresses(a.assign('ns/a', request()))).toEqual(['192.0.2.0']);
    expect(addresses(a.assign('ns/b', request({ requestedPool: 'manual' })))).toEqual(['198.51.100.0']);
    expect(a.assign('ns/c', request({ requestedPool: 'nope' }))).toEqual({
      ok: false,
      reason: 'PoolNotFound',
      message: 'ns/c: requested pool "nope" does not exist',
    });
  });

  test('autoAssign false pools are never used without a request', () => {
    const a = allocatorWith(pool('manual', ['198.51.100.0/24'], { autoAssign: false }));
    expect(a.assign('ns/a', request())).toMatchObject({ ok: false, reason: 'NoMatchingPool' });
  });

  test('pinned pools by namespace come before general pools, by priority (lower first, unset last)', () => {
    const a = allocatorWith(
      pool('general', ['192.0.2.0/24'], {}, '2020-01-01T00:00:00Z'),
      pool('team-unset', ['198.51.100.0/26'], { serviceAllocation: { namespaces: ['team'] } }),
      pool('team-2', ['198.51.100.64/26'], { serviceAllocation: { priority: 2, namespaces: ['team'] } }),
      pool('team-1', ['198.51.100.128/26'], { serviceAllocation: { priority: 1, namespaces: ['team'] } }),
    );
    expect(addresses(a.assign('team/a', request()))).toEqual(['198.51.100.128']);
    expect(addresses(a.assign('other/a', request()))).toEqual(['192.0.2.0']);
  });

  test('pinned pools by namespace selector and service selector', () => {
    const a = allocatorWith(
      pool('general', ['192.0.2.0/24']),
      pool('prod', ['198.51.100.0/24'], {
        serviceAllocation: { namespaceSelectors: [{ matchLabels: { env: 'prod' } }] },
      }),
      pool('premium', ['203.0.113.0/24'], {
        serviceAllocation: {
          serviceSelectors: [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold'] }] }],
        },
      }),
    );
    expect(addresses(a.assign('shop/a', request({ namespaceLabels: { env: 'prod' } })))).toEqual(['198.51.100.0']);
    expect(addresses(a.assign('shop/b', request({ serviceLabels: { tier: 'gold' } })))).toEqual(['203.0.113.0']);
    expect(addresses(a.assign('shop/c', request()))).toEqual(['192.0.2.0']);
  });

  test('a pool whose serviceAllocation excludes the Service refuses it, even when requested', () => {
    const a = allocatorWith(pool('team', ['198.51.100.0/24'], { serviceAllocation: { namespaces: ['team'] } }));
    expect(a.assign('other/a', request())).toMatchObject({ ok: false, reason: 'NoMatchingPool' });
    expect(a.assign('other/a', request({ requestedPool: 'team' }))).toMatchObject({
      ok: false,
      reason: 'PoolNotAllowed',
    });
    expect(a.assign('other/a', request({ requestedIPs: ['198.51.100.9'] }))).toMatchObject({
      ok: false,
      reason: 'PoolNotAllowed',
    });
  });

  test('priority 0 counts as unset: a pool with priority 3 is tried before it', () => {
    const a = allocatorWith(
      pool(
        'zero',
        ['198.51.100.0/24'],
        { serviceAllocation: { priority: 0, namespaces: ['team'] } },
        '2020-01-01T00:00:00Z',
      ),
      pool('three', ['203.0.113.0/24'], { serviceAllocation: { priority: 3, namespaces: ['team'] } }),
    );
    expect(addresses(a.assign('team/a', request()))).toEqual(['203.0.113.0']);
  });

  test('among general pools the older is used first', () => {
    const a = allocatorWith(
      pool('young', ['198.51.100.0/24'], {}, '2026-02-01T00:00:00Z'),
      pool('old', ['203.0.113.0/24'], {}, '2026-01-01T00:00:00Z'),
    );
    expect(addresses(a.assign('ns/a', request()))).toEqual(['203.0.113.0']);
  });

  test('an address kept after its pool stops allowing the Service is replaced on the next assign', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/24']), pool('q', ['198.51.100.0/24'], {}, '2027-01-01T00:00:00Z'));
    expect(addresses(a.assign('ns/a', request()))).toEqual(['192.0.2.0']);
    a.setPools([
      pool('p', ['192.0.2.0/24'], { serviceAllocation: { namespaces: ['team'] } }),
      pool('q', ['198.51.100.0/24'], {}, '2027-01-01T00:00:00Z'),
    ]);
    expect(addresses(a.assign('ns/a', request()))).toEqual(['198.51.100.0']);
    expect(a.usage('p')!.ipv4.assigned).toBe(0n);
  });
});

describe('dual stack', () => {
  const v4 = pool('v4', ['192.0.2.0/24']);
  const v6 = pool('v6', ['2001:db8::/64']);

  test('a /64 pool and a /24 pool together serve a RequireDualStack Service, in ipFamilies order', () => {
    const a = allocatorWith(v6, v4);
    const result = a.assign('ns/a', request({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] }));
    expect(addresses(result)).toEqual(['2001:db8::', '192.0.2.0']);
    expect(result.ok && result.ips.map((i) => i.pool)).toEqual(['v6', 'v4']);
  });

  test('one pool holding both families is preferred over combining two', () => {
    const a = allocatorWith(v4, v6, pool('both', ['203.0.113.0/24', '2001:db8:1::/64'], {}, '2027-01-01T00:00:00Z'));
    const result = a.assign('ns/a', request({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] }));
    expect(addresses(result)).toEqual(['203.0.113.0', '2001:db8:1::']);
  });

  test('RequireDualStack with only one family available is refused and takes nothing', () => {
    const a = allocatorWith(v4);
    const result = a.assign('ns/a', request({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] }));
    expect(result).toMatchObject({ ok: false, reason: 'NoPoolForFamily' });
    expect(a.usage('v4')!.ipv4.assigned).toBe(0n);
  });

  test('PreferDualStack falls back to the family it can get', () => {
    const a = allocatorWith(v4);
    expect(
      addresses(a.assign('ns/a', request({ ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6', 'IPv4'] }))),
    ).toEqual(['192.0.2.0']);
  });

  test('PreferDualStack adds the second family once a pool offers it, keeping the first address', () => {
    const a = allocatorWith(v4);
    const req = request({ ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] });
    expect(addresses(a.assign('ns/a', req))).toEqual(['192.0.2.0']);
    a.assign('ns/other', request());
    a.setPools([v4, v6]);
    expect(addresses(a.assign('ns/a', req))).toEqual(['192.0.2.0', '2001:db8::']);
  });

  test('SingleStack takes the family given first', () => {
    const a = allocatorWith(v4, v6);
    expect(addresses(a.assign('ns/a', request({ ipFamilies: ['IPv6'] })))).toEqual(['2001:db8::']);
  });

  test('a requested address of a family the Service does not have is refused', () => {
    const a = allocatorWith(v4, v6);
    expect(a.assign('ns/a', request({ requestedIPs: ['2001:db8::5'] }))).toMatchObject({
      ok: false,
      reason: 'IPFamilyMismatch',
    });
    expect(
      a.assign(
        'ns/a',
        request({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'], requestedIPs: ['192.0.2.5'] }),
      ),
    ).toMatchObject({ ok: false, reason: 'IPFamilyMismatch' });
    expect(
      addresses(
        a.assign(
          'ns/a',
          request({
            ipFamilyPolicy: 'RequireDualStack',
            ipFamilies: ['IPv4', 'IPv6'],
            requestedIPs: ['2001:db8::5', '192.0.2.5'],
          }),
        ),
      ),
    ).toEqual(['192.0.2.5', '2001:db8::5']);
  });
});

describe('sharing', () => {
  const shared = (key: string, port: number, extra: Parameters<typeof request>[0] = {}) =>
    request({ sharingKey: key, ports: [{ protocol: 'TCP', port }], ...extra });

  test('same key and different ports share the lowest address of the key', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/24']));
    a.assign('ns/x', request());
    expect(addresses(a.assign('ns/a', shared('k', 80)))).toEqual(['192.0.2.1']);
    expect(addresses(a.assign('ns/b', shared('k', 443)))).toEqual(['192.0.2.1']);
    expect(a.servicesOn('192.0.2.1').sort()).toEqual(['ns/a', 'ns/b']);
    expect(a.usage('p')!.ipv4.assigned).toBe(2n);
    a.release('ns/a');
    expect(a.usage('p')!.ipv4.assigned).toBe(2n);
    a.release('ns/b');
    expect(a.usage('p')!.ipv4.assigned).toBe(1n);
  });

  test('overlapping port on a requested shared address is a PortConflict', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/24']));
    a.assign('ns/a', shared('k', 80, { requestedIPs: ['192.0.2.9'] }));
    expect(a.assign('ns/b', shared('k', 80, { requestedIPs: ['192.0.2.9'] }))).toEqual({
      ok: false,
      reason: 'PortConflict',
      message: 'ns/b: port TCP/80 on 192.0.2.9 is already used by ns/a',
    });
    // Same number, other protocol: no overlap.
    expect(
      addresses(
        a.assign('ns/c', shared('k', 80, { requestedIPs: ['192.0.2.9'], ports: [{ protocol: 'UDP', port: 80 }] })),
      ),
    ).toEqual(['192.0.2.9']);
  });

  test('a port clash without a requested address moves on to a fresh address', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/24']));
    expect(addresses(a.assign('ns/a', shared('k', 80)))).toEqual(['192.0.2.0']);
    expect(addresses(a.assign('ns/b', shared('k', 80)))).toEqual(['192.0.2.1']);
  });

  test('different sharing keys are refused with both keys named', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/24']));
    a.assign('default/web', shared('b', 80, { requestedIPs: ['192.0.2.10'] }));
    expect(a.assign('default/api', shared('a', 81, { requestedIPs: ['192.0.2.10'] }))).toEqual({
      ok: false,
      reason: 'IPInUse',
      message: 'default/api: 192.0.2.10 is already used by default/web (sharing key "a" does not match "b")',
    });
  });

  test('a Service without a key cannot join a shared address', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/24']));
    a.assign('ns/a', shared('k', 80, { requestedIPs: ['192.0.2.10'] }));
    expect(
      a.assign('ns/b', request({ ports: [{ protocol: 'TCP', port: 81 }], requestedIPs: ['192.0.2.10'] })),
    ).toMatchObject({ ok: false, reason: 'IPInUse' });
  });

  test('externalTrafficPolicy Local shares only with an identical selector', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/24']));
    a.assign(
      'ns/a',
      shared('k', 80, {
        requestedIPs: ['192.0.2.10'],
        externalTrafficPolicy: 'Local',
        selector: { app: 'web', tier: 'x' },
      }),
    );
    const other = a.assign(
      'ns/b',
      shared('k', 81, { requestedIPs: ['192.0.2.10'], externalTrafficPolicy: 'Local', selector: { app: 'db' } }),
    );
    expect(other).toMatchObject({ ok: false, reason: 'SelectorMismatch' });
    const cluster = a.assign(
      'ns/c',
      shared('k', 82, { requestedIPs: ['192.0.2.10'], externalTrafficPolicy: 'Cluster' }),
    );
    expect(cluster).toMatchObject({ ok: false, reason: 'SelectorMismatch' });
    const same = a.assign(
      'ns/d',
      shared('k', 83, {
        requestedIPs: ['192.0.2.10'],
        externalTrafficPolicy: 'Local',
        selector: { tier: 'x', app: 'web' },
      }),
    );
    expect(addresses(same)).toEqual(['192.0.2.10']);
  });

  test('a sole user may change its sharing key; a shared user may not', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/24']));
    a.assign('ns/a', shared('k', 80));
    expect(addresses(a.assign('ns/a', shared('k2', 80)))).toEqual(['192.0.2.0']);
    a.assign('ns/b', shared('k2', 81));
    expect(a.servicesOn('192.0.2.0').length).toBe(2);
    // ns/a switching key would break the share: it gets a new address instead.
    expect(addresses(a.assign('ns/a', shared('k3', 80)))).toEqual(['192.0.2.1']);
    expect(a.servicesOn('192.0.2.0')).toEqual(['ns/b']);
  });
});

describe('pool changes', () => {
  test('the newer of two overlapping pools is in conflict and hands out nothing; the older keeps working', () => {
    const a = new Allocator();
    const report = a.setPools([
      pool('newer', ['192.0.2.128/25'], {}, '2026-03-01T00:00:00Z'),
      pool('older', ['192.0.2.0/24'], {}, '2026-01-01T00:00:00Z'),
    ]);
    expect(report.conflicts).toEqual([
      {
        pool: 'newer',
        overlapsWith: 'older',
        message: 'pool "newer" (192.0.2.128/25) overlaps the older pool "older" (192.0.2.0/24)',
      },
    ]);
    expect(a.assign('ns/a', request({ requestedPool: 'newer' }))).toMatchObject({
      ok: false,
      reason: 'PoolInConflict',
    });
    expect(addresses(a.assign('ns/b', request()))).toEqual(['192.0.2.0']);
    expect(a.usage('newer')).toEqual({ ipv4: { assigned: 0n, available: 0n }, ipv6: { assigned: 0n, available: 0n } });
  });

  test('same creation time: the name decides which pool is newer', () => {
    const report = new Allocator().setPools([pool('b', ['192.0.2.0/24']), pool('a', ['192.0.2.0/24'])]);
    expect(report.conflicts.map((c) => [c.pool, c.overlapsWith])).toEqual([['b', 'a']]);
  });

  test('an address that left every pool is reported; the Service keeps its other family', () => {
    const v4 = pool('v4', ['192.0.2.0/24']);
    const v6 = pool('v6', ['2001:db8::/64']);
    const a = allocatorWith(v4, v6);
    a.assign('ns/a', request({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] }));
    const report = a.setPools([v6]);
    expect(report.lost).toEqual([
      {
        service: 'ns/a',
        ips: ['192.0.2.0'],
        message: 'ns/a: 192.0.2.0 is no longer in any pool; the Service needs a new address',
      },
    ]);
    expect(a.allocationOf('ns/a')!.map((i) => i.address)).toEqual(['2001:db8::']);
  });

  test('an address now in a differently named pool is moved, not lost', () => {
    const a = allocatorWith(pool('old-name', ['192.0.2.0/24']));
    a.assign('ns/a', request());
    const report = a.setPools([pool('new-name', ['192.0.2.0/24'])]);
    expect(report.moved).toEqual([{ service: 'ns/a', ip: '192.0.2.0', fromPool: 'old-name', toPool: 'new-name' }]);
    expect(report.lost).toEqual([]);
    expect(a.usage('new-name')!.ipv4.assigned).toBe(1n);
    expect(addresses(a.assign('ns/b', request()))).toEqual(['192.0.2.1']);
  });

  test('a shared address leaving every pool is reported for each Service on it', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/24']));
    a.assign('ns/a', request({ sharingKey: 'k', ports: [{ protocol: 'TCP', port: 80 }] }));
    a.assign('ns/b', request({ sharingKey: 'k', ports: [{ protocol: 'TCP', port: 443 }] }));
    const report = a.setPools([pool('p', ['198.51.100.0/24'])]);
    expect(report.lost.map((l) => [l.service, l.ips])).toEqual([
      ['ns/a', ['192.0.2.0']],
      ['ns/b', ['192.0.2.0']],
    ]);
    expect(a.allocationOf('ns/a')).toBeUndefined();
    expect(a.servicesOn('192.0.2.0')).toEqual([]);
    expect(addresses(a.assign('ns/a', request()))).toEqual(['198.51.100.0']);
  });

  test('duplicate pool names are a caller error', () => {
    expect(() => new Allocator().setPools([pool('p', ['192.0.2.0/24']), pool('p', ['198.51.100.0/24'])])).toThrow(
      'pool "p" is listed twice',
    );
  });
});

describe('restore', () => {
  test('rebuilds allocations so new ones do not collide and counts are right', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/29']));
    expect(addresses(a.restore('ns/a', ['192.0.2.0'], request()))).toEqual(['192.0.2.0']);
    expect(addresses(a.restore('ns/b', ['192.0.2.2'], request()))).toEqual(['192.0.2.2']);
    expect(addresses(a.assign('ns/c', request()))).toEqual(['192.0.2.1']);
    expect(addresses(a.assign('ns/d', request()))).toEqual(['192.0.2.3']);
    expect(a.usage('p')!.ipv4).toEqual({ assigned: 4n, available: 4n });
  });

  test('refuses an address outside every pool, a taken one, and garbage', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/24']));
    expect(a.restore('ns/a', ['198.51.100.1'], request())).toEqual({
      ok: false,
      reason: 'IPNotInAnyPool',
      message: 'ns/a: 198.51.100.1 is no longer in any pool',
    });
    a.restore('ns/a', ['192.0.2.1'], request());
    expect(a.restore('ns/b', ['192.0.2.1'], request())).toMatchObject({ ok: false, reason: 'IPInUse' });
    expect(a.restore('ns/c', ['not-an-ip'], request())).toMatchObject({ ok: false, reason: 'InvalidRequest' });
  });

  test('Services restored onto one address share it when their terms allow', () => {
    const a = allocatorWith(pool('p', ['192.0.2.0/24']));
    expect(
      addresses(a.restore('ns/a', ['192.0.2.5'], request({ sharingKey: 'k', ports: [{ protocol: 'TCP', port: 80 }] }))),
    ).toEqual(['192.0.2.5']);
    expect(
      addresses(a.restore('ns/b', ['192.0.2.5'], request({ sharingKey: 'k', ports: [{ protocol: 'UDP', port: 53 }] }))),
    ).toEqual(['192.0.2.5']);
    expect(
      a.restore('ns/c', ['192.0.2.5'], request({ sharingKey: 'k', ports: [{ protocol: 'TCP', port: 80 }] })),
    ).toMatchObject({ ok: false, reason: 'PortConflict' });
    expect(a.usage('p')!.ipv4.assigned).toBe(1n);
  });

  test('keeps an address that is only in a conflicted pool (a restart never moves an IP)', () => {
    const a = allocatorWith(
      pool('older', ['192.0.2.0/25'], {}, '2026-01-01T00:00:00Z'),
      pool('newer', ['192.0.2.0/24'], {}, '2026-02-01T00:00:00Z'),
    );
    const result = a.restore('ns/a', ['192.0.2.200'], request());
    expect(result.ok && result.ips[0]!.pool).toBe('newer');
    expect(a.usage('newer')!.ipv4.assigned).toBe(1n);
    expect(addresses(a.assign('ns/a', request()))).toEqual(['192.0.2.200']);
  });
});

describe('bad requests', () => {
  const a = allocatorWith(pool('p', ['192.0.2.0/24']));
  test.each([
    ['no-slash', request()],
    ['a/b/c', request()],
    ['/name', request()],
  ])('service key %s is refused', (key, req) => {
    expect(a.assign(key, req)).toMatchObject({ ok: false, reason: 'InvalidRequest' });
  });

  test('empty, duplicate and too many families are refused', () => {
    expect(a.assign('ns/a', request({ ipFamilies: [] }))).toMatchObject({ ok: false, reason: 'InvalidRequest' });
    expect(a.assign('ns/a', request({ ipFamilies: ['IPv4', 'IPv4'] }))).toMatchObject({
      ok: false,
      reason: 'InvalidRequest',
    });
    expect(a.assign('ns/a', request({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4'] }))).toMatchObject({
      ok: false,
      reason: 'InvalidRequest',
    });
  });

  test('two requested addresses of one family are refused', () => {
    expect(a.assign('ns/a', request({ requestedIPs: ['192.0.2.1', '192.0.2.2'] }))).toMatchObject({
      ok: false,
      reason: 'InvalidRequest',
    });
  });

  test('a refusal leaves an existing allocation untouched', () => {
    const b = allocatorWith(pool('p', ['192.0.2.0/24']));
    b.assign('ns/a', request());
    expect(b.assign('ns/a', request({ requestedPool: 'missing' }))).toMatchObject({ ok: false });
    expect(b.allocationOf('ns/a')!.map((i) => i.address)).toEqual(['192.0.2.0']);
  });
});
