// The speaker's candidate rules end to end through the double: its caches of
// Nodes, pools, L2Advertisements, Services and EndpointSlices decide who may
// hold an IP, and the Lease election follows them.
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type V1EndpointSlice } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { EXCLUDE_FROM_LB_LABEL } from '../../src/election/candidates.js';
import { ironlbObject } from '../ironlb-objects.js';
import { Cluster, NS, until } from './speaker-harness.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const NODES: Record<string, Record<string, string>> = {
  'node-a': { zone: 'a' },
  'node-b': { zone: 'a' },
  'node-c': { zone: 'b' },
};

interface Apis {
  core: CoreV1Api;
  custom: CustomObjectsApi;
  discovery: DiscoveryV1Api;
}

async function setUp(advertisementSpec: Record<string, unknown>): Promise<{ c: Cluster; apis: Apis }> {
  const c = await Cluster.start();
  cluster = c;
  const kc = c.server.kubeConfig;
  const apis = {
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    discovery: kc.makeApiClient(DiscoveryV1Api),
  };
  for (const [name, labels] of Object.entries(NODES))
    await apis.core.createNode({ body: { metadata: { name, labels } } });
  await apis.custom.createNamespacedCustomObject(
    ironlbObject('IPAddressPool', NS, 'pool-a', { addresses: ['198.51.100.0/24'] }),
  );
  await apis.custom.createNamespacedCustomObject(ironlbObject('L2Advertisement', NS, 'l2', advertisementSpec));
  for (const node of Object.keys(NODES)) await c.addSpeakerWithView(node);
  await c.settled();
  return { c, apis };
}

/** A LoadBalancer Service holding `ip` from pool-a, as the controller leaves it. */
async function service(
  apis: Apis,
  name: string,
  ip: string,
  externalTrafficPolicy: 'Cluster' | 'Local',
): Promise<void> {
  await apis.core.createNamespacedService({
    namespace: 'default',
    body: {
      metadata: { name, annotations: { 'ironlb.io/ip-allocated-from-pool': 'pool-a' } },
      spec: {
        type: 'LoadBalancer',
        externalTrafficPolicy,
        selector: { app: name },
        ports: [{ port: 80, protocol: 'TCP' }],
      },
    },
  });
  const current = await apis.core.readNamespacedService({ name, namespace: 'default' });
  current.status = { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } };
  await apis.core.replaceNamespacedServiceStatus({ name, namespace: 'default', body: current });
}

function slice(service: string, nodes: Record<string, boolean>): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: Object.entries(nodes).map(([nodeName, ready], i) => ({
      addresses: [`10.0.0.${i + 1}`],
      nodeName,
      conditions: { ready },
    })),
  };
}

async function setLabels(apis: Apis, node: string, labels: Record<string, string>): Promise<void> {
  const current = await apis.core.readNode({ name: node });
  current.metadata = { ...current.metadata, labels };
  await apis.core.replaceNode({ name: node, body: current });
}

describe('speaker candidates through the caches', () => {
  it('externalTrafficPolicy Local: the owner follows the ready endpoints', async () => {
    const { c, apis } = await setUp({});
    const ip = '198.51.100.10';
    await apis.discovery.createNamespacedEndpointSlice({
      namespace: 'default',
      body: slice('web', { 'node-b': true, 'node-a': false }),
    });
    await service(apis, 'web', ip, 'Local');
    await until(
      () => c.segment.ownerOf(ip) === 'node-b',
      30_000,
      'node-b, the only node with a ready endpoint, to answer',
    );
    // The endpoint moves to node-c: node-b steps down, node-c takes over.
    await apis.discovery.replaceNamespacedEndpointSlice({
      name: 'web-1',
      namespace: 'default',
      body: slice('web', { 'node-b': false, 'node-c': true }),
    });
    await until(() => c.segment.ownerOf(ip) === 'node-c', 30_000, 'node-c to take over');
    expect(c.segment.maxAnswering.get(ip)).toBe(1);
    expect((await c.holders()).get(ip)).toBe('node-c');
    expect(c.speakers.get('node-b')?.events.map((e) => e.reason)).toEqual(['Announcing', 'Withdrawn']);
  });

  it('only nodes the L2Advertisement selects answer, and an excluded node hands its IPs over', async () => {
    const { c, apis } = await setUp({ nodeSelectors: [{ matchLabels: { zone: 'a' } }] });
    const ips = ['198.51.100.20', '198.51.100.21', '198.51.100.22', '198.51.100.23'];
    for (const [i, ip] of ips.entries()) await service(apis, `svc-${i}`, ip, 'Cluster');
    await until(() => ips.every((ip) => c.segment.ownerOf(ip) !== undefined), 30_000, 'every IP answered');
    for (const ip of ips) expect(['node-a', 'node-b']).toContain(c.segment.ownerOf(ip));
    const heldByA = ips.filter((ip) => c.segment.ownerOf(ip) === 'node-a');
    expect(heldByA.length).toBeGreaterThan(0);
    await setLabels(apis, 'node-a', { ...NODES['node-a'], [EXCLUDE_FROM_LB_LABEL]: 'true' });
    await until(
      () => heldByA.every((ip) => c.segment.ownerOf(ip) === 'node-b'),
      30_000,
      'node-b to take over from the excluded node',
    );
    for (const ip of ips) expect(c.segment.maxAnswering.get(ip)).toBe(1);
    expect([...c.segment.answering.values()].some((set) => set.has('node-c'))).toBe(false);
  });
});
