// MetalLB parity of the running controller (issue: replaying MetalLB's
// controller and e2e assignment scenarios): retries when an IP may have become
// usable, the second family added in place. Restart cases: controller-restart.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  createPool,
  createService,
  eventually,
  getService,
  ips,
  patchPool,
  patchService,
  serviceEvents,
  setup,
  targets,
  waitForAllocated,
  waitForIPs,
  closeEnvAfterEach,
} from './controller-harness.js';

const keep = closeEnvAfterEach();

describe.each(targets({ faults: false }))(
  'controller retries waiting Services when a holder changes its sharing terms (%s)',
  (target) => {
    it('gives the IP back once the holder moves to Local with the same selector', async () => {
      const env = keep(await setup(target));
      await createPool(env, 'one', ['192.0.2.160/32']);
      await env.startController();
      const shared = { 'ironlb.io/allow-shared-ip': 'k' };
      await createService(env, 'first', {
        annotations: shared,
        ports: [{ port: 80 }],
        spec: { selector: { app: 'x' } },
      });
      await createService(env, 'second', {
        annotations: shared,
        ports: [{ port: 81 }],
        spec: { selector: { app: 'x' } },
      });
      expect(await waitForIPs(env, 'first')).toEqual(['192.0.2.160']);
      expect(await waitForIPs(env, 'second')).toEqual(['192.0.2.160']);
      await patchService(env, 'second', { spec: { externalTrafficPolicy: 'Local' } });
      await eventually(async () => expect(ips(await getService(env, 'second'))).toEqual([]));
      expect((await waitForAllocated(env, 'second', 'False')).reason).toBe('PoolExhausted');
      await patchService(env, 'first', { spec: { externalTrafficPolicy: 'Local' } });
      expect(await waitForIPs(env, 'second')).toEqual(['192.0.2.160']);
      expect(ips(await getService(env, 'first'))).toEqual(['192.0.2.160']);
    });

    it('gives the IP to a Service refused for a port clash once the holder moves its port', async () => {
      const env = keep(await setup(target));
      await createPool(env, 'main', ['192.0.2.170-192.0.2.179']);
      await env.startController();
      const shared = { 'ironlb.io/allow-shared-ip': 'k', 'ironlb.io/loadBalancerIPs': '192.0.2.175' };
      await createService(env, 'holder', { annotations: shared, ports: [{ port: 80 }] });
      expect(await waitForIPs(env, 'holder')).toEqual(['192.0.2.175']);
      await createService(env, 'waiting', { annotations: shared, ports: [{ port: 80 }] });
      expect((await waitForAllocated(env, 'waiting', 'False')).reason).toBe('PortConflict');
      await patchService(env, 'holder', { spec: { ports: [{ port: 8080, protocol: 'TCP' }] } });
      expect(await waitForIPs(env, 'waiting')).toEqual(['192.0.2.175']);
    });

    it('gives the IP to a Service refused for another sharing key once the holder takes its key', async () => {
      const env = keep(await setup(target));
      await createPool(env, 'one', ['192.0.2.180/32']);
      await env.startController();
      await createService(env, 'holder', { annotations: { 'ironlb.io/allow-shared-ip': 'a' }, ports: [{ port: 80 }] });
      expect(await waitForIPs(env, 'holder')).toEqual(['192.0.2.180']);
      await createService(env, 'waiting', { annotations: { 'ironlb.io/allow-shared-ip': 'b' }, ports: [{ port: 81 }] });
      await waitForAllocated(env, 'waiting', 'False');
      await patchService(env, 'holder', { metadata: { annotations: { 'ironlb.io/allow-shared-ip': 'b' } } });
      expect(await waitForIPs(env, 'waiting')).toEqual(['192.0.2.180']);
    });
  },
);

describe.each(targets({ faults: false, ipv6: true }))('controller adds the second family in place (%s)', (target) => {
  it('when its pool gains IPv6, a PreferDualStack Service holding IPv4 gets IPv6 too and keeps its IPv4', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.190-192.0.2.191']);
    await env.startController();
    await createService(env, 'dual', { spec: { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] } });
    expect(await waitForIPs(env, 'dual')).toEqual(['192.0.2.190']);
    await patchPool(env, 'main', { addresses: ['192.0.2.190-192.0.2.191', '2001:db8::190-2001:db8::191'] });
    expect(await waitForIPs(env, 'dual', 2)).toEqual(['192.0.2.190', '2001:db8::190']);
  });

  it('gives a PreferDualStack Service still waiting for its second family one that another Service frees', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.192-192.0.2.193', '2001:db8::192']);
    await env.startController();
    await createService(env, 'v6', { spec: { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] } });
    expect(await waitForIPs(env, 'v6')).toEqual(['2001:db8::192']);
    await createService(env, 'dual', { spec: { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] } });
    expect(await waitForIPs(env, 'dual')).toEqual(['192.0.2.192']);
    await env.core.deleteNamespacedService({ namespace: env.apps, name: 'v6' });
    expect(await waitForIPs(env, 'dual', 2)).toEqual(['192.0.2.192', '2001:db8::192']);
  });

  it('keeps the first IP while a SingleStack Service goes PreferDualStack, RequireDualStack, and back', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.194-192.0.2.195', '2001:db8::194-2001:db8::195']);
    await env.startController();
    await createService(env, 'web', { spec: { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] } });
    expect(await waitForIPs(env, 'web')).toEqual(['192.0.2.194']);
    await patchService(env, 'web', { spec: { ipFamilyPolicy: 'PreferDualStack' } });
    expect(await waitForIPs(env, 'web', 2)).toEqual(['192.0.2.194', '2001:db8::194']);
    await patchService(env, 'web', { spec: { ipFamilyPolicy: 'RequireDualStack' } });
    await patchService(env, 'web', { spec: { ipFamilyPolicy: 'SingleStack' } });
    expect(await waitForIPs(env, 'web', 1)).toEqual(['192.0.2.194']);
    const events = (await serviceEvents(env, 'web')).map((e) => `${e.reason}: ${e.message}`);
    expect(events.filter((e) => e.includes('192.0.2.194') && e.startsWith('IPReleased'))).toEqual([]);
  });
});

describe.each(targets({ faults: false }))(
  'controller checks holders again when a pool or namespace changes (%s)',
  (target) => {
    it('moves a Service whose pool stops admitting it, as a restart would, and keeps the others', async () => {
      const env = keep(await setup(target));
      await createPool(env, 'general', ['192.0.2.200-192.0.2.203']);
      await createPool(env, 'team', ['198.51.100.200-198.51.100.203'], {
        serviceAllocation: { namespaceSelectors: [{ matchLabels: { team: 'blue' } }] },
      });
      await env.startController();
      await createService(env, 'web');
      expect(await waitForIPs(env, 'web')).toEqual(['198.51.100.200']);
      await patchPool(env, 'team', { serviceAllocation: { namespaceSelectors: [{ matchLabels: { team: 'red' } }] } });
      await eventually(async () => expect(ips(await getService(env, 'web'))).toEqual(['192.0.2.200']));
      const released = (await serviceEvents(env, 'web')).find((e) => e.reason === 'IPReleased');
      expect(released?.message).toBe(
        'released 198.51.100.200: pool "team" holding 198.51.100.200 no longer allows this Service (serviceAllocation)',
      );
      // The namespace takes the label the pool now asks for: a new Service gets the team pool again; web keeps its IP.
      await env.core.patchNamespace(
        { name: env.apps, body: { metadata: { labels: { team: 'red' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await createService(env, 'api');
      expect(await waitForIPs(env, 'api')).toEqual(['198.51.100.200']);
      expect(ips(await getService(env, 'web'))).toEqual(['192.0.2.200']);
    });

    it('moves a Service when its namespace loses the label its pool selects it by', async () => {
      const env = keep(await setup(target));
      await createPool(env, 'general', ['192.0.2.204-192.0.2.207']);
      await createPool(env, 'team', ['198.51.100.204-198.51.100.207'], {
        serviceAllocation: { namespaceSelectors: [{ matchLabels: { team: 'blue' } }] },
      });
      await env.startController();
      await createService(env, 'web');
      expect(await waitForIPs(env, 'web')).toEqual(['198.51.100.204']);
      await env.core.patchNamespace(
        { name: env.apps, body: { metadata: { labels: { team: 'green' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await eventually(async () => expect(ips(await getService(env, 'web'))).toEqual(['192.0.2.204']));
    });
  },
);
