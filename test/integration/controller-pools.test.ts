import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  createPool,
  createService,
  deletePool,
  eventually,
  getPool,
  getService,
  ips,
  patchPool,
  setup,
  targets,
  waitForAllocated,
  waitForEvent,
  waitForIPs,
  closeEnvAfterEach,
} from './controller-harness.js';

const keep = closeEnvAfterEach();

function poolCondition(pool: Awaited<ReturnType<typeof getPool>>, type: string) {
  return pool.status?.conditions?.find((c) => c.type === type);
}

describe.each(targets({ faults: false }))('controller pool changes (%s)', (target) => {
  it('re-allocates a Service whose IP a pool edit removed, with a PoolChanged event', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.10-192.0.2.11']);
    await env.startController();
    await createService(env, 'web');
    await createService(env, 'keep', { annotations: { 'ironlb.io/loadBalancerIPs': '192.0.2.11' } });
    expect(await waitForIPs(env, 'web')).toEqual(['192.0.2.10']);
    await waitForIPs(env, 'keep');
    await patchPool(env, 'main', { addresses: ['192.0.2.11-192.0.2.13'] });
    await eventually(async () => expect(ips(await getService(env, 'web'))).toEqual(['192.0.2.12']));
    const event = await waitForEvent(env, 'web', 'PoolChanged');
    expect(event.message).toContain('192.0.2.10');
    expect(event.message).toContain('re-allocated 192.0.2.12');
    expect(ips(await getService(env, 'keep'))).toEqual(['192.0.2.11']);
  });

  it('moves Services of a deleted pool to another pool, or leaves them pending with the reason', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'first', ['192.0.2.20/32']);
    await env.startController();
    await createService(env, 'web');
    expect(await waitForIPs(env, 'web')).toEqual(['192.0.2.20']);
    await createPool(env, 'second', ['198.51.100.20/32']);
    await deletePool(env, 'first');
    await eventually(async () => expect(ips(await getService(env, 'web'))).toEqual(['198.51.100.20']));
    await deletePool(env, 'second');
    const pending = await waitForAllocated(env, 'web', 'False');
    expect(pending.message).not.toBe('');
    expect(ips(await getService(env, 'web'))).toEqual([]);
  });

  it('marks the newer of two overlapping pools in Conflict, naming the other; the older keeps working', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'older', ['192.0.2.30-192.0.2.39']);
    await env.startController();
    await new Promise((r) => setTimeout(r, 1100)); // creationTimestamp has second precision
    await createPool(env, 'newer', ['192.0.2.35/32']);
    await eventually(async () => {
      const c = poolCondition(await getPool(env, 'newer'), 'Conflict');
      expect(c?.status).toBe('True');
      expect(c?.message).toContain('older');
    });
    expect(poolCondition(await getPool(env, 'older'), 'Conflict')?.status).toBe('False');
    await eventually(async () => {
      const events = (await env.core.listNamespacedEvent({ namespace: env.system })).items;
      const e = events.find((ev) => ev.involvedObject.name === 'newer' && ev.reason === 'PoolConflict');
      expect(e?.type).toBe('Warning');
      expect(e?.message).toContain('older');
    });
    await createService(env, 'web');
    expect(await waitForIPs(env, 'web')).toEqual(['192.0.2.30']);
  });

  it('reports a pool the schema lets through but the parser refuses as not Valid; other pools work', async () => {
    const env = keep(await setup(target));
    // A backwards IPv6 range: the 1.29 CEL rules cannot order IPv6 addresses.
    await createPool(env, 'bad', ['2001:db8::9-2001:db8::1']);
    await createPool(env, 'good', ['198.51.100.40/32']);
    await env.startController();
    await eventually(async () => {
      const c = poolCondition(await getPool(env, 'bad'), 'Valid');
      expect(c).toMatchObject({ status: 'False', reason: 'InvalidPool' });
      expect(c?.message).toContain('spec.addresses[0]');
      expect(c?.message).toContain('range start is after end');
    });
    await eventually(async () => {
      const events = (await env.core.listNamespacedEvent({ namespace: env.system })).items;
      expect(events.find((ev) => ev.involvedObject.name === 'bad' && ev.reason === 'InvalidPool')?.message).toContain(
        'range start is after end',
      );
    });
    await createService(env, 'web');
    expect(await waitForIPs(env, 'web')).toEqual(['198.51.100.40']);
    await createService(env, 'wants-bad', { annotations: { 'ironlb.io/address-pool': 'bad' } });
    const refused = await waitForAllocated(env, 'wants-bad', 'False');
    expect(refused.reason).toBe('PoolInvalid');
    expect(refused.message).toContain('requested pool "bad" is invalid: spec.addresses[0]');
  });

  it('takes a MetalLB pool as written: host bits masked (said in Valid, an event), spaces around a dash', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'migrated', ['192.0.2.101/30', '198.51.100.50 - 198.51.100.51']);
    await env.startController();
    await eventually(async () => {
      const c = poolCondition(await getPool(env, 'migrated'), 'Valid');
      expect(c).toMatchObject({ status: 'True', reason: 'Valid' });
      expect(c?.message).toContain('spec.addresses[0]: 192.0.2.101/30 taken as 192.0.2.100/30');
    });
    await eventually(async () => {
      const events = (await env.core.listNamespacedEvent({ namespace: env.system })).items;
      const e = events.find((ev) => ev.involvedObject.name === 'migrated' && ev.reason === 'AddressMasked');
      expect(e?.type).toBe('Warning');
      expect(e?.message).toContain('192.0.2.101/30 taken as 192.0.2.100/30');
    });
    for (const name of ['a', 'b', 'c', 'd', 'e']) await createService(env, name);
    for (const name of ['a', 'b', 'c', 'd', 'e']) await waitForIPs(env, name);
    const all = await Promise.all(['a', 'b', 'c', 'd', 'e'].map(async (n) => ips(await getService(env, n))[0]));
    expect(all.sort()).toEqual(['192.0.2.100', '192.0.2.101', '192.0.2.102', '192.0.2.103', '198.51.100.50']);
  });

  it('writes the true counts back when something else overwrites a pool status', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.60-192.0.2.63']);
    await env.startController();
    await createService(env, 'web');
    await waitForIPs(env, 'web');
    await eventually(async () =>
      expect((await getPool(env, 'main')).status).toMatchObject({ assignedIPv4: '1', availableIPv4: '3' }),
    );
    await env.custom.patchNamespacedCustomObjectStatus(
      {
        group: 'ironlb.io',
        version: 'v1beta1',
        namespace: env.system,
        plural: 'ipaddresspools',
        name: 'main',
        body: { status: { assignedIPv4: '999', availableIPv4: '0', conditions: null } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await eventually(async () => {
      const status = (await getPool(env, 'main')).status;
      expect(status).toMatchObject({ assignedIPv4: '1', availableIPv4: '3' });
      expect(status?.conditions?.find((c) => c.type === 'Valid')?.status).toBe('True');
    });
  });
});
