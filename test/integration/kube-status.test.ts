import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  createKubeClient,
  isConflict,
  patchIPAddressPoolStatus,
  patchServiceAnnotations,
  patchServiceStatus,
  type KubeClient,
} from '../../src/kube/index.js';
import { apiTargets, type ApiTarget } from '../kube/targets.js';
import { useApiTarget } from '../kube/target-suite.js';
import { ironlbObject } from '../ironlb-objects.js';

// Each writer touches only its own part of the object: status through the
// status subresource, annotations through metadata; the user's spec is never
// rewritten. Runs against the double, and a real API server when configured.

function service(name: string): V1Service {
  return {
    metadata: { name, annotations: { 'user/note': 'keep me' } },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
  };
}

for (const factory of apiTargets()) {
  describe(`status and annotation writes (${factory.name})`, () => {
    let target: ApiTarget;
    let client: KubeClient;
    let ns: string;
    let requests: string[];

    useApiTarget(factory, {
      started: (up) => {
        target = up;
        const onRequest = (verb: string, resource: string): void => {
          requests.push(`${verb} ${resource}`);
        };
        client = createKubeClient({ kubeConfig: target.kubeConfig, onRequest });
      },
      namespace: (name) => {
        ns = name;
        requests = [];
      },
    });

    const createPool = (name: string): Promise<unknown> =>
      client.custom.createNamespacedCustomObject(
        ironlbObject('IPAddressPool', ns, name, { addresses: ['192.0.2.0/28'] }),
      );

    it('writes Service status through the status subresource and leaves spec and metadata alone', async () => {
      const created = await client.core.createNamespacedService({ namespace: ns, body: service('web') });
      requests = [];
      const stored = await patchServiceStatus(client, ns, 'web', {
        loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP' }] },
        conditions: [
          {
            type: 'ironlb.io/Allocated',
            status: 'True',
            reason: 'IPAllocated',
            message: '192.0.2.10 from pool lab',
            lastTransitionTime: new Date('2026-01-01T00:00:00Z'),
          },
        ],
      });
      expect(stored.status?.loadBalancer?.ingress).toEqual([{ ip: '192.0.2.10', ipMode: 'VIP' }]);
      expect(stored.status?.conditions?.[0]?.reason).toBe('IPAllocated');
      expect(stored.spec).toEqual(created.spec);
      expect(stored.metadata?.annotations).toEqual({ 'user/note': 'keep me' });
      expect(requests).toEqual(['patch services/status']);
      if (target.double) expect(target.double.counters.get('patch', 'services')).toBe(0);
    });

    it('replaces the ingress list whole, so an IP can be withdrawn', async () => {
      await client.core.createNamespacedService({ namespace: ns, body: service('web') });
      await patchServiceStatus(client, ns, 'web', {
        loadBalancer: { ingress: [{ ip: '192.0.2.10' }, { ip: '2001:db8::10' }] },
      });
      const stored = await patchServiceStatus(client, ns, 'web', {
        loadBalancer: { ingress: [{ ip: '2001:db8::10' }] },
      });
      // The server fills in ipMode VIP.
      expect(stored.status?.loadBalancer?.ingress).toEqual([{ ip: '2001:db8::10', ipMode: 'VIP' }]);
    });

    it('sets and removes annotations without touching spec, status or other annotations', async () => {
      await client.core.createNamespacedService({ namespace: ns, body: service('web') });
      await patchServiceStatus(client, ns, 'web', { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } });
      const added = await patchServiceAnnotations(client, ns, 'web', { 'ironlb.io/ip-allocated-from-pool': 'lab' });
      expect(added.metadata?.annotations).toEqual({
        'user/note': 'keep me',
        'ironlb.io/ip-allocated-from-pool': 'lab',
      });
      expect(added.status?.loadBalancer?.ingress).toEqual([{ ip: '192.0.2.10', ipMode: 'VIP' }]);
      const removed = await patchServiceAnnotations(client, ns, 'web', { 'ironlb.io/ip-allocated-from-pool': null });
      expect(removed.metadata?.annotations).toEqual({ 'user/note': 'keep me' });
      expect(removed.spec?.ports).toEqual(added.spec?.ports);
    });

    it('fails with 409 when a resourceVersion precondition is stale', async () => {
      const created = await client.core.createNamespacedService({ namespace: ns, body: service('web') });
      const staleVersion = created.metadata?.resourceVersion;
      await patchServiceAnnotations(client, ns, 'web', { a: '1' });
      const statusWrite = patchServiceStatus(
        client,
        ns,
        'web',
        { loadBalancer: { ingress: [] } },
        { resourceVersion: staleVersion },
      );
      await expect(statusWrite).rejects.toSatisfy(isConflict);
      const annotationWrite = patchServiceAnnotations(client, ns, 'web', { b: '2' }, { resourceVersion: staleVersion });
      await expect(annotationWrite).rejects.toSatisfy(isConflict);
    });

    it('writes IPAddressPool status through its status subresource; spec is kept', async () => {
      const created = (await createPool('lab')) as { spec?: unknown };
      const status = {
        assignedIPv4: '1',
        availableIPv4: '15',
        conditions: [
          { type: 'Valid', status: 'True', reason: 'Valid', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' },
        ],
      };
      requests = [];
      const stored = (await patchIPAddressPoolStatus(client, ns, 'lab', status)) as {
        spec?: unknown;
        status?: unknown;
      };
      expect(stored.status).toEqual(status);
      expect(stored.spec).toEqual(created.spec);
      expect(stored.spec).toMatchObject({ addresses: ['192.0.2.0/28'] });
      expect(requests).toEqual(['patch ipaddresspools/status']);
    });

    it('surfaces the server refusing a malformed pool status (schema) as an error', async () => {
      await createPool('lab');
      const bad = patchIPAddressPoolStatus(client, ns, 'lab', {
        conditions: [
          { type: 'Valid', status: 'Maybe', reason: 'X', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' },
        ],
      });
      await expect(bad).rejects.toMatchObject({ code: 422 });
    });

    it('rejects empty names and keys before sending anything', async () => {
      await expect(patchServiceStatus(client, '', 'web', {})).rejects.toThrow(/namespace is empty/);
      await expect(patchServiceStatus(client, ns, '', {})).rejects.toThrow(/name is empty/);
      await expect(patchServiceAnnotations(client, ns, 'web', { '': 'x' })).rejects.toThrow(/empty annotation key/);
      await expect(patchIPAddressPoolStatus(client, ns, '', {})).rejects.toThrow(/name is empty/);
      expect(requests).toEqual([]);
    });
  });
}
