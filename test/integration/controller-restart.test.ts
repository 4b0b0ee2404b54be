import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  REAL_HAS_IPV6,
  allIPs,
  changedIPs,
  createPool,
  createService,
  createServices,
  eventually,
  getService,
  ips,
  patchPool,
  patchService,
  serviceEvents,
  setup,
  targets,
  waitAllAssigned,
  waitForIPs,
  type Env,
  closeEnvAfterEach,
} from './controller-harness.js';

const keep = closeEnvAfterEach();

describe.each(targets({ faults: false }))('controller restart (%s)', (target) => {
  it('rebuilds 1000 Services (700 on a real cluster) from status unchanged; new ones fill the gaps', async () => {
    const env = keep(await setup(target));
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
    for (const name of ['svc-1', 'svc-2', 'svc-3'])
      await env.core.deleteNamespacedService({ namespace: env.apps, name });
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

/** Writes a Service's status.loadBalancer as another writer would while no controller runs. */
async function writeIngress(env: Env, name: string, addresses: string[]): Promise<void> {
  await env.core.patchNamespacedServiceStatus(
    { namespace: env.apps, name, body: { status: { loadBalancer: { ingress: addresses.map((ip) => ({ ip })) } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/**
 * The pools both status-check cases start from: a dual-stack general pool, a
 * priority pool for the apps namespace, and one that assigns only on request.
 */
async function createRestartPools(env: Env): Promise<void> {
  await createPool(env, 'general', ['192.0.2.0/28', '2001:db8::/120']);
  await createPool(env, 'team', ['198.51.100.0/28'], { serviceAllocation: { priority: 1, namespaces: [env.apps] } });
  await createPool(env, 'other', ['203.0.113.0/28'], { autoAssign: false });
}

describe.each(targets({ faults: false, ipv6: true }))(
  'controller restart checks status as run time does (%s)',
  (target) => {
    it('keeps every IP that still fits and fixes, at start, each one that no longer does', async () => {
      const env = keep(await setup(target));
      await createRestartPools(env);
      const first = await env.startController();
      const v4 = { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] };
      await createService(env, 'in-team-pool', { spec: v4 });
      await createService(env, 'wrong-family', { spec: v4 });
      await createService(env, 'was-dual', {
        spec: { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] },
      });
      await createService(env, 'require-dual', {
        spec: { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] },
      });
      await createService(env, 'asks-other-pool', { spec: v4 });
      const before = new Map<string, string[]>();
      for (const name of ['in-team-pool', 'wrong-family', 'asks-other-pool'])
        before.set(name, await waitForIPs(env, name));
      for (const name of ['was-dual', 'require-dual']) before.set(name, await waitForIPs(env, name, 2));
      // Pinned by priority to the namespace: every IPv4 address so far comes from "team".
      expect(before.get('in-team-pool')![0]).toMatch(/^198\.51\.100\./);
      await first.stop();
      env.controllers.splice(env.controllers.indexOf(first), 1);

      // While no controller runs: what a user (or another writer) could change.
      await writeIngress(env, 'wrong-family', ['2001:db8::77']);
      await patchService(env, 'was-dual', { spec: { ipFamilyPolicy: 'SingleStack' } });
      await writeIngress(env, 'require-dual', [before.get('require-dual')![0]]);
      await patchService(env, 'asks-other-pool', { metadata: { annotations: { 'ironlb.io/address-pool': 'other' } } });
      await patchPool(env, 'team', { serviceAllocation: { priority: 1, namespaces: ['elsewhere'] } });

      await env.startController();
      // The team pool no longer admits the namespace: its holders move to the general pool,
      // as a run-time pool edit does.
      await eventually(async () =>
        expect(ips(await getService(env, 'in-team-pool'))).toEqual([expect.stringMatching(/^192\.0\.2\./)]),
      );
      await eventually(async () =>
        expect(ips(await getService(env, 'wrong-family'))).toEqual([expect.stringMatching(/^192\.0\.2\./)]),
      );
      await eventually(async () =>
        expect(ips(await getService(env, 'was-dual'))).toEqual([expect.stringMatching(/^192\.0\.2\./)]),
      );
      await eventually(async () =>
        expect(ips(await getService(env, 'asks-other-pool'))).toEqual([expect.stringMatching(/^203\.0\.113\./)]),
      );
      await eventually(async () => {
        const dual = ips(await getService(env, 'require-dual'));
        expect(dual).toHaveLength(2);
        expect(dual[1]).toMatch(/^2001:db8::/);
      });
      const released = (await serviceEvents(env, 'wrong-family')).find(
        (e) => e.reason === 'PoolChanged' || e.reason === 'IPReleased',
      );
      expect(released?.message).toContain('2001:db8::77');
    }, 60_000);

    it('changes nothing at start when every IP still fits, whatever the families, pools and requests', async () => {
      const env = keep(await setup(target));
      await createRestartPools(env);
      const first = await env.startController();
      await createService(env, 'v4');
      await createService(env, 'v6', { spec: { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] } });
      await createService(env, 'prefer', { spec: { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6', 'IPv4'] } });
      await createService(env, 'require', {
        spec: { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] },
      });
      await createService(env, 'pool', { annotations: { 'ironlb.io/address-pool': 'other' } });
      await createService(env, 'ip', { annotations: { 'ironlb.io/loadBalancerIPs': '192.0.2.9' } });
      const counts: Record<string, number> = { v4: 1, v6: 1, prefer: 2, require: 2, pool: 1, ip: 1 };
      const before = new Map<string, string[]>();
      for (const [name, n] of Object.entries(counts)) before.set(name, await waitForIPs(env, name, n));
      await first.stop();
      env.controllers.splice(env.controllers.indexOf(first), 1);
      const second = await env.startController();
      await second.idle();
      const after = await allIPs(env);
      expect(changedIPs(before, after)).toEqual([]);
      for (const name of Object.keys(counts)) {
        expect(
          (await serviceEvents(env, name)).filter((e) => e.reason === 'IPReleased' || e.reason === 'PoolChanged'),
        ).toEqual([]);
      }
    }, 60_000);
  },
);
