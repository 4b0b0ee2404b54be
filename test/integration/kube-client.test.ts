import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import {
  LeaseClient,
  createInformer,
  createKubeClient,
  patchServiceStatus,
  servicesKind,
  type KubeClient,
} from '../../src/kube/index.js';
import { createControllerMetrics } from '../../src/metrics/metrics.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { apiTargets, type ApiTarget } from '../kube/targets.js';
import { useApiTarget } from '../kube/target-suite.js';

// Every request made through src/kube is reported to onRequest with the same
// verb and resource names the API server itself uses (the double counts too).

function tally(entries: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of entries) counts[entry] = (counts[entry] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort());
}

for (const factory of apiTargets()) {
  describe(`KubeClient request counting (${factory.name})`, () => {
    let target: ApiTarget;
    let ns: string;

    useApiTarget(factory, {
      started: (up) => {
        target = up;
      },
      namespace: (name) => {
        ns = name;
        target.double?.counters.reset();
      },
    });

    it('reports each request by verb and resource, matching what the server counted', async () => {
      const seen: string[] = [];
      const client = createKubeClient({
        kubeConfig: target.kubeConfig,
        onRequest: (verb, resource) => seen.push(`${verb} ${resource}`),
      });
      await client.core.createNamespacedService({
        namespace: ns,
        body: { metadata: { name: 'web' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } },
      });
      await client.core.readNamespacedService({ namespace: ns, name: 'web' });
      await patchServiceStatus(client, ns, 'web', { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } });
      const leases = new LeaseClient(client, ns);
      const created = await leases.create('ironlb-node-a', { holderIdentity: 'a' });
      if (!created.ok) throw new Error('create failed');
      await leases.update(created.lease);
      await leases.delete('ironlb-node-a');
      const informer = createInformer(client, servicesKind(ns));
      informer.start();
      await informer.waitForSync();
      // Counted on sending; on the double, also wait until the server has it before aborting the watch.
      const watchReached = (): boolean =>
        seen.includes('watch services') && (target.double?.counters.get('watch', 'services') ?? 1) >= 1;
      while (!watchReached()) await new Promise((resolve) => setTimeout(resolve, 10));
      await informer.stop();
      expect(tally(seen)).toEqual({
        'create leases': 1,
        'create services': 1,
        'delete leases': 1,
        'get services': 1,
        'list services': 1,
        'patch services/status': 1,
        'update leases': 1,
        'watch services': 1,
      });
      // Counters were reset after the test namespace was made, so both sides saw exactly these requests.
      if (target.double) expect(tally(seen)).toEqual(target.double.counters.snapshot());
    });

    it('feeds ironlb_api_requests_total', async () => {
      const metrics = createControllerMetrics(new Registry());
      const client = createKubeClient({
        kubeConfig: target.kubeConfig,
        onRequest: (verb, resource) => metrics.apiRequests.inc({ verb, resource }),
      });
      await client.core.listNamespacedService({ namespace: ns });
      await client.core.listNamespacedService({ namespace: ns });
      const text = await metrics.registry.metrics();
      expect(text).toContain('ironlb_api_requests_total{verb="list",resource="services"} 2');
    });

    it('a throwing onRequest hook does not fail the request', async () => {
      const client = createKubeClient({
        kubeConfig: target.kubeConfig,
        onRequest: () => {
          throw new Error('metrics broken');
        },
      });
      const list = await client.core.listNamespacedService({ namespace: ns });
      expect(list.items).toEqual([]);
    });
  });
}

describe('KubeClient timeouts and configuration (double)', () => {
  let server: ApiServer;

  beforeEach(async () => {
    server = await startApiServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('aborts a request the server does not answer within requestTimeoutMs', async () => {
    const client: KubeClient = createKubeClient({ kubeConfig: server.kubeConfig, requestTimeoutMs: 200 });
    server.faults.latency(3000);
    await expect(client.core.listNamespacedService({ namespace: 'default' })).rejects.toThrow(/abort/i);
    server.faults.latency(0);
    await expect(client.core.listNamespacedService({ namespace: 'default' })).resolves.toBeDefined();
  });

  it('refuses a kubeconfig without a current cluster', async () => {
    const { KubeConfig } = await import('@kubernetes/client-node');
    expect(() => createKubeClient({ kubeConfig: new KubeConfig() })).toThrow(/no current cluster/);
  });
});
