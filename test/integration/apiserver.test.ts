// Faithfulness of the API server double: the same tests, through the real
// @kubernetes/client-node, against the double and (when IRONLB_TEST_KUBECONFIG
// is set) a real kube-apiserver. The double must never be kinder.
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  V1MicroTime,
  Watch,
  setHeaderOptions,
  type KubeConfig,
  type V1Service,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { apiTargets, failure, type ApiTarget } from '../kube/targets.js';
import { useApiTarget } from '../kube/target-suite.js';
import { waitFor } from '../wait.js';

const group = 'ironlb.io';
const version = 'v1beta1';
const plural = 'ipaddresspools';

interface Pool {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

function pool(name: string, spec: Record<string, unknown>): Pool {
  return { apiVersion: `${group}/${version}`, kind: 'IPAddressPool', metadata: { name }, spec };
}

function lbService(name: string, labels: Record<string, string> = {}, type = 'LoadBalancer'): V1Service {
  return {
    metadata: { name, labels },
    spec: { type, ports: [{ port: 80, protocol: 'TCP' }], selector: { app: name } },
  };
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface WatchEvent {
  type: string;
  object: { metadata?: { name?: string }; code?: number; reason?: string };
}

/** Starts a watch and collects its events until `stop()`. */
async function collectWatch(kubeConfig: KubeConfig, path: string, query: Record<string, string>) {
  const events: WatchEvent[] = [];
  let doneError: unknown = null;
  let done = false;
  const request = await new Watch(kubeConfig).watch(
    path,
    query,
    (type, object) => events.push({ type, object: object as WatchEvent['object'] }),
    (error) => {
      done = true;
      doneError = error;
    },
  );
  return {
    events,
    isDone: () => done,
    doneError: () => doneError,
    stop: () => request.abort(),
  };
}

for (const factory of apiTargets()) {
  describe(`API server faithfulness (${factory.name})`, () => {
    let target: ApiTarget;
    let namespace: string;
    let core: CoreV1Api;
    let leases: CoordinationV1Api;
    let custom: CustomObjectsApi;

    useApiTarget(factory, {
      started: (up) => {
        target = up;
        core = target.kubeConfig.makeApiClient(CoreV1Api);
        leases = target.kubeConfig.makeApiClient(CoordinationV1Api);
        custom = target.kubeConfig.makeApiClient(CustomObjectsApi);
      },
      namespace: (name) => {
        namespace = name;
      },
    });

    const createPool = (body: Pool) =>
      custom.createNamespacedCustomObject({ group, version, namespace, plural, body }) as Promise<Pool>;

    it('answers a second create with 409 AlreadyExists as a metav1.Status', async () => {
      await core.createNamespacedService({ namespace, body: lbService('web') });
      const status = await failure(core.createNamespacedService({ namespace, body: lbService('web') }));
      expect(status).toMatchObject({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'AlreadyExists',
        code: 409,
      });
      expect(status.message).toBe('services "web" already exists');
      expect(status.details).toMatchObject({ name: 'web', kind: 'services' });
    });

    it('answers an update with a stale resourceVersion with 409 Conflict', async () => {
      const created = await core.createNamespacedService({ namespace, body: lbService('web') });
      const first = { ...created, metadata: { ...created.metadata, labels: { step: 'one' } } };
      await core.replaceNamespacedService({ namespace, name: 'web', body: first });
      const stale = { ...created, metadata: { ...created.metadata, labels: { step: 'two' } } };
      const status = await failure(core.replaceNamespacedService({ namespace, name: 'web', body: stale }));
      expect(status).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 });
      expect(status.message).toContain('services "web"');
      expect(status.message).toContain('the object has been modified');
    });

    it('keeps Service status and spec apart: status ignored on the object, spec ignored on /status', async () => {
      const created = await core.createNamespacedService({
        namespace,
        body: { ...lbService('web'), status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } },
      });
      expect(created.status?.loadBalancer?.ingress ?? []).toEqual([]);

      const withStatus = await core.replaceNamespacedServiceStatus({
        namespace,
        name: 'web',
        body: {
          ...created,
          spec: { ...created.spec, ports: [{ port: 8080, protocol: 'TCP' }] },
          status: { loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP' }] } },
        },
      });
      expect(withStatus.spec?.ports?.map((p) => p.port)).toEqual([80]);
      expect(withStatus.status?.loadBalancer?.ingress?.[0]?.ip).toBe('192.0.2.10');

      const mainWrite = await core.replaceNamespacedService({
        namespace,
        name: 'web',
        body: { ...withStatus, metadata: { ...withStatus.metadata, labels: { a: 'b' } }, status: { loadBalancer: {} } },
      });
      expect(mainWrite.metadata?.labels).toEqual({ a: 'b' });
      expect(mainWrite.status?.loadBalancer?.ingress?.[0]?.ip).toBe('192.0.2.10');
    });

    it('keeps IPAddressPool status apart and bumps generation only on spec changes', async () => {
      const created = await createPool({
        ...pool('p1', { addresses: ['192.0.2.0/28'] }),
        status: { assignedIPv4: '5' },
      });
      expect(created.status).toBeUndefined();
      expect(created.metadata.generation).toBe(1);

      const statusWrite = (await custom.replaceNamespacedCustomObjectStatus({
        group,
        version,
        namespace,
        plural,
        name: 'p1',
        body: {
          ...created,
          spec: { addresses: ['198.51.100.0/28'] },
          status: { assignedIPv4: '1', availableIPv4: '15' },
        },
      })) as Pool;
      expect(statusWrite.spec.addresses).toEqual(['192.0.2.0/28']);
      expect(statusWrite.status).toEqual({ assignedIPv4: '1', availableIPv4: '15' });
      expect(statusWrite.metadata.generation).toBe(1);

      const specWrite = (await custom.replaceNamespacedCustomObject({
        group,
        version,
        namespace,
        plural,
        name: 'p1',
        body: { ...statusWrite, spec: { ...statusWrite.spec, addresses: ['203.0.113.0/28'] }, status: {} },
      })) as Pool;
      expect(specWrite.metadata.generation).toBe(2);
      expect(specWrite.status).toEqual({ assignedIPv4: '1', availableIPv4: '15' });
    });

    it('ends a watch from a long-compacted resourceVersion with 410 Expired', async () => {
      await core.createNamespacedService({ namespace, body: lbService('web') });
      const watch = await collectWatch(target.kubeConfig, `/api/v1/namespaces/${namespace}/services`, {
        resourceVersion: '1',
      });
      try {
        await waitFor('the watch to answer', () => watch.events.length > 0 || watch.isDone());
        // The watch cache answers 200 and an ERROR event carrying the 410 Status.
        const error = watch.events.find((e) => e.type === 'ERROR');
        const text = String(watch.doneError() ?? '');
        expect(error?.object.code === 410 || text.includes('410')).toBe(true);
        expect(watch.events.some((e) => e.type === 'ADDED')).toBe(false);
      } finally {
        watch.stop();
      }
    });

    it('resumes a watch after a resourceVersion with only the later events, and reports deletes', async () => {
      const first = await core.createNamespacedService({ namespace, body: lbService('first') });
      const watch = await collectWatch(target.kubeConfig, `/api/v1/namespaces/${namespace}/services`, {
        resourceVersion: first.metadata?.resourceVersion as string,
      });
      try {
        await core.createNamespacedService({ namespace, body: lbService('second') });
        await core.deleteNamespacedService({ namespace, name: 'first' });
        await waitFor('two events', () => watch.events.length >= 2);
        expect(watch.events.map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual([
          'ADDED second',
          'DELETED first',
        ]);
      } finally {
        watch.stop();
      }
    });

    it('filters lists by field selector and refuses unsupported fields', async () => {
      await core.createNamespacedService({ namespace, body: lbService('a') });
      await core.createNamespacedService({ namespace, body: lbService('b', {}, 'ClusterIP') });
      const byName = await core.listNamespacedService({ namespace, fieldSelector: 'metadata.name=a' });
      expect(byName.items.map((s) => s.metadata?.name)).toEqual(['a']);
      const byType = await core.listNamespacedService({ namespace, fieldSelector: 'spec.type!=LoadBalancer' });
      expect(byType.items.map((s) => s.metadata?.name)).toEqual(['b']);
      const both = await core.listServiceForAllNamespaces({
        fieldSelector: `metadata.namespace=${namespace},spec.type=LoadBalancer`,
      });
      expect(both.items.map((s) => s.metadata?.name)).toEqual(['a']);
      const status = await failure(
        core.listNamespacedService({ namespace, fieldSelector: 'spec.loadBalancerClass=x' }),
      );
      expect(status).toMatchObject({ code: 400, reason: 'BadRequest' });
      expect(status.message).toContain('field label not supported: spec.loadBalancerClass');
    });

    it('filters lists by label selector: =, !=, in, notin, exists, !exists', async () => {
      await core.createNamespacedService({ namespace, body: lbService('red', { color: 'red', tier: 'web' }) });
      await core.createNamespacedService({ namespace, body: lbService('blue', { color: 'blue' }) });
      await core.createNamespacedService({ namespace, body: lbService('plain') });
      const names = async (labelSelector: string) =>
        (await core.listNamespacedService({ namespace, labelSelector })).items.map((s) => s.metadata?.name).sort();
      expect(await names('color=red')).toEqual(['red']);
      expect(await names('color!=red')).toEqual(['blue', 'plain']);
      expect(await names('color in (red,blue)')).toEqual(['blue', 'red']);
      expect(await names('color notin (red)')).toEqual(['blue', 'plain']);
      expect(await names('tier')).toEqual(['red']);
      expect(await names('!color')).toEqual(['plain']);
      expect(await names('color,!tier')).toEqual(['blue']);
      const status = await failure(core.listNamespacedService({ namespace, labelSelector: 'color in red' }));
      expect(status).toMatchObject({ code: 400, reason: 'BadRequest' });
    });

    const badPools: Array<[string, string]> = [
      ['a CIDR with a prefix too long', '192.0.2.0/33'],
      ['an IPv6 CIDR with a prefix too long', '2001:db8::/129'],
      ['a reversed IPv4 range', '192.0.2.20-192.0.2.10'],
      ['a range mixing IPv4 and IPv6', '192.0.2.1-2001:db8::1'],
      ['garbage', 'not-an-address'],
      ['an octet above 255', '192.0.2.256'],
    ];
    for (const [what, address] of badPools) {
      it(`rejects an IPAddressPool with ${what} (422, naming spec.addresses)`, async () => {
        const status = await failure(createPool(pool('bad', { addresses: ['198.51.100.0/24', address] })));
        expect(status).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422 });
        expect(status.message).toContain('IPAddressPool.ironlb.io "bad" is invalid');
        expect(status.message).toContain('spec.addresses[1]');
        expect(status.details?.causes?.some((c) => c.field === 'spec.addresses[1]')).toBe(true);
      });
    }

    it('rejects an IPAddressPool without addresses or with an empty list', async () => {
      const missing = await failure(createPool(pool('none', { autoAssign: true })));
      expect(missing).toMatchObject({ reason: 'Invalid', code: 422 });
      expect(missing.message).toContain('spec.addresses: Required value');
      const empty = await failure(createPool(pool('empty', { addresses: [] })));
      expect(empty.message).toContain('spec.addresses');
      expect(empty.message).toContain('at least 1 items');
    });

    it('rejects wrong types and enum values in an IPAddressPool', async () => {
      const wrongType = await failure(createPool(pool('t', { addresses: ['192.0.2.1'], autoAssign: 'yes' })));
      expect(wrongType.message).toContain('spec.autoAssign');
      expect(wrongType.message).toContain('must be of type boolean');
      const badOperator = await failure(
        createPool(
          pool('e', {
            addresses: ['192.0.2.1'],
            serviceAllocation: { serviceSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Near' }] }] },
          }),
        ),
      );
      expect(badOperator.message).toContain('spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].operator');
      expect(badOperator.message).toContain('Unsupported value: "Near"');
    });

    it('accepts every address form and applies the defaults', async () => {
      const created = await createPool(
        pool('good', {
          addresses: [
            '192.0.2.0/24',
            '198.51.100.7',
            '203.0.113.10-203.0.113.20',
            '2001:db8::/64',
            '2001:db8:1::1-2001:db8:1::ff',
            '2001:db8:2::5',
          ],
        }),
      );
      expect(created.spec).toMatchObject({ autoAssign: true, avoidBuggyIPs: false });
      const kept = await createPool(pool('kept', { addresses: ['192.0.2.1'], autoAssign: false, unknownField: 1 }));
      expect(kept.spec.autoAssign).toBe(false);
      expect(kept.spec).not.toHaveProperty('unknownField');
    });

    it('round-trips Lease times as V1MicroTime and refuses millisecond Dates with 400', async () => {
      const renewTime = new V1MicroTime('2026-01-02T03:04:05.123456Z');
      const created = await leases.createNamespacedLease({
        namespace,
        body: {
          metadata: { name: 'ironlb-node-a' },
          spec: { holderIdentity: 'a', leaseDurationSeconds: 3, renewTime, acquireTime: renewTime },
        },
      });
      expect(new Date(created.spec?.renewTime as unknown as string).toISOString()).toBe('2026-01-02T03:04:05.123Z');
      expect(created.spec?.holderIdentity).toBe('a');
      const read = await leases.readNamespacedLease({ namespace, name: 'ironlb-node-a' });
      expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);

      const status = await failure(
        leases.createNamespacedLease({
          namespace,
          body: {
            metadata: { name: 'ironlb-node-b' },
            spec: { holderIdentity: 'b', renewTime: new Date() as unknown as V1MicroTime },
          },
        }),
      );
      expect(status).toMatchObject({ code: 400, reason: 'BadRequest' });
    });

    it('applies merge patches and JSON patches, with resourceVersion and test preconditions', async () => {
      const created = await core.createNamespacedService({ namespace, body: lbService('web', { a: '1' }) });
      const merged = await core.patchNamespacedService(
        { namespace, name: 'web', body: { metadata: { labels: { b: '2', a: null } } } },
        mergePatch,
      );
      expect(merged.metadata?.labels).toEqual({ b: '2' });

      const patched = await core.patchNamespacedService({
        namespace,
        name: 'web',
        body: [
          { op: 'test', path: '/metadata/labels/b', value: '2' },
          { op: 'add', path: '/metadata/annotations', value: { 'ironlb.io/address-pool': 'p1' } },
        ],
      });
      expect(patched.metadata?.annotations).toEqual({ 'ironlb.io/address-pool': 'p1' });

      const failedTest = await failure(
        core.patchNamespacedService({
          namespace,
          name: 'web',
          body: [{ op: 'test', path: '/metadata/labels/b', value: 'other' }],
        }),
      );
      expect(failedTest.code).toBe(422);

      const stale = await failure(
        core.patchNamespacedService(
          {
            namespace,
            name: 'web',
            body: { metadata: { resourceVersion: created.metadata?.resourceVersion, labels: { c: '3' } } },
          },
          mergePatch,
        ),
      );
      expect(stale).toMatchObject({ code: 409, reason: 'Conflict' });
    });

    it('merge-patches a custom resource status through /status only', async () => {
      await createPool(pool('p1', { addresses: ['192.0.2.0/28'] }));
      const patched = (await custom.patchNamespacedCustomObjectStatus(
        {
          group,
          version,
          namespace,
          plural,
          name: 'p1',
          body: { spec: { autoAssign: false }, status: { availableIPv4: '16' } },
        },
        mergePatch,
      )) as Pool;
      expect(patched.status).toEqual({ availableIPv4: '16' });
      expect(patched.spec.autoAssign).toBe(true);
    });

    it('answers 404 NotFound with the resource and name', async () => {
      const status = await failure(leases.readNamespacedLease({ namespace, name: 'missing' }));
      expect(status).toMatchObject({
        kind: 'Status',
        reason: 'NotFound',
        code: 404,
        message: 'leases.coordination.k8s.io "missing" not found',
      });
      const crStatus = await failure(
        custom.getNamespacedCustomObject({ group, version, namespace, plural, name: 'missing' }),
      );
      expect(crStatus.message).toBe('ipaddresspools.ironlb.io "missing" not found');
    });
  });
}
