import type { V1Service } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createKubeClient,
  isConflict,
  patchIPAddressPoolStatus,
  patchServiceAnnotations,
  patchServiceStatus,
  type KubeClient,
} from '../../src/kube/index.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';

// Each writer touches only its own part of the object: status through the
// status subresource, annotations through metadata; the user's spec is never rewritten.

const NS = 'ironlb-system';

function service(name: string): V1Service {
  return {
    metadata: { name, namespace: 'default', annotations: { 'user/note': 'keep me' } },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
  };
}

describe('status and annotation writes', () => {
  let server: ApiServer;
  let client: KubeClient;
  let requests: string[];

  beforeEach(async () => {
    server = await startApiServer({ namespaces: [NS] });
    requests = [];
    client = createKubeClient({ kubeConfig: server.kubeConfig, onRequest: (verb, resource) => requests.push(`${verb} ${resource}`) });
  });

  afterEach(async () => {
    await server.close();
  });

  it('writes Service status through the status subresource and leaves spec and metadata alone', async () => {
    const created = await client.core.createNamespacedService({ namespace: 'default', body: service('web') });
    const stored = await patchServiceStatus(client, 'default', 'web', {
      loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP' }] },
      conditions: [
        { type: 'ironlb.io/Allocated', status: 'True', reason: 'IPAllocated', message: '192.0.2.10 from pool lab', lastTransitionTime: new Date('2026-01-01T00:00:00Z') },
      ],
    });
    expect(stored.status?.loadBalancer?.ingress).toEqual([{ ip: '192.0.2.10', ipMode: 'VIP' }]);
    expect(stored.status?.conditions?.[0]?.reason).toBe('IPAllocated');
    expect(stored.spec).toEqual(created.spec);
    expect(stored.metadata?.annotations).toEqual({ 'user/note': 'keep me' });
    expect(stored.metadata?.generation).toBe(created.metadata?.generation);
    expect(requests).toContain('patch services/status');
    expect(server.counters.get('patch', 'services/status')).toBe(1);
    expect(server.counters.get('patch', 'services')).toBe(0);
  });

  it('replaces the ingress list whole, so an IP can be withdrawn', async () => {
    await client.core.createNamespacedService({ namespace: 'default', body: service('web') });
    await patchServiceStatus(client, 'default', 'web', { loadBalancer: { ingress: [{ ip: '192.0.2.10' }, { ip: '2001:db8::10' }] } });
    const stored = await patchServiceStatus(client, 'default', 'web', { loadBalancer: { ingress: [{ ip: '2001:db8::10' }] } });
    expect(stored.status?.loadBalancer?.ingress).toEqual([{ ip: '2001:db8::10' }]);
  });

  it('sets and removes annotations without touching spec, status or other annotations', async () => {
    await client.core.createNamespacedService({ namespace: 'default', body: service('web') });
    await patchServiceStatus(client, 'default', 'web', { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } });
    const added = await patchServiceAnnotations(client, 'default', 'web', { 'ironlb.io/ip-allocated-from-pool': 'lab' });
    expect(added.metadata?.annotations).toEqual({ 'user/note': 'keep me', 'ironlb.io/ip-allocated-from-pool': 'lab' });
    expect(added.status?.loadBalancer?.ingress).toEqual([{ ip: '192.0.2.10' }]);
    const removed = await patchServiceAnnotations(client, 'default', 'web', { 'ironlb.io/ip-allocated-from-pool': null });
    expect(removed.metadata?.annotations).toEqual({ 'user/note': 'keep me' });
    expect(removed.spec?.ports).toEqual(added.spec?.ports);
  });

  it('fails with 409 when a resourceVersion precondition is stale', async () => {
    const created = await client.core.createNamespacedService({ namespace: 'default', body: service('web') });
    const staleVersion = created.metadata?.resourceVersion;
    await patchServiceAnnotations(client, 'default', 'web', { a: '1' });
    const statusWrite = patchServiceStatus(client, 'default', 'web', { loadBalancer: { ingress: [] } }, { resourceVersion: staleVersion });
    await expect(statusWrite).rejects.toSatisfy(isConflict);
    const annotationWrite = patchServiceAnnotations(client, 'default', 'web', { b: '2' }, { resourceVersion: staleVersion });
    await expect(annotationWrite).rejects.toSatisfy(isConflict);
  });

  it('writes IPAddressPool status through its status subresource; spec is kept', async () => {
    const created: unknown = await client.custom.createNamespacedCustomObject({
      group: 'ironlb.io',
      version: 'v1beta1',
      namespace: NS,
      plural: 'ipaddresspools',
      body: { apiVersion: 'ironlb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'lab' }, spec: { addresses: ['192.0.2.0/28'] } },
    });
    const status = {
      assignedIPv4: '1',
      availableIPv4: '15',
      conditions: [{ type: 'Valid', status: 'True', reason: 'Valid', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    };
    const stored = (await patchIPAddressPoolStatus(client, NS, 'lab', status)) as { spec?: unknown; status?: unknown };
    expect(stored.status).toEqual(status);
    expect(stored.spec).toEqual((created as { spec?: unknown }).spec);
    expect(stored.spec).toMatchObject({ addresses: ['192.0.2.0/28'] });
    expect(server.counters.get('patch', 'ipaddresspools/status')).toBe(1);
  });

  it('surfaces the server refusing a malformed pool status (schema) as an error', async () => {
    await client.custom.createNamespacedCustomObject({
      group: 'ironlb.io',
      version: 'v1beta1',
      namespace: NS,
      plural: 'ipaddresspools',
      body: { apiVersion: 'ironlb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'lab' }, spec: { addresses: ['192.0.2.0/28'] } },
    });
    const bad = patchIPAddressPoolStatus(client, NS, 'lab', { conditions: [{ type: 'Valid', status: 'Maybe', reason: 'X', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] });
    await expect(bad).rejects.toMatchObject({ code: 422 });
  });

  it('rejects empty names and keys before sending anything', async () => {
    await expect(patchServiceStatus(client, '', 'web', {})).rejects.toThrow(/namespace is empty/);
    await expect(patchServiceStatus(client, 'default', '', {})).rejects.toThrow(/name is empty/);
    await expect(patchServiceAnnotations(client, 'default', 'web', { '': 'x' })).rejects.toThrow(/empty annotation key/);
    await expect(patchIPAddressPoolStatus(client, NS, '', {})).rejects.toThrow(/name is empty/);
    expect(requests).toEqual([]);
  });
});
