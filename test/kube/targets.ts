// Where integration tests run: always the double, and a real API server too
// when IRONLB_TEST_KUBECONFIG names a kubeconfig. Each test gets its own namespace.
import {
  ApiextensionsV1Api,
  CoreV1Api,
  KubeConfig,
  loadAllYaml,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startApiServer, type ApiServer, type ApiServerOptions } from './apiserver.js';
import { findCrdDir } from './crd-dir.js';

export interface ApiTarget {
  name: 'double' | 'real';
  kubeConfig: KubeConfig;
  /** Only on the double: counters, faults. */
  double?: ApiServer;
  stop(): Promise<void>;
}

export interface TargetFactory {
  name: 'double' | 'real';
  start(): Promise<ApiTarget>;
}

export const realKubeconfig = process.env.IRONLB_TEST_KUBECONFIG;

/** The double always; the real server when IRONLB_TEST_KUBECONFIG is set (says so when not). */
export function apiTargets(options: ApiServerOptions = {}): TargetFactory[] {
  const targets: TargetFactory[] = [
    {
      name: 'double',
      start: async () => {
        const double = await startApiServer(options);
        return { name: 'double', kubeConfig: double.kubeConfig, double, stop: () => double.close() };
      },
    },
  ];
  if (realKubeconfig) {
    targets.push({
      name: 'real',
      start: async () => {
        const kubeConfig = new KubeConfig();
        kubeConfig.loadFromFile(realKubeconfig);
        await installCrds(kubeConfig);
        return { name: 'real', kubeConfig, stop: async () => undefined };
      },
    });
  } else {
    console.log(
      'ironlb: IRONLB_TEST_KUBECONFIG is not set; the real API server target is not configured, only the double runs',
    );
  }
  return targets;
}

/** Creates or replaces our CRDs on a real server and waits until they are Established. */
export async function installCrds(kubeConfig: KubeConfig, dir = findCrdDir()): Promise<void> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
    // loadAllYaml maps YAML names (x-kubernetes-validations) to client-node's
    // model names; a plain YAML parse would have them dropped on the way out.
    for (const crd of loadAllYaml(readFileSync(join(dir, file), 'utf8')) as V1CustomResourceDefinition[]) {
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      const name = crd.metadata?.name as string;
      try {
        const existing = await api.readCustomResourceDefinition({ name });
        crd.metadata = { ...crd.metadata, resourceVersion: existing.metadata?.resourceVersion };
        await api.replaceCustomResourceDefinition({ name, body: crd });
      } catch (error) {
        if ((error as { code?: number }).code !== 404) throw error;
        await api.createCustomResourceDefinition({ body: crd });
      }
      for (let i = 0; i < 100; i++) {
        const current = await api.readCustomResourceDefinition({ name });
        if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}

/** A fresh namespace with a unique name. */
export async function createTestNamespace(kubeConfig: KubeConfig, prefix = 'ironlb-t'): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

export async function deleteTestNamespace(kubeConfig: KubeConfig, name: string): Promise<void> {
  try {
    await kubeConfig.makeApiClient(CoreV1Api).deleteNamespace({ name });
  } catch (error) {
    if ((error as { code?: number }).code !== 404) throw error;
  }
}

export interface StatusLike {
  kind?: string;
  apiVersion?: string;
  status?: string;
  reason?: string;
  code?: number;
  message?: string;
  details?: {
    name?: string;
    kind?: string;
    group?: string;
    causes?: Array<{ field?: string; reason?: string; message?: string }>;
  };
}

/** The metav1.Status of a failed client-node call (its ApiException carries the body as text). */
export function statusOf(error: unknown): StatusLike {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') return JSON.parse(body) as StatusLike;
  if (body && typeof body === 'object') return body as StatusLike;
  throw error;
}

/** Awaits a call that must fail and returns its Status. */
export async function failure(call: Promise<unknown>): Promise<StatusLike> {
  try {
    await call;
  } catch (error) {
    return statusOf(error);
  }
  throw new Error('expected the API call to fail, it succeeded');
}
