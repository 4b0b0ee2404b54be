import { DiscoveryV1Api, type V1Service } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createInformer,
  createKubeClient,
  endpointSlicesKind,
  ipAddressPoolsKind,
  l2AdvertisementsKind,
  leasesKind,
  namespacesKind,
  nodesKind,
  servicesKind,
  type Informer,
  type KubeClient,
} from '../../src/kube/index.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { apiTargets, createTestNamespace, deleteTestNamespace, type ApiTarget } from '../kube/targets.js';
import { waitFor } from '../wait.js';
import { ironlbObject } from '../ironlb-objects.js';

// The informer: list and watch on the double and (when configured) a real API
// server; the ways a watch goes wrong (410 Gone, dropped connections, a full
// outage) on the double, which can inject them.

function service(name: string, port = 80): V1Service {
  return { metadata: { name }, spec: { type: 'LoadBalancer', ports: [{ port, protocol: 'TCP' }] } };
}

interface Recorded {
  events: string[];
  synced: number;
}

function record(informer: Informer<V1Service>): Recorded {
  const recorded: Recorded = { events: [], synced: 0 };
  informer.on({
    onAdd: (s) => recorded.events.push(`add ${s.metadata?.name}`),
    onUpdate: (s, old) =>
      recorded.events.push(`update ${s.metadata?.name} ${old.spec?.ports?.[0]?.port}->${s.spec?.ports?.[0]?.port}`),
    onDelete: (s) => recorded.events.push(`delete ${s.metadata?.name}`),
    onSynced: () => {
      recorded.synced += 1;
      recorded.events.push('synced');
    },
  });
  return recorded;
}

for (const factory of apiTargets()) {
  describe(`informer list and watch (${factory.name})`, () => {
    let target: ApiTarget;
    let client: KubeClient;
    let writer: KubeClient;
    let ns: string;
    const informers: Array<Informer<V1Service>> = [];

    const start = (options: Parameters<typeof createInformer>[2] = {}): Informer<V1Service> => {
      const informer = createInformer(client, servicesKind(ns), { backoff: { initialMs: 50, maxMs: 400 }, ...options });
      informers.push(informer);
      return informer;
    };

    beforeAll(async () => {
      target = await factory.start();
      client = createKubeClient({ kubeConfig: target.kubeConfig });
      writer = createKubeClient({ kubeConfig: target.kubeConfig });
    });
    afterAll(async () => {
      await target.stop();
    });
    beforeEach(async () => {
      ns = await createTestNamespace(target.kubeConfig);
    });
    afterEach(async () => {
      for (const informer of informers.splice(0)) await informer.stop();
      await deleteTestNamespace(target.kubeConfig, ns);
    });

    it('delivers the initial list as adds, then synced, then watch events in order', async () => {
      await writer.core.createNamespacedService({ namespace: ns, body: service('a') });
      await writer.core.createNamespacedService({ namespace: ns, body: service('b') });
      const informer = start();
      const recorded = record(informer);
      informer.start();
      await informer.waitForSync();
      expect(recorded.events.slice().sort()).toEqual(['add a', 'add b', 'synced']);
      expect(recorded.events[2]).toBe('synced');
      expect(
        informer
          .list()
          .map((s) => s.metadata?.name)
          .sort(),
      ).toEqual(['a', 'b']);

      await writer.core.createNamespacedService({ namespace: ns, body: service('c') });
      await writer.core.patchNamespacedService({
        namespace: ns,
        name: 'a',
        body: [{ op: 'replace', path: '/spec/ports/0/port', value: 8080 }],
      });
      await writer.core.deleteNamespacedService({ namespace: ns, name: 'b' });
      await waitFor('three watch events', () => recorded.events.length === 6);
      expect(recorded.events.slice(3)).toEqual(['add c', 'update a 80->8080', 'delete b']);
      expect(informer.get(ns, 'a')?.spec?.ports?.[0]?.port).toBe(8080);
      expect(informer.get(ns, 'b')).toBeUndefined();
      expect(recorded.synced).toBe(1);
    });

    it('decodes list items and watch events the same way (Dates are Dates)', async () => {
      await writer.core.createNamespacedService({ namespace: ns, body: service('listed') });
      const informer = start();
      informer.start();
      await informer.waitForSync();
      await writer.core.createNamespacedService({ namespace: ns, body: service('watched') });
      await waitFor('watched service', () => informer.get(ns, 'watched') !== undefined);
      expect(informer.get(ns, 'listed')?.metadata?.creationTimestamp).toBeInstanceOf(Date);
      expect(informer.get(ns, 'watched')?.metadata?.creationTimestamp).toBeInstanceOf(Date);
    });

    it('a handler registered after sync gets the cache as adds and a synced call', async () => {
      await writer.core.createNamespacedService({ namespace: ns, body: service('early') });
      const informer = start();
      informer.start();
      await informer.waitForSync();
      const recorded = record(informer);
      expect(recorded.events).toEqual(['add early', 'synced']);
    });

    it('a throwing handler does not stop other handlers or the watch', async () => {
      const informer = start();
      informer.on({
        onAdd: () => {
          throw new Error('handler bug');
        },
      });
      const recorded = record(informer);
      informer.start();
      await informer.waitForSync();
      await writer.core.createNamespacedService({ namespace: ns, body: service('x') });
      await writer.core.createNamespacedService({ namespace: ns, body: service('y') });
      await waitFor('both adds', () => recorded.events.includes('add y'));
      expect(recorded.events).toEqual(['synced', 'add x', 'add y']);
    });

    it('lists and watches every kind ironlb uses: our CRDs, EndpointSlices, Leases, Namespaces, Nodes', async () => {
      const pools = createInformer(client, ipAddressPoolsKind(ns));
      const adverts = createInformer(client, l2AdvertisementsKind(ns));
      const slices = createInformer(client, endpointSlicesKind(ns));
      const leases = createInformer(client, leasesKind(ns));
      const namespaces = createInformer(client, namespacesKind());
      const nodes = createInformer(client, nodesKind());
      const all = [pools, adverts, slices, leases, namespaces, nodes];
      for (const informer of all) informer.start();
      try {
        await Promise.all(all.map((informer) => informer.waitForSync()));
        expect(namespaces.get('', ns)?.metadata?.name).toBe(ns);
        expect(nodes.hasSynced()).toBe(true);
        await writer.custom.createNamespacedCustomObject(
          ironlbObject('IPAddressPool', ns, 'lab', { addresses: ['192.0.2.0/28'] }),
        );
        await writer.custom.createNamespacedCustomObject(ironlbObject('L2Advertisement', ns, 'all', {}));
        await writer.core.createNamespacedService({ namespace: ns, body: service('web') });
        await target.kubeConfig.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({
          namespace: ns,
          body: {
            metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
            addressType: 'IPv4',
            endpoints: [{ addresses: ['198.51.100.7'], nodeName: 'node-a' }],
          },
        });
        await writer.coordination.createNamespacedLease({
          namespace: ns,
          body: { metadata: { name: 'ironlb-node-a' }, spec: { holderIdentity: 'node-a' } },
        });
        await waitFor(
          'every object in its cache',
          () =>
            pools.get(ns, 'lab') !== undefined &&
            adverts.get(ns, 'all') !== undefined &&
            slices.get(ns, 'web-1') !== undefined &&
            leases.get(ns, 'ironlb-node-a') !== undefined,
        );
        expect((pools.get(ns, 'lab') as { spec?: unknown }).spec).toMatchObject({ addresses: ['192.0.2.0/28'] });
        expect(slices.get(ns, 'web-1')?.endpoints?.[0]?.nodeName).toBe('node-a');
        expect(leases.get(ns, 'ironlb-node-a')?.spec?.holderIdentity).toBe('node-a');
      } finally {
        for (const informer of all) await informer.stop();
      }
    });

    it('decodes multi-byte characters split across network chunks, in lists and in watch events', async () => {
      // 60,000 three-byte characters: the body spans many chunks, and some boundary falls inside a character.
      const note = '€'.repeat(60_000);
      const annotated = (name: string): V1Service => ({ ...service(name), metadata: { name, annotations: { note } } });
      await writer.core.createNamespacedService({ namespace: ns, body: annotated('listed') });
      const informer = start();
      informer.start();
      await informer.waitForSync();
      await writer.core.createNamespacedService({ namespace: ns, body: annotated('watched') });
      await waitFor('watched service', () => informer.get(ns, 'watched') !== undefined);
      expect(informer.get(ns, 'listed')?.metadata?.annotations?.note === note).toBe(true);
      expect(informer.get(ns, 'watched')?.metadata?.annotations?.note === note).toBe(true);
    });

    it('filters by label selector on list and watch', async () => {
      await writer.core.createNamespacedService({
        namespace: ns,
        body: { ...service('mine'), metadata: { name: 'mine', namespace: ns, labels: { team: 'lb' } } },
      });
      await writer.core.createNamespacedService({ namespace: ns, body: service('other') });
      const informer = start({ labelSelector: 'team=lb' });
      informer.start();
      await informer.waitForSync();
      expect(informer.list().map((s) => s.metadata?.name)).toEqual(['mine']);
    });
  });
}

describe('informer under faults (double)', () => {
  let server: ApiServer;
  let client: KubeClient;
  let writer: KubeClient;
  let requests: string[];
  const informers: Array<Informer<V1Service>> = [];

  const start = (options: Parameters<typeof createInformer>[2] = {}): Informer<V1Service> => {
    const informer = createInformer(client, servicesKind(), { backoff: { initialMs: 50, maxMs: 400 }, ...options });
    informers.push(informer);
    return informer;
  };

  beforeEach(async () => {
    server = await startApiServer({ bookmarkIntervalMs: 200 });
    requests = [];
    client = createKubeClient({
      kubeConfig: server.kubeConfig,
      onRequest: (verb, resource) => requests.push(`${verb} ${resource}`),
    });
    writer = createKubeClient({ kubeConfig: server.kubeConfig });
  });

  afterEach(async () => {
    for (const informer of informers.splice(0)) await informer.stop();
    await server.close();
  });
  it('resumes from the last resourceVersion after a dropped watch, without relisting', async () => {
    const informer = start();
    const recorded = record(informer);
    informer.start();
    await informer.waitForSync();
    await waitFor('watch open', () => server.openWatches === 1);
    expect(server.faults.dropWatches()).toBe(1);
    await writer.core.createNamespacedService({ namespace: 'default', body: service('after-drop') });
    await waitFor('event after the drop', () => recorded.events.includes('add after-drop'));
    expect(requests.filter((r) => r === 'list services')).toHaveLength(1);
    expect(requests.filter((r) => r === 'watch services').length).toBeGreaterThanOrEqual(2);
  });

  it('abandons a watch that hangs without answering (idle timeout) and reconnects', async () => {
    const informer = start({ idleTimeoutMs: 500 });
    informer.start();
    await informer.waitForSync();
    await waitFor('watch open', () => server.openWatches === 1);
    server.faults.latency(20_000);
    server.faults.dropWatches();
    // The first watch, the hung one, and at least one more after the hung one was given up.
    await waitFor(
      'a retry after the hung watch',
      () => requests.filter((r) => r === 'watch services').length >= 3,
      10_000,
    );
    server.faults.latency(0);
    await writer.core.createNamespacedService({ namespace: 'default', body: service('after-hang') });
    await waitFor('event after the hang', () => informer.get('default', 'after-hang') !== undefined);
  });

  it('stop() aborts a list in flight instead of waiting for the server', async () => {
    // The server holds the list for 30 s and the client would wait 60 s; this test has 15 s.
    const patient = createKubeClient({ kubeConfig: server.kubeConfig, requestTimeoutMs: 60_000 });
    const informer = createInformer(patient, servicesKind());
    server.faults.latency(30_000);
    informer.start();
    const waiting = informer.waitForSync();
    await waitFor('list sent', () => server.counters.get('list', 'services') === 1);
    await informer.stop();
    await expect(waiting).rejects.toThrow(/stopped before its first list/);
    server.faults.latency(0);
  }, 15_000);

  it('relists after 410 Gone and reports what changed while it was away', async () => {
    await writer.core.createNamespacedService({ namespace: 'default', body: service('kept', 80) });
    await writer.core.createNamespacedService({ namespace: 'default', body: service('removed') });
    // Bookmarks off: the informer must hold an old resourceVersion when history is compacted.
    const informer = start();
    const recorded = record(informer);
    informer.start();
    await informer.waitForSync();
    await waitFor('watch open', () => server.openWatches === 1);
    server.faults.failNext(1000, 503, { verb: 'watch', resource: 'services' });
    server.faults.dropWatches();
    await waitFor('a failed re-watch', () => requests.filter((r) => r === 'watch services').length >= 2);
    // Meanwhile: one added, one changed, one deleted; then history is gone.
    await writer.core.createNamespacedService({ namespace: 'default', body: service('added') });
    await writer.core.patchNamespacedService({
      namespace: 'default',
      name: 'kept',
      body: [{ op: 'replace', path: '/spec/ports/0/port', value: 81 }],
    });
    await writer.core.deleteNamespacedService({ namespace: 'default', name: 'removed' });
    server.compactHistory();
    await server.faults.reset();
    await waitFor('relist', () => requests.filter((r) => r === 'list services').length === 2);
    await waitFor('changes reported', () => recorded.events.length >= 6);
    expect(recorded.events.slice(3).sort()).toEqual(['add added', 'delete removed', 'update kept 80->81']);
    expect(
      informer
        .list()
        .map((s) => s.metadata?.name)
        .sort(),
    ).toEqual(['added', 'kept']);
    expect(recorded.synced).toBe(1);
  });

  it('keeps its resourceVersion current through bookmarks, so a drop after quiet time needs no relist', async () => {
    const informer = start();
    informer.start();
    await informer.waitForSync();
    const listedAt = informer.lastResourceVersion();
    // Changes to another resource move the global resourceVersion; only bookmarks tell the services watch.
    await writer.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'noise' } } });
    const latest = (await writer.core.listNamespacedConfigMap({ namespace: 'default' })).metadata?.resourceVersion;
    await waitFor('bookmark with the newer resourceVersion', () => informer.lastResourceVersion() === latest);
    expect(informer.lastResourceVersion()).not.toBe(listedAt);
    server.compactHistory();
    server.faults.dropWatches();
    await writer.core.createNamespacedService({ namespace: 'default', body: service('after-compaction') });
    await waitFor('event after the drop', () => informer.get('default', 'after-compaction') !== undefined);
    expect(requests.filter((r) => r === 'list services')).toHaveLength(1);
  });

  it('rides out a full outage with backoff (no busy loop) and catches up afterwards', async () => {
    await writer.core.createNamespacedService({ namespace: 'default', body: service('before') });
    const informer = start({ backoff: { initialMs: 100, maxMs: 400 } });
    const recorded = record(informer);
    informer.start();
    await informer.waitForSync();
    await waitFor('watch open', () => server.openWatches === 1);
    const before = requests.length;
    await server.faults.outage(true);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const attemptsDuringOutage = requests.length - before;
    // Backoff 100 ms doubling to 400 ms gives about 6 attempts in 2 s; a busy loop would make thousands.
    expect(attemptsDuringOutage).toBeGreaterThanOrEqual(2);
    expect(attemptsDuringOutage).toBeLessThan(40);
    await server.faults.outage(false);
    // Changes made right after the outage, before the informer is back, must still arrive.
    await writer.core.createNamespacedService({ namespace: 'default', body: service('during') });
    await writer.core.deleteNamespacedService({ namespace: 'default', name: 'before' });
    await waitFor(
      'catch-up',
      () => recorded.events.includes('delete before') && recorded.events.includes('add during'),
    );
    expect(informer.list().map((s) => s.metadata?.name)).toEqual(['during']);
  });

  it('starts a fresh backoff when a watch that was healthy fails, whatever an earlier outage left', async () => {
    // Every retry is logged with the backoff it will wait: read them from the log.
    const retries: number[] = [];
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => void retries.push((JSON.parse(line) as { retryInMs: number }).retryInMs) },
    );
    const informer = start({ backoff: { initialMs: 50, maxMs: 60_000 }, logger });
    informer.start();
    await informer.waitForSync();
    await server.faults.outage(true);
    // 50, 100, 200, 400, 800 ms: five failures double the backoff well past its start.
    await waitFor('five failed attempts', () => retries.length >= 5);
    await server.faults.outage(false);
    await waitFor('watch open again', () => server.openWatches === 1, 30_000);
    // Bookmarks every 200 ms: the new watch delivers news, so it is healthy.
    const listedBefore = retries.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    server.faults.dropWatches();
    await waitFor('the drop logged', () => retries.length > listedBefore);
    expect(Math.max(...retries.slice(0, listedBefore))).toBeGreaterThanOrEqual(800);
    expect(retries[listedBefore]).toBe(50);
  });

  it('rejects waitForSync when stopped before the first list, and refuses to restart', async () => {
    await server.faults.outage(true);
    const informer = start();
    informer.start();
    const waiting = informer.waitForSync();
    await informer.stop();
    await expect(waiting).rejects.toThrow(/stopped before its first list/);
    expect(() => informer.start()).toThrow(/was stopped/);
  });
});

describe('informer on a quiet resource (double)', () => {
  let server: ApiServer;

  beforeEach(async () => {
    // No bookmarks: the watches below carry nothing at all.
    server = await startApiServer({ bookmarkIntervalMs: 600_000 });
  });
  afterEach(async () => {
    await server.close();
  });

  it('reconnects at once after a quiet watch ends normally (no growing backoff)', async () => {
    const requests: string[] = [];
    const client = createKubeClient({
      kubeConfig: server.kubeConfig,
      onRequest: (verb, resource) => requests.push(`${verb} ${resource}`),
    });
    // A 20 s initial backoff: were quiet watch ends treated as failures, the third watch would start after 30 s or
    // more.
    const informer = createInformer(client, servicesKind(), {
      watchTimeoutSeconds: 1,
      backoff: { initialMs: 20_000, maxMs: 60_000 },
    });
    informer.start();
    await informer.waitForSync();
    await waitFor('three watches', () => requests.filter((r) => r === 'watch services').length >= 3, 15_000);
    await informer.stop();
    expect(requests.filter((r) => r === 'list services')).toHaveLength(1);
  });
});
