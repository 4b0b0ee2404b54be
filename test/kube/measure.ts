// Throughput of the double through the real client (not a test; prints numbers).
// Run: npm run build && node dist/test/kube/measure.js
import { CoordinationV1Api, CoreV1Api, V1MicroTime } from '@kubernetes/client-node';
import { startApiServer } from './apiserver.js';

async function main(): Promise<void> {
  const api = await startApiServer({ namespaces: ['ironlb-system'] });
  const leases = api.kubeConfig.makeApiClient(CoordinationV1Api);
  const core = api.kubeConfig.makeApiClient(CoreV1Api);
  const results: Record<string, number> = {};

  let lease = await leases.createNamespacedLease({
    namespace: 'ironlb-system',
    body: {
      metadata: { name: 'ironlb-node-a' },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 3, renewTime: new V1MicroTime() },
    },
  });
  const updates = 2000;
  let started = performance.now();
  for (let i = 0; i < updates; i++) {
    lease = await leases.replaceNamespacedLease({
      namespace: 'ironlb-system',
      name: 'ironlb-node-a',
      body: { ...lease, spec: { ...lease.spec, renewTime: new V1MicroTime() } },
    });
  }
  results['lease CAS updates/s (sequential)'] = Math.round(updates / ((performance.now() - started) / 1000));

  const services = 10_000;
  started = performance.now();
  const batch = 50;
  for (let i = 0; i < services; i += batch) {
    await Promise.all(
      Array.from({ length: batch }, (_, j) =>
        core.createNamespacedService({
          namespace: 'ironlb-system',
          body: { metadata: { name: `svc-${i + j}` }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } },
        }),
      ),
    );
  }
  results['service creates/s (50 in flight)'] = Math.round(services / ((performance.now() - started) / 1000));

  started = performance.now();
  const list = await core.listNamespacedService({ namespace: 'ironlb-system' });
  results[`list of ${list.items.length} services, ms`] = Math.round(performance.now() - started);

  await api.close();
  console.table(results);
}

await main();
