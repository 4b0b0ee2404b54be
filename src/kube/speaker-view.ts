// The speaker's caches of Services, Nodes, pools, L2Advertisements and
// EndpointSlices, turned into candidate sets per IP whenever any of them (or
// the set of live speakers' interfaces) changes.
import type { KubernetesObject, V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { parseL2Advertisement, type ParsedL2Advertisement } from '../api/l2advertisement.js';
import { ANNOTATION_IP_ALLOCATED_FROM_POOL } from '../api/annotations.js';
import {
  computeCandidates,
  type EndpointFacts,
  type IpCandidates,
  type NodeFacts,
  type PoolFacts,
  type ServiceFacts,
} from '../election/candidates.js';
import type { KubeClient } from './client.js';
import { PROMPT_BACKOFF, createInformer, type Informer, type InformerOptions } from './informer.js';
import { endpointSlicesKind, ipAddressPoolsKind, l2AdvertisementsKind, nodesKind, servicesKind } from './resources.js';
import type { Logger } from '../log/logger.js';

export interface SpeakerViewOptions {
  client: KubeClient;
  namespace: string;
  /** spec.loadBalancerClass this speaker serves; undefined = Services with no class. */
  loadBalancerClass?: string;
  logger: Logger;
  informerOptions?: InformerOptions;
  onCandidates: (candidates: Map<string, IpCandidates>) => void;
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export class SpeakerView {
  private readonly services: Informer<V1Service>;
  private readonly nodes: Informer<V1Node>;
  private readonly pools: Informer<KubernetesObject>;
  private readonly advertisements: Informer<KubernetesObject>;
  private readonly slices: Informer<V1EndpointSlice>;
  private speakerInterfaces: ReadonlyMap<string, readonly string[]> = new Map();
  private scheduled = false;
  private synced = false;
  private readonly badAdvertisements = new Set<string>();

  constructor(private readonly options: SpeakerViewOptions) {
    const { client, namespace, informerOptions } = options;
    this.services = createInformer(client, servicesKind(), { backoff: PROMPT_BACKOFF, ...informerOptions });
    this.nodes = createInformer(client, nodesKind(), informerOptions);
    this.pools = createInformer(client, ipAddressPoolsKind(namespace), informerOptions);
    this.advertisements = createInformer(client, l2AdvertisementsKind(namespace), informerOptions);
    this.slices = createInformer(client, endpointSlicesKind(), informerOptions);
  }

  private get informers(): Informer<KubernetesObject>[] {
    return [this.services, this.nodes, this.pools, this.advertisements, this.slices] as Informer<KubernetesObject>[];
  }

  async start(): Promise<void> {
    const changed = () => this.schedule();
    for (const informer of this.informers) {
      informer.on({ onAdd: changed, onUpdate: changed, onDelete: changed });
      informer.start();
    }
    await Promise.all(this.informers.map((i) => i.waitForSync()));
    this.synced = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  hasSynced(): boolean {
    return this.synced;
  }

  setSpeakerInterfaces(interfaces: ReadonlyMap<string, readonly string[]>): void {
    this.speakerInterfaces = new Map(interfaces);
    this.schedule();
  }

  /** The node object of `name` as candidate computation sees it. */
  nodeFacts(name: string): NodeFacts | undefined {
    const node = this.nodes.get('', name);
    return node === undefined ? undefined : nodeFactsOf(node);
  }

  /**
   * The cached Service as an Event's involvedObject: with its uid (which
   * `kubectl describe` selects events by) and resourceVersion, when cached.
   */
  serviceReference(
    namespace: string,
    name: string,
  ): { namespace: string; name: string; uid?: string; resourceVersion?: string } {
    const meta = this.services.get(namespace, name)?.metadata;
    return {
      namespace,
      name,
      uid: meta?.uid || undefined,
      resourceVersion: meta?.resourceVersion || undefined,
    };
  }

  /** What BGP mode plans from besides its own kinds (src/kube/speaker-bgp.ts); the same caches, not copies. */
  clusterFacts(): { pools: KubernetesObject[]; services: ServiceFacts[]; endpoints: EndpointFacts[] } {
    return {
      pools: this.pools.list(),
      services: this.services.list().flatMap((s) => serviceFactsOf(s, this.options.loadBalancerClass)),
      endpoints: this.slices.list().flatMap(endpointFactsOf),
    };
  }

  poolFacts(): PoolFacts[] {
    return this.pools.list().map((p) => ({ name: p.metadata?.name ?? '', labels: p.metadata?.labels ?? {} }));
  }

  parsedAdvertisements(): ParsedL2Advertisement[] {
    const parsed: ParsedL2Advertisement[] = [];
    for (const raw of this.advertisements.list()) {
      const result = parseL2Advertisement(raw);
      const name = raw.metadata?.name ?? '?';
      if (result.ok) {
        parsed.push(result.advertisement);
        this.badAdvertisements.delete(name);
      } else if (!this.badAdvertisements.has(name)) {
        this.badAdvertisements.add(name);
        this.options.logger.warn({ advertisement: name, errors: result.errors }, 'ignoring invalid L2Advertisement');
      }
    }
    return parsed;
  }

  private schedule(): void {
    if (!this.synced || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.options.onCandidates(this.compute());
    });
  }

  private compute(): Map<string, IpCandidates> {
    return computeCandidates({
      nodes: this.nodes.list().map(nodeFactsOf),
      pools: this.poolFacts(),
      advertisements: this.parsedAdvertisements(),
      services: this.services.list().flatMap((s) => serviceFactsOf(s, this.options.loadBalancerClass)),
      endpoints: this.slices.list().flatMap(endpointFactsOf),
      speakerInterfaces: this.speakerInterfaces,
    });
  }
}

export function nodeFactsOf(node: V1Node): NodeFacts {
  const networkUnavailable = (node.status?.conditions ?? []).some(
    (c) => c.type === 'NetworkUnavailable' && c.status === 'True',
  );
  return { name: node.metadata?.name ?? '', labels: node.metadata?.labels ?? {}, networkUnavailable };
}

/** A LoadBalancer Service of our class with IPs in its status, or nothing. */
export function serviceFactsOf(service: V1Service, loadBalancerClass: string | undefined): ServiceFacts[] {
  if (service.spec?.type !== 'LoadBalancer') return [];
  if ((service.spec.loadBalancerClass ?? undefined) !== loadBalancerClass) return [];
  const ips = (service.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));
  if (ips.length === 0) return [];
  return [
    {
      namespace: service.metadata?.namespace ?? '',
      name: service.metadata?.name ?? '',
      ips,
      pool: service.metadata?.annotations?.[ANNOTATION_IP_ALLOCATED_FROM_POOL],
      externalTrafficPolicy: service.spec.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    },
  ];
}

export function endpointFactsOf(slice: V1EndpointSlice): EndpointFacts[] {
  const serviceName = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (serviceName === undefined) return [];
  const serviceNamespace = slice.metadata?.namespace ?? '';
  return (slice.endpoints ?? []).map((e) => ({
    serviceNamespace,
    serviceName,
    nodeName: e.nodeName,
    ready: e.conditions?.ready,
  }));
}
