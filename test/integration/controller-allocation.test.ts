import { describe, expect, it } from 'vitest';
import {
  condition,
  createPool,
  createService,
  eventually,
  getPool,
  getService,
  ips,
  patchService,
  serviceEvents,
  setup,
  targets,
  waitForAllocated,
  waitForEvent,
  waitForIPs,
  closeEnvAfterEach,
} from './controller-harness.js';

const keep = closeEnvAfterEach();

describe.each(targets({ faults: false }))('controller allocation (%s)', (target) => {
  it('assigns the lowest free IP with ipMode VIP, the pool annotation, condition and event', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.10-192.0.2.12']);
    await env.startController();
    await createService(env, 'web');
    expect(await waitForIPs(env, 'web')).toEqual(['192.0.2.10']);
    const svc = await getService(env, 'web');
    expect(svc.status?.loadBalancer?.ingress?.[0]?.ipMode).toBe('VIP');
    expect(svc.metadata?.annotations?.['ironlb.io/ip-allocated-from-pool']).toBe('main');
    expect(condition(svc, 'ironlb.io/Allocated')).toMatchObject({
      status: 'True',
      reason: 'Allocated',
      message: '192.0.2.10 from pool main',
    });
    expect(condition(svc, 'ironlb.io/Announced')).toMatchObject({ status: 'Unknown' });
    const event = await waitForEvent(env, 'web', 'IPAllocated');
    expect(event.message).toBe('assigned 192.0.2.10 from pool main');
  });

  it('keeps a Service pending with the reason until a release frees an IP', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'tiny', ['192.0.2.20/32']);
    await env.startController();
    await createService(env, 'first');
    await waitForIPs(env, 'first');
    await createService(env, 'second');
    const pending = await waitForAllocated(env, 'second', 'False');
    expect(pending.reason).toBe('PoolExhausted');
    expect(pending.message).toMatch(/tiny/);
    expect((await waitForEvent(env, 'second', 'AllocationFailed')).type).toBe('Warning');
    await env.core.deleteNamespacedService({ namespace: env.apps, name: 'first' });
    expect(await waitForIPs(env, 'second')).toEqual(['192.0.2.20']);
  });

  it('releases on a type change and hands the IP to a pending Service', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'tiny', ['192.0.2.30/32']);
    await env.startController();
    await createService(env, 'a');
    await waitForIPs(env, 'a');
    await createService(env, 'b');
    await waitForAllocated(env, 'b', 'False');
    await patchService(env, 'a', { spec: { type: 'ClusterIP' } });
    expect(await waitForIPs(env, 'b')).toEqual(['192.0.2.30']);
    const a = await eventually(async () => {
      const s = await getService(env, 'a');
      if (ips(s).length !== 0 || s.metadata?.annotations?.['ironlb.io/ip-allocated-from-pool'])
        throw new Error('a still shows its IP');
      return s;
    });
    expect(condition(a, 'ironlb.io/Allocated')).toBeUndefined();
    expect((await serviceEvents(env, 'a')).map((e) => e.reason)).toContain('IPReleased');
  });

  it('honours a requested IP and moves when the request changes', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.40-192.0.2.49']);
    await env.startController();
    await createService(env, 'web', { annotations: { 'ironlb.io/loadBalancerIPs': '192.0.2.45' } });
    expect(await waitForIPs(env, 'web')).toEqual(['192.0.2.45']);
    await patchService(env, 'web', { metadata: { annotations: { 'ironlb.io/loadBalancerIPs': '192.0.2.47' } } });
    await eventually(async () => expect(ips(await getService(env, 'web'))).toEqual(['192.0.2.47']));
    await createService(env, 'next');
    expect(await waitForIPs(env, 'next')).toEqual(['192.0.2.40']);
  });

  it('takes a requested pool, else pools pinned to the namespace by priority, else autoAssign pools', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'general', ['192.0.2.50/31']);
    await createPool(env, 'manual', ['198.51.100.10/31'], { autoAssign: false });
    await createPool(env, 'blue-low', ['203.0.113.20/31'], {
      serviceAllocation: { priority: 20, namespaces: [env.apps] },
    });
    await createPool(env, 'blue-high', ['203.0.113.10/31'], {
      serviceAllocation: { priority: 10, namespaceSelectors: [{ matchLabels: { team: 'blue' } }] },
    });
    await env.startController();
    await createService(env, 'asks-pool', { annotations: { 'ironlb.io/address-pool': 'manual' } });
    await createService(env, 'pinned');
    expect(await waitForIPs(env, 'asks-pool')).toEqual(['198.51.100.10']);
    expect(await waitForIPs(env, 'pinned')).toEqual(['203.0.113.10']);
    const p = await getService(env, 'pinned');
    expect(p.metadata?.annotations?.['ironlb.io/ip-allocated-from-pool']).toBe('blue-high');
  });

  it('accepts the MetalLB annotation prefixes', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.60-192.0.2.69']);
    await createPool(env, 'other', ['198.51.100.60-198.51.100.69']);
    await env.startController();
    await createService(env, 'ml', { annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.66' } });
    await createService(env, 'old', { annotations: { 'metallb.universe.tf/address-pool': 'other' } });
    expect(await waitForIPs(env, 'ml')).toEqual(['192.0.2.66']);
    expect(await waitForIPs(env, 'old')).toEqual(['198.51.100.60']);
  });

  it('keeps pool status current: counts per family and Valid/Conflict', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.0/30', '2001:db8::/126']);
    await env.startController();
    await createService(env, 'web');
    await waitForIPs(env, 'web');
    await eventually(async () => {
      const pool = await getPool(env, 'main');
      expect(pool.status).toMatchObject({
        assignedIPv4: '1',
        availableIPv4: '3',
        assignedIPv6: '0',
        availableIPv6: '4',
      });
      expect(pool.status?.conditions?.find((c) => c.type === 'Valid')?.status).toBe('True');
      expect(pool.status?.conditions?.find((c) => c.type === 'Conflict')?.status).toBe('False');
    });
  });
});
