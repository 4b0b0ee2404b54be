import { afterEach, describe, expect, it } from 'vitest';
import {
  changedIPs,
  createPool,
  createServices,
  eventually,
  setup,
  waitAllAssigned,
  type Env,
} from './controller-harness.js';

// Faults exist only on the double, so these run against it alone.
let env: Env | undefined;
afterEach(async () => {
  await env?.api?.faults.outage(false);
  await env?.close();
  env = undefined;
});

describe('controller under API faults (double)', { timeout: 120_000 }, () => {
  it('survives dropped watches and misses nothing', async () => {
    env = await setup('double');
    await createPool(env, 'main', ['192.0.2.0/26']);
    await env.startController();
    await createServices(env, 'a', 10);
    const before = await waitAllAssigned(env, 10);
    for (let round = 0; round < 3; round++) {
      // The controller's four watches (Services, pools, namespaces, Leases) are back before each cut.
      await eventually(() => expect(env!.api!.openWatches).toBeGreaterThanOrEqual(4));
      expect(env.api!.faults.dropWatches()).toBeGreaterThanOrEqual(4);
      await createServices(env, `b${round}`, 5);
    }
    const after = await waitAllAssigned(env, 25);
    expect(changedIPs(before, after)).toEqual([]);
    expect(new Set([...after.values()].map((v) => v[0])).size).toBe(25);
  });

  it('retries status writes that fail with 500 until they land', async () => {
    env = await setup('double');
    await createPool(env, 'main', ['192.0.2.64/28']);
    await env.startController();
    env.api!.faults.failNext(4, 500, { verb: 'patch', resource: 'services/status' });
    await createServices(env, 'svc', 3);
    const assigned = await waitAllAssigned(env, 3);
    expect([...assigned.values()].map((v) => v[0]).sort()).toEqual(['192.0.2.64', '192.0.2.65', '192.0.2.66']);
  });

  it('rides out a 30 s API outage as leader: no IP changes, then catches up with what changed meanwhile', async () => {
    env = await setup('double');
    await createPool(env, 'main', ['192.0.2.128/27']);
    // Leader election on, with timings far shorter than the outage: the leader
    // loses its Lease during the outage and must win it back and resync.
    const controller = await env.startController({
      leaderElect: true,
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 500,
    });
    await createServices(env, 'svc', 10);
    const before = await waitAllAssigned(env, 10);

    await env.api!.faults.outage(true);
    await new Promise((r) => setTimeout(r, 30_000));
    // It could not renew for 30 s, so it stepped down rather than act on a stale view.
    expect(controller.isLeader()).toBe(false);
    await env.api!.faults.outage(false);
    await eventually(() => expect(controller.isLeader()).toBe(true), 30_000);

    // Changes right after the outage: one Service goes, two arrive.
    await env.core.deleteNamespacedService({ namespace: env.apps, name: 'svc-0' });
    await createServices(env, 'new', 2);
    const after = await waitAllAssigned(env, 11, 30_000);
    expect(changedIPs(before, after)).toEqual([]);
    expect(after.get('new-0')).toEqual(before.get('svc-0'));
    await controller.idle();
    expect(controller.ready()).toBe(true);
  });

  it('converges through a storm of 500s on every request, lists and watches included', async () => {
    env = await setup('double');
    await createPool(env, 'main', ['192.0.2.160/27']);
    await createServices(env, 'svc', 20);
    env.api!.faults.errorRate(0.3, 500);
    await env.startController();
    // The test's own reads see the storm too: eventually() retries them.
    const assigned = await waitAllAssigned(env, 20, 60_000);
    env.api!.faults.errorRate(0);
    const all = [...assigned.values()].map((v) => v[0]!);
    expect(new Set(all).size).toBe(20);
    const lastOctets = all.map((ip) => Number(ip.split('.')[3])).sort((x, y) => x - y);
    expect(lastOctets).toEqual(Array.from({ length: 20 }, (_, i) => 160 + i));
  });
});
