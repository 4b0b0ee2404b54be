// Shared setup of the controller integration tests: a target API server (the
// double, or a real one through IRONLB_TEST_KUBECONFIG), a namespace per test,
// helpers to create pools and Services and to wait for the controller.

import { randomBytes } from 'node:crypto';
import { afterEach } from 'vitest';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type V1Service,
} from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { silentLogger } from '../../src/log/logger.js';
import { startController, type RunningController, type StartControllerOptions } from '../../controller/start.js';
import { ironlbObject } from '../ironlb-objects.js';

export const REAL_KUBECONFIG = process.env.IRONLB_TEST_KUBECONFIG;
if (!REAL_KUBECONFIG)
  console.log('ironlb: IRONLB_TEST_KUBECONFIG not set, controller tests run against the API server double only');

/** A real cluster serves IPv6 Services only when dual-stack or IPv6: say so with IRONLB_TEST_IPV6=1. */
export const REAL_HAS_IPV6 = process.env.IRONLB_TEST_IPV6 === '1';

/**
 * For a test file whose every test sets up its own Env: registers an afterEach
 * that closes the Env the test kept, also when the test failed, and returns
 * `keep`, which the test wraps its Env in (`const env = keep(await setup(target))`).
 */
export function closeEnvAfterEach(): (env: Env) => Env {
  let kept: Env | undefined;
  afterEach(async () => {
    const env = kept;
    kept = undefined;
    await env?.close();
  });
  return (env) => {
    kept = env;
    return env;
  };
}

/**
 * Where a test runs: the double always; a real API server too when configured,
 * the test injects no fault, and (for IPv6 Services) the cluster has IPv6.
 */
export function targets(opts: { faults: boolean; ipv6?: boolean }): Array<'double' | 'real'> {
  const real = REAL_KUBECONFIG && !opts.faults && (!opts.ipv6 || REAL_HAS_IPV6);
  return real ? ['double', 'real'] : ['double'];
}

export interface Env {
  kubeConfig: KubeConfig;
  /** Only for the double: faults, counters. */
  api?: ApiServer;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  /** Namespace of the pools, Leases and the controller (one per test). */
  system: string;
  /** Namespace of the test's Services. */
  apps: string;
  /** A loadBalancerClass unique to this test, so a real cluster's other Services are never touched. */
  lbClass: string;
  controllers: RunningController[];
  startController(extra?: Partial<StartControllerOptions>): Promise<RunningController>;
  close(): Promise<void>;
}

export async function setup(
  target: 'double' | 'real' = 'double',
  apiOptions: Parameters<typeof startApiServer>[0] = {},
): Promise<Env> {
  const suffix = randomBytes(3).toString('hex');
  let api: ApiServer | undefined;
  let kubeConfig: KubeConfig;
  if (target === 'real') {
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(REAL_KUBECONFIG!);
  } else {
    api = await startApiServer({ historySize: 100_000, ...apiOptions });
    kubeConfig = api.kubeConfig;
  }
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const system = `ironlb-t-${suffix}`;
  const apps = `apps-t-${suffix}`;
  await core.createNamespace({ body: { metadata: { name: system } } });
  await core.createNamespace({ body: { metadata: { name: apps, labels: { team: 'blue' } } } });
  const controllers: RunningController[] = [];
  const env: Env = {
    kubeConfig,
    api,
    core,
    custom,
    system,
    apps,
    lbClass: target === 'real' ? `ironlb.io/test-${suffix}` : '',
    controllers,
    async startController(extra = {}) {
      const c = await startController({
        kubeConfig,
        namespace: system,
        lbClass: env.lbClass,
        leaderElect: false,
        logger: silentLogger(),
        informer: { backoff: { initialMs: 50, maxMs: 500 }, watchTimeoutSeconds: 30 },
        ...extra,
      });
      controllers.push(c);
      return c;
    },
    async close() {
      for (const c of controllers.splice(0)) await c.stop();
      if (target === 'real') {
        await core.deleteNamespace({ name: apps }).catch(() => undefined);
        await core.deleteNamespace({ name: system }).catch(() => undefined);
      }
      await api?.close();
    },
  };
  return env;
}

export async function createPool(
  env: Env,
  name: string,
  addresses: string[],
  spec: Record<string, unknown> = {},
): Promise<void> {
  await env.custom.createNamespacedCustomObject(
    ironlbObject('IPAddressPool', env.system, name, { addresses, ...spec }),
  );
}

export interface PoolObject {
  metadata: { name: string; generation?: number; resourceVersion?: string };
  spec: { addresses: string[] } & Record<string, unknown>;
  status?: {
    assignedIPv4?: string;
    availableIPv4?: string;
    assignedIPv6?: string;
    availableIPv6?: string;
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  };
}

export async function getPool(env: Env, name: string): Promise<PoolObject> {
  const raw: unknown = await env.custom.getNamespacedCustomObject({
    group: 'ironlb.io',
    version: 'v1beta1',
    namespace: env.system,
    plural: 'ipaddresspools',
    name,
  });
  return raw as PoolObject;
}

export async function patchPool(env: Env, name: string, spec: Record<string, unknown>): Promise<void> {
  await env.custom.patchNamespacedCustomObject(
    { group: 'ironlb.io', version: 'v1beta1', namespace: env.system, plural: 'ipaddresspools', name, body: { spec } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

export async function deletePool(env: Env, name: string): Promise<void> {
  await env.custom.deleteNamespacedCustomObject({
    group: 'ironlb.io',
    version: 'v1beta1',
    namespace: env.system,
    plural: 'ipaddresspools',
    name,
  });
}

export interface ServiceOptions {
  annotations?: Record<string, string>;
  ports?: Array<{ port: number; protocol?: string }>;
  spec?: Record<string, unknown>;
  labels?: Record<string, string>;
}

export async function createService(env: Env, name: string, opts: ServiceOptions = {}): Promise<V1Service> {
  return env.core.createNamespacedService({
    namespace: env.apps,
    body: {
      metadata: { name, annotations: opts.annotations, labels: opts.labels },
      spec: {
        type: 'LoadBalancer',
        // On the double no class is set ('').
        loadBalancerClass: env.lbClass || undefined,
        ports: (opts.ports ?? [{ port: 80 }]).map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP' })),
        selector: { app: name },
        ...(opts.spec ?? {}),
      },
    },
  });
}

export async function patchService(env: Env, name: string, body: Record<string, unknown>): Promise<void> {
  await env.core.patchNamespacedService(
    { namespace: env.apps, name, body },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

export async function getService(env: Env, name: string): Promise<V1Service> {
  return env.core.readNamespacedService({ namespace: env.apps, name });
}

export function ips(svc: V1Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
}

export function condition(
  svc: V1Service,
  type: string,
): { status: string; reason: string; message: string } | undefined {
  return svc.status?.conditions?.find((c) => c.type === type);
}

export async function serviceEvents(env: Env, name: string): Promise<CoreV1Event[]> {
  const list = await env.core.listNamespacedEvent({ namespace: env.apps });
  return list.items.filter((e) => e.involvedObject.name === name);
}

/** Polls `check` until it stops throwing (expect inside) or the time is up; then throws its last error. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw lastError;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Waits until the Service has exactly `count` IPs and returns them. */
export async function waitForIPs(env: Env, name: string, count = 1, timeoutMs?: number): Promise<string[]> {
  return eventually(async () => {
    const got = ips(await getService(env, name));
    if (got.length !== count) throw new Error(`${name}: expected ${count} IPs, has [${got.join(', ')}]`);
    return got;
  }, timeoutMs);
}

/** Waits for the Allocated condition to have this status and returns it. */
export async function waitForAllocated(
  env: Env,
  name: string,
  status: 'True' | 'False',
): Promise<{ status: string; reason: string; message: string }> {
  return eventually(async () => {
    const c = condition(await getService(env, name), 'ironlb.io/Allocated');
    if (c?.status !== status)
      throw new Error(`${name}: Allocated is ${c?.status}/${c?.reason}: ${c?.message}, expected ${status}`);
    return c;
  });
}

export async function waitForEvent(env: Env, name: string, reason: string): Promise<CoreV1Event> {
  return eventually(async () => {
    const e = (await serviceEvents(env, name)).find((ev) => ev.reason === reason);
    if (!e) throw new Error(`${name}: no ${reason} event yet`);
    return e;
  });
}

/** Creates `count` Services named `${prefix}-<i>`, `parallel` at a time. */
export async function createServices(
  env: Env,
  prefix: string,
  count: number,
  parallel = 50,
  opts: ServiceOptions = {},
): Promise<void> {
  for (let start = 0; start < count; start += parallel) {
    const batch: Array<Promise<unknown>> = [];
    for (let i = start; i < Math.min(count, start + parallel); i++)
      batch.push(createService(env, `${prefix}-${i}`, opts));
    await Promise.all(batch);
  }
}

/** Every Service of the test namespace with its IPs, by name. */
export async function allIPs(env: Env): Promise<Map<string, string[]>> {
  const list = await env.core.listNamespacedService({ namespace: env.apps });
  return new Map(list.items.map((s) => [s.metadata?.name ?? '', ips(s)]));
}

/** Waits until every Service of the test namespace has exactly one IP. */
export async function waitAllAssigned(env: Env, expected: number, timeoutMs = 180_000): Promise<Map<string, string[]>> {
  return eventually(
    async () => {
      const map = await allIPs(env);
      const missing = [...map.values()].filter((v) => v.length !== 1).length;
      if (map.size !== expected || missing > 0)
        throw new Error(`${map.size} Services, ${missing} without exactly one IP`);
      return map;
    },
    timeoutMs,
    1000,
  );
}

/** Names whose IPs differ between two snapshots (only names present in both). */
export function changedIPs(before: Map<string, string[]>, after: Map<string, string[]>): string[] {
  const changed: string[] = [];
  for (const [name, was] of before) {
    const now = after.get(name);
    if (now && now.join(',') !== was.join(',')) changed.push(`${name}: ${was.join(',')} -> ${now.join(',')}`);
  }
  return changed;
}
