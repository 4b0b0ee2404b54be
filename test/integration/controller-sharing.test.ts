import { describe, expect, it } from 'vitest';
import { V1MicroTime } from '@kubernetes/client-node';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { CONFLICT_ANNOTATION, ipLeaseName, ROLE_LABEL } from '../../src/api/leases.js';
import {
  condition,
  createPool,
  createService,
  eventually,
  getService,
  setup,
  targets,
  waitForAllocated,
  waitForIPs,
  closeEnvAfterEach,
} from './controller-harness.js';

const keep = closeEnvAfterEach();

describe.each(targets({ faults: false, ipv6: true }))('controller dual stack (%s)', (target) => {
  it('serves RequireDualStack from an IPv4 pool and an IPv6 pool, primary family first', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'v4', ['192.0.2.0/24']);
    await createPool(env, 'v6', ['2001:db8::/64']);
    await env.startController();
    await createService(env, 'dual', { spec: { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] } });
    expect(await waitForIPs(env, 'dual', 2)).toEqual(['2001:db8::', '192.0.2.0']);
    await createService(env, 'single');
    expect(await waitForIPs(env, 'single')).toEqual(['192.0.2.1']);
  });
});

describe.each(targets({ faults: false }))('controller sharing, Announced, orphan Leases (%s)', (target) => {
  it('shares an IP between Services with the same key and distinct ports; refuses another key', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.100-192.0.2.109']);
    await env.startController();
    const shared = { 'ironlb.io/allow-shared-ip': 'k1', 'ironlb.io/loadBalancerIPs': '192.0.2.105' };
    await createService(env, 'dns-tcp', { annotations: shared, ports: [{ port: 53, protocol: 'TCP' }] });
    await createService(env, 'dns-udp', { annotations: shared, ports: [{ port: 53, protocol: 'UDP' }] });
    expect(await waitForIPs(env, 'dns-tcp')).toEqual(['192.0.2.105']);
    expect(await waitForIPs(env, 'dns-udp')).toEqual(['192.0.2.105']);
    await createService(env, 'intruder', {
      annotations: { 'ironlb.io/allow-shared-ip': 'k2', 'ironlb.io/loadBalancerIPs': '192.0.2.105' },
      ports: [{ port: 80 }],
    });
    const refused = await waitForAllocated(env, 'intruder', 'False');
    expect(refused.reason).toBe('IPInUse');
    expect(refused.message).toContain('192.0.2.105');
    expect(await waitForIPs(env, 'dns-tcp')).toEqual(['192.0.2.105']);
  });

  it('refuses a shared IP whose port overlaps', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.110-192.0.2.119']);
    await env.startController();
    const shared = { 'ironlb.io/allow-shared-ip': 'k', 'ironlb.io/loadBalancerIPs': '192.0.2.110' };
    await createService(env, 'one', { annotations: shared, ports: [{ port: 80 }] });
    await waitForIPs(env, 'one');
    await createService(env, 'two', { annotations: shared, ports: [{ port: 80 }] });
    expect((await waitForAllocated(env, 'two', 'False')).reason).toBe('PortConflict');
  });

  it('shares an IP between externalTrafficPolicy Local Services only with identical selectors', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.140-192.0.2.149']);
    await env.startController();
    const shared = { 'ironlb.io/allow-shared-ip': 'k', 'ironlb.io/loadBalancerIPs': '192.0.2.141' };
    await createService(env, 'local-a', {
      annotations: shared,
      ports: [{ port: 80 }],
      spec: { externalTrafficPolicy: 'Local', selector: { app: 'x' } },
    });
    await createService(env, 'local-b', {
      annotations: shared,
      ports: [{ port: 81 }],
      spec: { externalTrafficPolicy: 'Local', selector: { app: 'x' } },
    });
    await createService(env, 'local-c', {
      annotations: shared,
      ports: [{ port: 82 }],
      spec: { externalTrafficPolicy: 'Local', selector: { app: 'y' } },
    });
    expect(await waitForIPs(env, 'local-a')).toEqual(['192.0.2.141']);
    expect(await waitForIPs(env, 'local-b')).toEqual(['192.0.2.141']);
    expect((await waitForAllocated(env, 'local-c', 'False')).reason).toBe('SelectorMismatch');
  });

  it('derives Announced from the ownership Lease of the IP', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.120/32']);
    await env.startController();
    await createService(env, 'web');
    await waitForIPs(env, 'web');
    const leases = env.kubeConfig.makeApiClient(CoordinationV1Api);
    await leases.createNamespacedLease({
      namespace: env.system,
      body: {
        metadata: { name: ipLeaseName('192.0.2.120'), labels: { [ROLE_LABEL]: 'ip' } },
        spec: { holderIdentity: 'node-b', acquireTime: new V1MicroTime() },
      },
    });
    await eventually(async () => {
      expect(condition(await getService(env, 'web'), 'ironlb.io/Announced')).toMatchObject({
        status: 'True',
        message: '192.0.2.120 announced by node-b',
      });
    });
    const lease = await leases.readNamespacedLease({ namespace: env.system, name: ipLeaseName('192.0.2.120') });
    lease.spec!.holderIdentity = '';
    await leases.replaceNamespacedLease({ namespace: env.system, name: ipLeaseName('192.0.2.120'), body: lease });
    await eventually(async () => {
      expect(condition(await getService(env, 'web'), 'ironlb.io/Announced')).toMatchObject({
        status: 'False',
        reason: 'NoEligibleSpeaker',
        message: 'no node holds 192.0.2.120: no eligible speaker',
      });
    });
    // A speaker that hears another host answer for the IP notes it on the Lease.
    const again = await leases.readNamespacedLease({ namespace: env.system, name: ipLeaseName('192.0.2.120') });
    again.spec!.holderIdentity = 'node-b';
    again.metadata!.annotations = { [CONFLICT_ANNOTATION]: '02:00:00:00:00:99: answers ARP for the IP' };
    await leases.replaceNamespacedLease({ namespace: env.system, name: ipLeaseName('192.0.2.120'), body: again });
    await eventually(async () => {
      const c = condition(await getService(env, 'web'), 'ironlb.io/Announced');
      expect(c).toMatchObject({ status: 'False', reason: 'IPConflict' });
      expect(c?.message).toContain('02:00:00:00:00:99');
    });
  });

  it('deletes the ownership Lease of an IP no Service holds after the grace period, and keeps the others', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.130/32']);
    await env.startController({ orphanLeaseGraceMs: 300 });
    await createService(env, 'web');
    await waitForIPs(env, 'web');
    const leases = env.kubeConfig.makeApiClient(CoordinationV1Api);
    // As a speaker writes them: ownership Leases carry the role label; 'unrelated' is someone else's.
    for (const name of [ipLeaseName('192.0.2.130'), ipLeaseName('192.0.2.131'), 'unrelated']) {
      const labels: Record<string, string> = name === 'unrelated' ? {} : { [ROLE_LABEL]: 'ip' };
      await leases.createNamespacedLease({
        namespace: env.system,
        body: { metadata: { name, labels }, spec: { holderIdentity: 'node-a' } },
      });
    }
    await eventually(async () => {
      const names = (await leases.listNamespacedLease({ namespace: env.system })).items.map((l) => l.metadata?.name);
      expect(names).not.toContain(ipLeaseName('192.0.2.131'));
      expect(names).toContain(ipLeaseName('192.0.2.130'));
      expect(names).toContain('unrelated');
    });
  });
});
