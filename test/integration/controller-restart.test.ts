import { afterEach, describe, expect, it } from 'vitest';
import {
  REAL_HAS_IPV6, allIPs, changedIPs, createPool, createServices, setup, targets, waitAllAssigned, type Env,
} from './controller-harness.js';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe.each(targets({ faults: false }))('controller restart (%s)', (target) => {
  it('rebuilds 1000 Services (700 on a real IPv4-only cluster) from status with zero IP changes; Services created while down fill the gaps', async () => {
    env = await setup(target);
    // IPv6 Services: the documentation IPv4 ranges hold only 768 addresses. A real
    // IPv4-only cluster gets 700 IPv4 Services instead.
    const ipv6 = target === 'double' || REAL_HAS_IPV6;
    const count = ipv6 ? 1000 : 700;
    await createPool(env, 'main', ipv6 ? ['2001:db8::/112'] : ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24']);
    const v6 = ipv6 ? { spec: { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] } } : {};
    const first = await env.startController();
    let t = Date.now();
    await createServices(env, 'svc', count, 50, v6);
    const before = await waitAllAssigned(env, count);
    console.log(`controller restart test: ${count} Services created and assigned in ${Date.now() - t} ms`);
    await first.stop();
    env.controllers.splice(env.controllers.indexOf(first), 1);

    // While no controller runs: free some IPs and add Services whose names sort first.
    for (const name of ['svc-1', 'svc-2', 'svc-3']) await env.core.deleteNamespacedService({ namespace: env.apps, name });
    await createServices(env, 'aaa', 5, 5, v6);

    t = Date.now();
    const second = await env.startController();
    const after = await waitAllAssigned(env, count + 2);
    console.log(`controller restart test: resynced in ${Date.now() - t} ms`);
    await second.idle();
    expect(changedIPs(before, after)).toEqual([]);
    const all = [...(await allIPs(env)).values()].map((v) => v[0]);
    expect(new Set(all).size).toBe(all.length);
    const freed = ['svc-1', 'svc-2', 'svc-3'].map((n) => before.get(n)![0]);
    const newcomers = [0, 1, 2, 3, 4].map((i) => after.get(`aaa-${i}`)![0]);
    expect(newcomers.filter((ip) => freed.includes(ip)).length).toBe(3);
  }, 300_000);
});
