// The RBAC shipped in deploy/ is exactly enough: the real controller and the
// speaker's real Kubernetes layer run against the API server double with
// credentials limited to the rules rendered from `kubectl kustomize deploy/`,
// a recording proxy in between sees every answer, and no request may be
// refused. Requests outside their job (pods, configmaps, other namespaces, other
// objects' writes) must be refused.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { ruleAllows as doubleRuleAllows, type PolicyRule as DoubleRule } from '../kube/rbac.js';
import { builtinResources } from '../kube/resources.js';
import { silentLogger } from '../../src/log/logger.js';
import { ipLeaseName, MACS_ANNOTATION, nodeLeaseName, ROLE_LABEL } from '../../src/api/leases.js';
import { createKubeClient } from '../../src/kube/client.js';
import { createInformer } from '../../src/kube/informer.js';
import {
  endpointSlicesKind,
  ipAddressPoolsKind,
  l2AdvertisementsKind,
  leasesKind,
  nodesKind,
  servicesKind,
} from '../../src/kube/resources.js';
import { EventRecorder } from '../../src/kube/events.js';
import { KubeSpeakerLeaseStore } from '../../src/kube/speaker-leases.js';
import { SpeakerBgpCaches } from '../../src/kube/speaker-bgp.js';
import { BgpStatusPublisher } from '../../src/kube/bgp-status.js';
import { LeaseClient } from '../../src/kube/leases.js';
import { BGP_STATUS_ANNOTATION, bgpStatusLeaseName } from '../../src/bgp/status.js';
import { startController } from '../../controller/start.js';
import { ironlbObject } from '../ironlb-objects.js';
import {
  type RequestAttributes,
  isAllowed,
  renderKustomization,
  rulesForServiceAccount,
} from '../unit/deploy-manifests.js';

const NS = 'ironlb-system';
const APPS = 'rbac-apps';
const manifests = renderKustomization('deploy');

/** The manifests' grants for one ServiceAccount, as the double's rules (Role rules keep their namespace). */
function doubleRulesFor(serviceAccount: string): DoubleRule[] {
  const granted = rulesForServiceAccount(manifests, NS, serviceAccount);
  const asDouble = (
    r: { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] },
    namespace?: string,
  ): DoubleRule => ({
    apiGroups: r.apiGroups ?? [],
    resources: r.resources ?? [],
    verbs: r.verbs,
    resourceNames: r.resourceNames,
    namespace,
  });
  return [
    ...granted.cluster.map((r) => asDouble(r)),
    ...[...granted.namespaced.entries()].flatMap(([ns, rules]) => rules.map((r) => asDouble(r, ns))),
  ];
}

interface Seen {
  method: string;
  path: string;
  status: number;
  user: string;
}

/** Forwards to the double and records every answer, so a refused request cannot go unnoticed. */
async function startRecordingProxy(target: URL): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? 'anonymous';
        seen.push({ method: req.method ?? '', path: req.url ?? '', status: answer.statusCode ?? 0, user: token });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function kubeConfigWithToken(server: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'double', server, skipTLSVerify: true }],
    users: [{ name: token, token }],
    contexts: [{ name: token, cluster: 'double', user: token }],
    currentContext: token,
  });
  return kc;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

let api: ApiServer;
let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
let admin: { core: CoreV1Api; custom: CustomObjectsApi; leases: CoordinationV1Api };
const refused = (user: string) => proxy.seen.filter((s) => s.user === user && (s.status === 401 || s.status === 403));

beforeAll(async () => {
  api = await startApiServer({
    namespaces: [NS, APPS],
    rbac: {
      users: {
        admin: { name: 'admin', rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
        controller: {
          name: `system:serviceaccount:${NS}:ironlb-controller`,
          rules: doubleRulesFor('ironlb-controller'),
        },
        speaker: { name: `system:serviceaccount:${NS}:ironlb-speaker`, rules: doubleRulesFor('ironlb-speaker') },
      },
    },
  });
  proxy = await startRecordingProxy(new URL(api.url));
  const kc = kubeConfigWithToken(proxy.url, 'admin');
  admin = {
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    leases: kc.makeApiClient(CoordinationV1Api),
  };
});

afterAll(async () => {
  await proxy?.close();
  await api?.close();
});

describe('the shipped rules, read from the rendered manifests', () => {
  it("the pure matcher and the double's authorizer agree on what each program may do", () => {
    const resources = builtinResources();
    const pools = { ...resources[0], group: 'ironlb.io', plural: 'ipaddresspools' };
    const byPlural = (group: string, plural: string) =>
      resources.find((r) => r.group === group && r.plural === plural) ?? { ...pools, group, plural };
    const requests: RequestAttributes[] = [
      { verb: 'list', apiGroup: '', resource: 'services', namespace: '' },
      { verb: 'patch', apiGroup: '', resource: 'services/status', namespace: APPS, name: 'web' },
      { verb: 'update', apiGroup: 'coordination.k8s.io', resource: 'leases', namespace: NS, name: 'ironlb-controller' },
      {
        verb: 'update',
        apiGroup: 'coordination.k8s.io',
        resource: 'leases',
        namespace: NS,
        name: ipLeaseName('192.0.2.10'),
      },
      { verb: 'create', apiGroup: 'coordination.k8s.io', resource: 'leases', namespace: APPS },
      { verb: 'watch', apiGroup: 'ironlb.io', resource: 'ipaddresspools', namespace: NS },
      { verb: 'list', apiGroup: 'ironlb.io', resource: 'ipaddresspools', namespace: '' },
      { verb: 'patch', apiGroup: 'ironlb.io', resource: 'ipaddresspools/status', namespace: NS, name: 'default' },
      { verb: 'get', apiGroup: '', resource: 'secrets', namespace: NS, name: 'x' },
      { verb: 'list', apiGroup: '', resource: 'pods', namespace: '' },
    ];
    for (const sa of ['ironlb-controller', 'ironlb-speaker']) {
      const granted = rulesForServiceAccount(manifests, NS, sa);
      const rules = doubleRulesFor(sa);
      for (const r of requests) {
        const [plural, subresource] = r.resource.split('/');
        // An empty namespace is a cluster-wide request.
        const target = {
          resource: byPlural(r.apiGroup, plural),
          namespace: r.namespace || undefined,
          name: r.name,
          subresource,
        };
        const theirs = rules.some((rule) => doubleRuleAllows(rule, r.verb, target));
        expect(isAllowed(granted, r), `${sa} ${r.verb} ${r.resource} ${r.namespace}/${r.name ?? ''}`).toBe(theirs);
      }
    }
    // A few decisions spelled out, so an over-broad grant shows up by name.
    const controller = rulesForServiceAccount(manifests, NS, 'ironlb-controller');
    expect(isAllowed(controller, requests[2])).toBe(true);
    expect(isAllowed(controller, requests[3])).toBe(false);
    expect(isAllowed(controller, requests[6])).toBe(false);
    expect(isAllowed(rulesForServiceAccount(manifests, NS, 'ironlb-speaker'), requests[1])).toBe(false);
  });
});

describe('the controller with exactly its shipped RBAC', () => {
  it('elects, assigns an IP, writes status, annotation, pool status, events, Announced; nothing refused', async () => {
    await admin.custom.createNamespacedCustomObject(
      ironlbObject('IPAddressPool', NS, 'default', { addresses: ['192.0.2.10-192.0.2.20'] }),
    );
    await admin.core.createNamespacedService({
      namespace: APPS,
      body: {
        metadata: { name: 'web' },
        spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP' }] },
      },
    });
    const controller = await startController({
      kubeConfig: kubeConfigWithToken(proxy.url, 'controller'),
      namespace: NS,
      leaderElect: true,
      // Generous: a loaded machine must not make the only replica lose its lease.
      leaseDurationMs: 6_000,
      renewDeadlineMs: 4_000,
      retryPeriodMs: 500,
      identity: 'controller-0',
      logger: silentLogger(),
      informer: { backoff: { initialMs: 50, maxMs: 500 } },
    });
    try {
      const ip = await eventually('an IP on the Service', async () => {
        const s = await admin.core.readNamespacedService({ namespace: APPS, name: 'web' });
        return s.status?.loadBalancer?.ingress?.[0]?.ip;
      });
      await admin.leases.createNamespacedLease({
        namespace: NS,
        body: {
          metadata: { name: ipLeaseName(ip), labels: { [ROLE_LABEL]: 'ip' } },
          spec: { holderIdentity: 'node-a' },
        },
      });
      await eventually('Announced=True', async () => {
        const s = await admin.core.readNamespacedService({ namespace: APPS, name: 'web' });
        return s.status?.conditions?.find((c) => c.type === 'ironlb.io/Announced' && c.status === 'True');
      });
      await eventually('the pool annotation', async () => {
        const s = await admin.core.readNamespacedService({ namespace: APPS, name: 'web' });
        return s.metadata?.annotations?.['ironlb.io/ip-allocated-from-pool'];
      });
      await eventually('pool status', async () => {
        const pool = (await admin.custom.getNamespacedCustomObject({
          group: 'ironlb.io',
          version: 'v1beta1',
          namespace: NS,
          plural: 'ipaddresspools',
          name: 'default',
        })) as { status?: { assignedIPv4?: string } };
        return pool.status?.assignedIPv4 === '1' ? true : undefined;
      });
      await eventually('an IPAllocated event', async () => {
        const events = await admin.core.listNamespacedEvent({ namespace: APPS });
        return events.items.find((e) => e.reason === 'IPAllocated');
      });
      const leader = await admin.leases.readNamespacedLease({ namespace: NS, name: 'ironlb-controller' });
      expect(leader.spec?.holderIdentity).toBe('controller-0');
    } finally {
      await controller.stop();
    }
    const writes = proxy.seen
      .filter((s) => s.user === 'controller' && s.method !== 'GET')
      .map((s) => `${s.method} ${s.path.split('?')[0]}`);
    expect(writes.some((w) => w.includes('/services/web/status'))).toBe(true);
    expect(writes.some((w) => w.includes('/leases'))).toBe(true);
    expect(refused('controller')).toEqual([]);
  }, 240_000);

  it('refuses the controller what it must not do', async () => {
    const kc = kubeConfigWithToken(proxy.url, 'controller');
    const core = kc.makeApiClient(CoreV1Api);
    const leases = kc.makeApiClient(CoordinationV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    // The double serves no secrets (404 before any authorization); the unit
    // test checks no rule names them. Pods and configmaps it does serve.
    expect(await statusOf(core.listPodForAllNamespaces())).toBe(403);
    expect(await statusOf(core.listNamespacedConfigMap({ namespace: NS }))).toBe(403);
    expect(
      await statusOf(leases.createNamespacedLease({ namespace: APPS, body: { metadata: { name: 'x' }, spec: {} } })),
    ).toBe(403);
    await admin.leases.createNamespacedLease({
      namespace: NS,
      body: { metadata: { name: ipLeaseName('198.51.100.1') }, spec: { holderIdentity: 'node-a' } },
    });
    const owned = await leases.readNamespacedLease({ namespace: NS, name: ipLeaseName('198.51.100.1') });
    expect(
      await statusOf(leases.replaceNamespacedLease({ namespace: NS, name: ipLeaseName('198.51.100.1'), body: owned })),
    ).toBe(403);
    expect(
      await statusOf(
        custom.patchNamespacedCustomObject(
          {
            group: 'ironlb.io',
            version: 'v1beta1',
            namespace: NS,
            plural: 'ipaddresspools',
            name: 'default',
            body: { spec: { autoAssign: false } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
      ),
    ).toBe(403);
  });
});

describe("the speaker's Kubernetes layer with exactly its shipped RBAC", () => {
  it('watches what decides candidates, writes its Leases and Events; nothing refused', async () => {
    const client = createKubeClient({ kubeConfig: kubeConfigWithToken(proxy.url, 'speaker'), requestTimeoutMs: 5_000 });
    const options = { backoff: { initialMs: 50, maxMs: 500 }, logger: silentLogger() };
    const informers = [
      createInformer(client, servicesKind(), options),
      createInformer(client, nodesKind(), options),
      createInformer(client, endpointSlicesKind(), options),
      createInformer(client, ipAddressPoolsKind(NS), options),
      createInformer(client, l2AdvertisementsKind(NS), options),
      createInformer(client, leasesKind(NS), options),
    ];
    for (const i of informers) i.start();
    const store = new KubeSpeakerLeaseStore(client, NS, options);
    const events = new EventRecorder(client, { component: 'ironlb-speaker', host: 'node-a', logger: silentLogger() });
    try {
      await Promise.all(informers.map((i) => i.waitForSync()));
      const heartbeat = await store.create(nodeLeaseName('node-a'), {
        holderIdentity: 'node-a',
        leaseDurationSeconds: 3,
        annotations: { [MACS_ANNOTATION]: 'eth0=02:00:5e:00:53:01' },
        renew: true,
      });
      await store.update(nodeLeaseName('node-a'), heartbeat.resourceVersion, {
        holderIdentity: 'node-a',
        leaseDurationSeconds: 3,
        annotations: heartbeat.annotations,
        renew: true,
      });
      const owned = await store.create(ipLeaseName('192.0.2.99'), { holderIdentity: 'node-a', annotations: {} });
      const released = await store.update(ipLeaseName('192.0.2.99'), owned.resourceVersion, {
        holderIdentity: '',
        annotations: {},
      });
      await store.delete(ipLeaseName('192.0.2.99'), released.resourceVersion);
      await store.delete(nodeLeaseName('node-a'));
      events.record(
        { kind: 'Service', apiVersion: 'v1', namespace: APPS, name: 'web' },
        'Normal',
        'Announcing',
        '192.0.2.10 announced by node-a',
      );
      await events.flush();
      await eventually('the Announcing event', async () => {
        const list = await admin.core.listNamespacedEvent({ namespace: APPS });
        return list.items.find((e) => e.reason === 'Announcing');
      });
    } finally {
      await Promise.all(informers.map((i) => i.stop()));
      await events.stop();
    }
    expect(proxy.seen.filter((s) => s.user === 'speaker').length).toBeGreaterThan(10);
    expect(refused('speaker')).toEqual([]);
  }, 120_000);

  it('BGP mode: the BGP kinds, the Secrets of its namespace and its status Lease; nothing refused', async () => {
    const client = createKubeClient({ kubeConfig: kubeConfigWithToken(proxy.url, 'speaker'), requestTimeoutMs: 5_000 });
    const caches = new SpeakerBgpCaches({
      client,
      namespace: NS,
      informerOptions: { backoff: { initialMs: 50, maxMs: 500 }, logger: silentLogger() },
      onChange: () => undefined,
    });
    const before = refused('speaker').length;
    try {
      await caches.start();
      const publisher = new BgpStatusPublisher(new LeaseClient(client, NS), 'node-a', silentLogger());
      publisher.publish({ frr: 'pending', withdrawn: false, peers: [], errors: [] });
      await publisher.flush();
      publisher.publish({ frr: 'applied', withdrawn: false, peers: [], errors: [] });
      await publisher.flush();
      const lease = await admin.leases.readNamespacedLease({ namespace: NS, name: bgpStatusLeaseName('node-a') });
      expect(JSON.parse(lease.metadata?.annotations?.[BGP_STATUS_ANNOTATION] ?? '{}')).toMatchObject({
        frr: 'applied',
      });
    } finally {
      await caches.stop();
    }
    expect(refused('speaker').slice(before)).toEqual([]);
    // Secrets of other namespaces stay closed.
    const core = kubeConfigWithToken(proxy.url, 'speaker').makeApiClient(CoreV1Api);
    expect(await statusOf(core.listNamespacedSecret({ namespace: APPS }))).toBe(403);
    expect(await statusOf(core.listSecretForAllNamespaces())).toBe(403);
  }, 120_000);

  it('refuses the speaker what it must not do', async () => {
    const kc = kubeConfigWithToken(proxy.url, 'speaker');
    const core = kc.makeApiClient(CoreV1Api);
    const leases = kc.makeApiClient(CoordinationV1Api);
    expect(await statusOf(core.listNamespacedPod({ namespace: NS }))).toBe(403);
    expect(await statusOf(core.listConfigMapForAllNamespaces())).toBe(403);
    expect(
      await statusOf(leases.createNamespacedLease({ namespace: APPS, body: { metadata: { name: 'x' }, spec: {} } })),
    ).toBe(403);
    expect(await statusOf(leases.listLeaseForAllNamespaces())).toBe(403);
    expect(
      await statusOf(
        core.patchNamespacedServiceStatus(
          { namespace: APPS, name: 'web', body: { status: { loadBalancer: {} } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
      ),
    ).toBe(403);
    expect(
      await statusOf(
        core.patchNamespacedService(
          { namespace: APPS, name: 'web', body: { metadata: { annotations: { a: 'b' } } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
      ),
    ).toBe(403);
  });
});
