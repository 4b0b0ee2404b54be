// The double's own controls: counters, injected faults, watch history window,
// bookmarks, RBAC. These run against the double only (a real server has no faults to inject).
import {
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Watch,
  type KubeConfig,
} from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../kube/apiserver.js';
import { failure, installCrds, statusOf } from '../kube/targets.js';
import { waitFor } from '../wait.js';
import { ironlbObject } from '../ironlb-objects.js';

let api: ApiServer | undefined;

async function start(options: ApiServerOptions = {}): Promise<ApiServer> {
  api = await startApiServer({ namespaces: ['ironlb-system'], ...options });
  return api;
}

afterEach(async () => {
  await api?.close();
  api = undefined;
});

const lease = (name: string) => ({ metadata: { name }, spec: { holderIdentity: 'node-a', leaseDurationSeconds: 3 } });

interface Seen {
  type: string;
  object: { metadata?: { name?: string; resourceVersion?: string }; code?: number; reason?: string };
}

async function watchEvents(kubeConfig: KubeConfig, path: string, query: Record<string, string | boolean>) {
  const events: Seen[] = [];
  let done: { error: unknown } | undefined;
  const request = await new Watch(kubeConfig).watch(
    path,
    query,
    (type, object) => events.push({ type, object: object as Seen['object'] }),
    (error) => {
      done = { error };
    },
  );
  return { events, done: () => done, stop: () => request.abort() };
}

describe('API server double: counters', () => {
  it('counts requests by verb and resource, subresources apart', async () => {
    const server = await start();
    const core = server.kubeConfig.makeApiClient(CoreV1Api);
    const svc = await core.createNamespacedService({
      namespace: 'ironlb-system',
      body: { metadata: { name: 'web' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } },
    });
    await core.readNamespacedService({ namespace: 'ironlb-system', name: 'web' });
    await core.readNamespacedService({ namespace: 'ironlb-system', name: 'web' });
    await core.listNamespacedService({ namespace: 'ironlb-system' });
    await core.replaceNamespacedServiceStatus({
      namespace: 'ironlb-system',
      name: 'web',
      body: { ...svc, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } },
    });
    expect(server.counters.get('create', 'services')).toBe(1);
    expect(server.counters.get('get', 'services')).toBe(2);
    expect(server.counters.get('list', 'services')).toBe(1);
    expect(server.counters.get('update', 'services/status')).toBe(1);
    expect(server.counters.get('update', 'services')).toBe(0);
    expect(server.counters.get('get')).toBe(2);
    expect(server.counters.snapshot()).toEqual({
      'create services': 1,
      'get services': 2,
      'list services': 1,
      'update services/status': 1,
    });
    server.counters.reset();
    expect(server.counters.total()).toBe(0);
  });
});

describe('API server double: faults', () => {
  it('failNext fails only the matching requests, the given number of times, with a Status body', async () => {
    const server = await start();
    const leases = server.kubeConfig.makeApiClient(CoordinationV1Api);
    await leases.createNamespacedLease({ namespace: 'ironlb-system', body: lease('l1') });
    server.faults.failNext(2, 503, { verb: 'get', resource: 'leases' });
    // A different verb is not affected.
    await leases.listNamespacedLease({ namespace: 'ironlb-system' });
    const first = await failure(leases.readNamespacedLease({ namespace: 'ironlb-system', name: 'l1' }));
    expect(first).toMatchObject({ kind: 'Status', code: 503, reason: 'ServiceUnavailable' });
    await failure(leases.readNamespacedLease({ namespace: 'ironlb-system', name: 'l1' }));
    const third = await leases.readNamespacedLease({ namespace: 'ironlb-system', name: 'l1' });
    expect(third.spec?.holderIdentity).toBe('node-a');
  });

  it('a 429 carries Retry-After', async () => {
    const server = await start();
    server.faults.failNext(1, 429);
    const response = await fetch(`${server.url}/api/v1/namespaces`);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({
      reason: 'TooManyRequests',
      code: 429,
      details: { retryAfterSeconds: 1 },
    });
  });

  it('errorRate fails all, none, or a repeatable share of requests', async () => {
    const server = await start({ seed: 7 });
    const core = server.kubeConfig.makeApiClient(CoreV1Api);
    const attempt = async (): Promise<number> => {
      try {
        await core.readNamespace({ name: 'default' });
        return 200;
      } catch (error) {
        return statusOf(error).code ?? 0;
      }
    };
    server.faults.errorRate(1, 500);
    expect(await attempt()).toBe(500);
    server.faults.errorRate(0);
    expect(await attempt()).toBe(200);
    server.faults.errorRate(0.5, 503);
    const codes: number[] = [];
    for (let i = 0; i < 200; i++) codes.push(await attempt());
    const failed = codes.filter((c) => c === 503).length;
    expect(failed).toBeGreaterThan(60);
    expect(failed).toBeLessThan(140);
    expect(codes.every((c) => c === 200 || c === 503)).toBe(true);
  });

  it('latency delays answers by at least the given time', async () => {
    const server = await start();
    server.faults.latency(150);
    const started = performance.now();
    await server.kubeConfig.makeApiClient(CoreV1Api).readNamespace({ name: 'default' });
    // Lower bound only: a slow machine cannot make this fail, a missing delay does.
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });

  it('dropWatches cuts open watches; the client sees its watch end', async () => {
    const server = await start();
    const watch = await watchEvents(
      server.kubeConfig,
      '/apis/coordination.k8s.io/v1/namespaces/ironlb-system/leases',
      {},
    );
    expect(server.openWatches).toBe(1);
    expect(server.faults.dropWatches()).toBe(1);
    await waitFor('the watch to end', () => watch.done() !== undefined);
    expect(server.openWatches).toBe(0);
  });

  it('an outage refuses connections, and afterwards the same data is served on the same port', async () => {
    const server = await start();
    const leases = server.kubeConfig.makeApiClient(CoordinationV1Api);
    await leases.createNamespacedLease({ namespace: 'ironlb-system', body: lease('l1') });
    await server.faults.outage(true);
    const refused = await leases.readNamespacedLease({ namespace: 'ironlb-system', name: 'l1' }).then(
      () => 'answered',
      (error: unknown) => String((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message),
    );
    expect(refused).toContain('ECONNREFUSED');
    await server.faults.outage(false);
    const back = await leases.readNamespacedLease({ namespace: 'ironlb-system', name: 'l1' });
    expect(back.spec?.holderIdentity).toBe('node-a');
  });

  it('rejects bad fault settings with clear errors', async () => {
    const server = await start();
    expect(() => server.faults.failNext(0, 500)).toThrow(/positive whole count/);
    expect(() => server.faults.failNext(1, 200)).toThrow(/HTTP error code/);
    expect(() => server.faults.errorRate(1.5, 500)).toThrow(/within 0..1/);
    expect(() => server.faults.errorRate(0.5, 302)).toThrow(/HTTP error code/);
    expect(() => server.faults.latency(-1)).toThrow(/non-negative/);
  });
});

describe('API server double: watch history and bookmarks', () => {
  it('keeps a bounded history: a watch from before the window gets an ERROR event with 410', async () => {
    const server = await start({ historySize: 3 });
    const leases = server.kubeConfig.makeApiClient(CoordinationV1Api);
    const first = await leases.createNamespacedLease({ namespace: 'ironlb-system', body: lease('l0') });
    const from = first.metadata?.resourceVersion as string;
    const recent = await watchEvents(
      server.kubeConfig,
      '/apis/coordination.k8s.io/v1/namespaces/ironlb-system/leases',
      { resourceVersion: from },
    );
    for (let i = 1; i <= 4; i++)
      await leases.createNamespacedLease({ namespace: 'ironlb-system', body: lease(`l${i}`) });
    await waitFor('four live events', () => recent.events.length === 4);
    recent.stop();
    const old = await watchEvents(server.kubeConfig, '/apis/coordination.k8s.io/v1/namespaces/ironlb-system/leases', {
      resourceVersion: from,
    });
    await waitFor('the expired watch to end', () => old.done() !== undefined);
    expect(old.events).toHaveLength(1);
    expect(old.events[0].type).toBe('ERROR');
    expect(old.events[0].object).toMatchObject({ code: 410, reason: 'Expired' });
  });

  it('compactHistory makes every earlier resourceVersion too old', async () => {
    const server = await start();
    const leases = server.kubeConfig.makeApiClient(CoordinationV1Api);
    const created = await leases.createNamespacedLease({ namespace: 'ironlb-system', body: lease('l0') });
    await leases.createNamespacedLease({ namespace: 'ironlb-system', body: lease('l1') });
    server.compactHistory();
    const old = await watchEvents(server.kubeConfig, '/apis/coordination.k8s.io/v1/namespaces/ironlb-system/leases', {
      resourceVersion: created.metadata?.resourceVersion as string,
    });
    await waitFor('the expired watch to end', () => old.done() !== undefined);
    expect(old.events[0]?.object.code).toBe(410);
  });

  it('sends BOOKMARK events when asked, carrying the current resourceVersion', async () => {
    const server = await start({ bookmarkIntervalMs: 20 });
    const leases = server.kubeConfig.makeApiClient(CoordinationV1Api);
    const created = await leases.createNamespacedLease({ namespace: 'ironlb-system', body: lease('l0') });
    const watch = await watchEvents(server.kubeConfig, '/apis/coordination.k8s.io/v1/namespaces/ironlb-system/leases', {
      resourceVersion: created.metadata?.resourceVersion as string,
      allowWatchBookmarks: true,
    });
    await waitFor('a bookmark', () => watch.events.some((e) => e.type === 'BOOKMARK'));
    watch.stop();
    const bookmark = watch.events.find((e) => e.type === 'BOOKMARK');
    expect(Number(bookmark?.object.metadata?.resourceVersion)).toBeGreaterThanOrEqual(
      Number(created.metadata?.resourceVersion),
    );
  });

  it('without bookmarks asked for, sends none', async () => {
    const server = await start({ bookmarkIntervalMs: 5 });
    const watch = await watchEvents(
      server.kubeConfig,
      '/apis/coordination.k8s.io/v1/namespaces/ironlb-system/leases',
      {},
    );
    const leases = server.kubeConfig.makeApiClient(CoordinationV1Api);
    // Two writes, observed in order, give bookmarks many intervals to appear.
    for (let i = 0; i < 5; i++)
      await leases.createNamespacedLease({ namespace: 'ironlb-system', body: lease(`l${i}`) });
    await waitFor('five events', () => watch.events.length === 5);
    watch.stop();
    expect(watch.events.map((e) => e.type)).toEqual(['ADDED', 'ADDED', 'ADDED', 'ADDED', 'ADDED']);
  });

  it('a label-selector watch sees an object leave as DELETED and enter as ADDED', async () => {
    const server = await start();
    const core = server.kubeConfig.makeApiClient(CoreV1Api);
    const body = { metadata: { name: 'web', labels: { pick: 'yes' } }, spec: { ports: [{ port: 80 }] } };
    const created = await core.createNamespacedService({ namespace: 'ironlb-system', body });
    const watch = await watchEvents(server.kubeConfig, '/api/v1/namespaces/ironlb-system/services', {
      resourceVersion: created.metadata?.resourceVersion as string,
      labelSelector: 'pick=yes',
    });
    const off = await core.replaceNamespacedService({
      namespace: 'ironlb-system',
      name: 'web',
      body: { ...created, metadata: { ...created.metadata, labels: { pick: 'no' } } },
    });
    await core.replaceNamespacedService({
      namespace: 'ironlb-system',
      name: 'web',
      body: { ...off, metadata: { ...off.metadata, labels: { pick: 'yes' } } },
    });
    await waitFor('two events', () => watch.events.length === 2);
    watch.stop();
    expect(watch.events.map((e) => e.type)).toEqual(['DELETED', 'ADDED']);
  });

  it('a no-op update stores nothing and sends no event', async () => {
    const server = await start();
    const leases = server.kubeConfig.makeApiClient(CoordinationV1Api);
    const created = await leases.createNamespacedLease({ namespace: 'ironlb-system', body: lease('l0') });
    const same = await leases.replaceNamespacedLease({ namespace: 'ironlb-system', name: 'l0', body: created });
    expect(same.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
  });
});

describe('API server double: RBAC', () => {
  const rbac = {
    users: {
      'speaker-token': {
        name: 'system:serviceaccount:ironlb-system:speaker',
        rules: [
          {
            apiGroups: ['coordination.k8s.io'],
            resources: ['leases'],
            verbs: ['get', 'list', 'watch', 'create', 'update'],
            namespace: 'ironlb-system',
          },
          { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch'] },
        ],
      },
      'controller-token': [
        { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['services/status'], verbs: ['update', 'patch'] },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['get'], resourceNames: ['ironlb-system'] },
      ],
    },
  };

  it('allows what the rules grant and answers 403 with the real message otherwise', async () => {
    const server = await start({ rbac });
    const speaker = server.kubeConfigFor('speaker-token');
    const leases = speaker.makeApiClient(CoordinationV1Api);
    await leases.createNamespacedLease({ namespace: 'ironlb-system', body: lease('ironlb-node-a') });
    const denied = await failure(leases.deleteNamespacedLease({ namespace: 'ironlb-system', name: 'ironlb-node-a' }));
    expect(denied).toMatchObject({ kind: 'Status', code: 403, reason: 'Forbidden' });
    expect(denied.message).toBe(
      'leases.coordination.k8s.io "ironlb-node-a" is forbidden: User "system:serviceaccount:ironlb-system:speaker" ' +
        'cannot delete resource "leases" in API group "coordination.k8s.io" in the namespace "ironlb-system"',
    );
    // The Role-like rule does not reach other namespaces.
    const elsewhere = await failure(leases.listNamespacedLease({ namespace: 'default' }));
    expect(elsewhere.code).toBe(403);
  });

  it('tells the status subresource apart and honours resourceNames', async () => {
    const server = await start({ rbac });
    const admin = server.kubeConfig.makeApiClient(CoreV1Api);
    // The admin config carries no token: anonymous is denied everything.
    const anonymous = await failure(admin.listNamespacedService({ namespace: 'ironlb-system' }));
    expect(anonymous.message).toContain('User "system:anonymous" cannot list resource "services"');

    const controller = server.kubeConfigFor('controller-token').makeApiClient(CoreV1Api);
    await controller.readNamespace({ name: 'ironlb-system' });
    expect((await failure(controller.readNamespace({ name: 'default' }))).code).toBe(403);
    const write = await failure(
      controller.patchNamespacedService({ namespace: 'ironlb-system', name: 'web', body: [] }),
    );
    expect(write.message).toContain('cannot patch resource "services" in API group ""');
    // Allowed by the services/status rule: the request gets past RBAC and finds no such Service.
    const statusWrite = await failure(
      controller.patchNamespacedServiceStatus({ namespace: 'ironlb-system', name: 'web', body: [] }),
    );
    expect(statusWrite.code).toBe(404);
  });

  it('answers an unknown token with 401', async () => {
    const server = await start({ rbac });
    // client-node drops the body of a 401, so only the code is visible through it.
    const code = await server
      .kubeConfigFor('nobody')
      .makeApiClient(CoreV1Api)
      .listNamespace()
      .then(
        () => 200,
        (error: unknown) => (error as { code?: number }).code,
      );
    expect(code).toBe(401);
    const raw = await fetch(`${server.url}/api/v1/namespaces`, { headers: { authorization: 'Bearer nobody' } });
    expect(await raw.json()).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
  });
});

describe('API server double: CustomResourceDefinitions through the API', () => {
  const widgetCrd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.org' },
    spec: {
      group: 'example.org',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', required: ['size'], properties: { size: { type: 'integer', minimum: 1 } } },
              },
            },
          },
        },
      ],
    },
  };

  it('serves the CRDs of deploy/crds as Established objects, and installCrds sends them back unchanged', async () => {
    const server = await start();
    const crds = server.kubeConfig.makeApiClient(ApiextensionsV1Api);
    const pools = await crds.readCustomResourceDefinition({ name: 'ipaddresspools.ironlb.io' });
    expect(pools.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
    await installCrds(server.kubeConfig);
    const after = await crds.readCustomResourceDefinition({ name: 'ipaddresspools.ironlb.io' });
    // Identical content: a no-op replace. Had the client dropped any field, this would be a new version.
    expect(after.metadata?.resourceVersion).toBe(pools.metadata?.resourceVersion);
    const status = await failure(
      server.kubeConfig
        .makeApiClient(CustomObjectsApi)
        .createNamespacedCustomObject(
          ironlbObject('IPAddressPool', 'ironlb-system', 'p', { addresses: ['192.0.2.9-192.0.2.1'] }),
        ),
    );
    // Only the CEL rule catches a reversed range: the rules survived the round trip.
    expect(status.code).toBe(422);
    expect(status.message).toContain("a range's start must not be above its end");
  });

  it('starts serving a type when its CRD is created, enforcing its schema, and stops when it is deleted', async () => {
    const server = await start();
    const crds = server.kubeConfig.makeApiClient(ApiextensionsV1Api);
    const custom = server.kubeConfig.makeApiClient(CustomObjectsApi);
    const target = { group: 'example.org', version: 'v1', namespace: 'ironlb-system', plural: 'widgets' };
    expect((await failure(custom.listNamespacedCustomObject(target))).code).toBe(404);
    await crds.createCustomResourceDefinition({ body: widgetCrd });
    await custom.createNamespacedCustomObject({
      ...target,
      body: { apiVersion: 'example.org/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 2 } },
    });
    const small = await failure(
      custom.createNamespacedCustomObject({
        ...target,
        body: { apiVersion: 'example.org/v1', kind: 'Widget', metadata: { name: 'x' }, spec: { size: 0 } },
      }),
    );
    expect(small.message).toContain('spec.size in body should be greater than or equal to 1');
    await crds.deleteCustomResourceDefinition({ name: 'widgets.example.org' });
    expect((await failure(custom.listNamespacedCustomObject(target))).code).toBe(404);
  });

  it('refuses a CRD whose name is not plural.group, and one with a CEL rule that does not compile', async () => {
    const server = await start();
    const crds = server.kubeConfig.makeApiClient(ApiextensionsV1Api);
    const misnamed = await failure(
      crds.createCustomResourceDefinition({ body: { ...widgetCrd, metadata: { name: 'gadgets.example.org' } } }),
    );
    expect(misnamed).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(misnamed.message).toContain('must be spec.names.plural+"."+spec.group');
    const withRule = structuredClone(widgetCrd) as unknown as {
      spec: { versions: Array<{ schema: { openAPIV3Schema: Record<string, unknown> } }> };
    };
    // client-node's model name for x-kubernetes-validations.
    withRule.spec.versions[0].schema.openAPIV3Schema.x_kubernetes_validations = [{ rule: 'has(self.spec' }];
    const badRule = await failure(crds.createCustomResourceDefinition({ body: withRule as typeof widgetCrd }));
    expect(badRule).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(badRule.message).toContain('compilation failed');
  });
});
