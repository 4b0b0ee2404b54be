import { describe, expect, it } from 'vitest';
import {
  condition,
  createPool,
  createService,
  getService,
  ips,
  setup,
  targets,
  waitForAllocated,
  waitForEvent,
  waitForIPs,
  type Env,
  closeEnvAfterEach,
} from './controller-harness.js';
import { ironlbObject } from '../ironlb-objects.js';

const keep = closeEnvAfterEach();

describe.each(targets({ faults: false }))('controller bad input (%s)', (target) => {
  async function withBystander(): Promise<Env> {
    const e = await setup(target);
    await createPool(e, 'main', ['192.0.2.10-192.0.2.19']);
    await e.startController();
    await createService(e, 'bystander');
    expect(await waitForIPs(e, 'bystander')).toEqual(['192.0.2.10']);
    return e;
  }

  async function expectRefused(e: Env, name: string, reason: string, text: string): Promise<void> {
    const c = await waitForAllocated(e, name, 'False');
    expect(c.reason).toBe(reason);
    expect(c.message).toContain(text);
    const event = await waitForEvent(e, name, 'AllocationFailed');
    expect(event.type).toBe('Warning');
    expect(event.message).toBe(c.message);
    expect(ips(await getService(e, name))).toEqual([]);
    // Nothing else is disturbed.
    const bystander = await getService(e, 'bystander');
    expect(ips(bystander)).toEqual(['192.0.2.10']);
    expect(condition(bystander, 'ironlb.io/Allocated')?.status).toBe('True');
  }

  it('refuses a requested IP outside every pool', async () => {
    const env = keep(await withBystander());
    await createService(env, 'outside', { annotations: { 'ironlb.io/loadBalancerIPs': '203.0.113.99' } });
    await expectRefused(env, 'outside', 'IPNotInAnyPool', '203.0.113.99');
  });

  it('refuses a requested IP another Service holds', async () => {
    const env = keep(await withBystander());
    await createService(env, 'thief', { annotations: { 'ironlb.io/loadBalancerIPs': '192.0.2.10' } });
    await expectRefused(env, 'thief', 'IPInUse', '192.0.2.10');
  });

  it('refuses a conflicting sharing key', async () => {
    const env = keep(await withBystander());
    await createService(env, 'share-a', {
      annotations: { 'ironlb.io/allow-shared-ip': 'a', 'ironlb.io/loadBalancerIPs': '192.0.2.15' },
      ports: [{ port: 80 }],
    });
    await waitForIPs(env, 'share-a');
    await createService(env, 'share-b', {
      annotations: { 'ironlb.io/allow-shared-ip': 'b', 'ironlb.io/loadBalancerIPs': '192.0.2.15' },
      ports: [{ port: 81 }],
    });
    await expectRefused(env, 'share-b', 'IPInUse', '192.0.2.15');
  });

  it('refuses an annotation that is not an IP, naming the annotation', async () => {
    const env = keep(await withBystander());
    await createService(env, 'garbage', { annotations: { 'ironlb.io/loadBalancerIPs': '192.0.2.300' } });
    await expectRefused(env, 'garbage', 'InvalidRequest', 'ironlb.io/loadBalancerIPs');
  });

  it('refuses a pool that does not exist', async () => {
    const env = keep(await withBystander());
    await createService(env, 'nopool', { annotations: { 'ironlb.io/address-pool': 'nope' } });
    await expectRefused(env, 'nopool', 'PoolNotFound', '"nope"');
  });
});

describe('controller class filtering (double)', () => {
  it('handles only Services without a class by default, and only its class with --lb-class', async () => {
    const env = keep(await setup('double'));
    await createPool(env, 'main', ['192.0.2.50-192.0.2.59']);
    await env.startController();
    await createService(env, 'plain');
    await createService(env, 'foreign', { spec: { loadBalancerClass: 'example.com/other' } });
    expect(await waitForIPs(env, 'plain')).toEqual(['192.0.2.50']);
    // A second controller (own namespace, own pools) for the class takes the foreign Service; the first leaves it
    // alone.
    const otherSystem = `${env.system}-other`;
    await env.core.createNamespace({ body: { metadata: { name: otherSystem } } });
    await env.custom.createNamespacedCustomObject(
      ironlbObject('IPAddressPool', otherSystem, 'other', { addresses: ['198.51.100.50/32'] }),
    );
    expect(ips(await getService(env, 'foreign'))).toEqual([]);
    await env.startController({ lbClass: 'example.com/other', namespace: otherSystem });
    expect(await waitForIPs(env, 'foreign')).toEqual(['198.51.100.50']);
    const foreign = await getService(env, 'foreign');
    expect(foreign.metadata?.annotations?.['ironlb.io/ip-allocated-from-pool']).toBe('other');
    expect(ips(await getService(env, 'plain'))).toEqual(['192.0.2.50']);
  });

  it('ignores a Service of another class entirely', async () => {
    const env = keep(await setup('double'));
    await createPool(env, 'main', ['192.0.2.60/32']);
    await env.startController();
    await createService(env, 'foreign', { spec: { loadBalancerClass: 'example.com/other' } });
    await createService(env, 'plain');
    await waitForIPs(env, 'plain');
    const foreign = await getService(env, 'foreign');
    expect(ips(foreign)).toEqual([]);
    expect(condition(foreign, 'ironlb.io/Allocated')).toBeUndefined();
  });
});
