// Adapts src/kube (informers, status writers) to the controller loop's interfaces (src/allocation/controller.ts).

import type { KubernetesObject, V1Lease, V1Namespace, V1Service } from '@kubernetes/client-node';
import type { Logger } from '../log/logger.js';
import type { KubeClient } from './client.js';
import { PROMPT_BACKOFF, createInformer, type Informer, type InformerOptions } from './informer.js';
import { ipAddressPoolsKind, leasesKind, namespacesKind, servicesKind } from './resources.js';
import { LeaseClient } from './leases.js';
import { leaseRoleSelector } from '../api/leases.js';
import { patchIPAddressPoolStatus, patchServiceAnnotations, patchServiceStatus } from './status.js';
import type { ControllerIO, ObjectRef } from '../allocation/controller.js';

export type { ObjectRef };

export interface KubeIO extends ControllerIO {
  start(): void;
  stop(): Promise<void>;
}

export type EventWriter = (ref: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string) => void;

export function createKubeIO(
  client: KubeClient,
  namespace: string,
  logger: Logger,
  informerOptions: InformerOptions,
  recordEvent: EventWriter,
): KubeIO {
  const opts = { ...informerOptions, logger };
  // Services and Leases decide allocations and the Announced condition: retry them promptly.
  const prompt = { backoff: PROMPT_BACKOFF, ...opts };
  const services: Informer<V1Service> = createInformer(client, servicesKind(), prompt);
  const pools: Informer<KubernetesObject> = createInformer(client, ipAddressPoolsKind(namespace), opts);
  const namespaces: Informer<V1Namespace> = createInformer(client, namespacesKind(), opts);
  // Ownership Leases only: the speakers' heartbeats and member Leases never reach the controller.
  const leases: Informer<V1Lease> = createInformer(client, leasesKind(namespace), {
    ...prompt,
    labelSelector: leaseRoleSelector('ip'),
  });
  const all = [services, pools, namespaces, leases];
  const leaseClient = new LeaseClient(client, namespace);
  return {
    services,
    pools,
    namespaces,
    leases,
    start: () => {
      for (const i of all) i.start();
    },
    stop: async () => {
      await Promise.all(all.map((i) => i.stop()));
    },
    writeServiceStatus: async (ns, name, status) => {
      await patchServiceStatus(client, ns, name, status);
    },
    writeServiceAnnotations: async (ns, name, annotations) => {
      await patchServiceAnnotations(client, ns, name, annotations);
    },
    writePoolStatus: async (ns, name, status) => {
      await patchIPAddressPoolStatus(client, ns, name, { ...status });
    },
    recordEvent,
    deleteLease: async (name, resourceVersion) => {
      // A conflict means the Lease changed meanwhile (a speaker took it): leave it.
      await leaseClient.delete(name, resourceVersion ? { resourceVersion } : {});
    },
  };
}
