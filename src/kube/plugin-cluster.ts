// The reads and writes of `kubectl ironlb`: Services, Leases, pools,
// advertisements, Nodes and Events for status/pools/nodes; MetalLB's custom
// objects for migrate, and creating the converted objects.
import { bfdProfileCrd, bgpAdvertisementCrd, bgpPeerCrd, communityCrd } from '../api/schema/bgp.js';
import { ipAddressPoolCrd } from '../api/schema/ipaddresspool.js';
import { l2AdvertisementCrd } from '../api/schema/l2advertisement.js';
import type { CoreV1Event, KubernetesObject, V1Service } from '@kubernetes/client-node';
import type { ClusterState } from '../plugin/state.js';
import type { PluginCluster, StateQuery } from '../plugin/run.js';
import type { MigratedObject } from '../plugin/migrate.js';
import { callOptions, createKubeClient, type KubeClient } from './client.js';
import { loadKubeConfig } from './config.js';
import { describeError, isConflict, isNotFound } from './errors.js';
import { IRONLB_GROUP, IRONLB_VERSION } from './resources.js';

const METALLB_KINDS = [
  { version: 'v1beta1', plural: 'ipaddresspools', required: true },
  { version: 'v1beta1', plural: 'l2advertisements', required: true },
  { version: 'v1beta1', plural: 'bgpadvertisements', required: false },
  { version: 'v1beta2', plural: 'bgppeers', required: false },
  { version: 'v1beta1', plural: 'bfdprofiles', required: false },
  { version: 'v1beta1', plural: 'communities', required: false },
] as const;

/** The kinds migrate writes, by the CRD sources' own names. */
const PLURALS: Record<string, string> = Object.fromEntries(
  [ipAddressPoolCrd, l2AdvertisementCrd, bgpPeerCrd, bgpAdvertisementCrd, bfdProfileCrd, communityCrd].map((c) => [
    c.kind,
    c.plural,
  ]),
);

function items<T>(list: unknown): T[] {
  const value = (list as { items?: unknown }).items;
  return Array.isArray(value) ? (value as T[]) : [];
}

/** Loads the kubeconfig as kubectl does (--kubeconfig, $KUBECONFIG, in-cluster, ~/.kube/config), then --context. */
export function connectPluginCluster(options: { kubeconfig?: string; context?: string }): PluginCluster {
  const kubeConfig = loadKubeConfig(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {});
  if (options.context !== undefined) {
    if (!kubeConfig.getContexts().some((c) => c.name === options.context))
      throw new Error(`--context: no context named "${options.context}" in the kubeconfig`);
    kubeConfig.setCurrentContext(options.context);
  }
  const client = createKubeClient({ kubeConfig });
  return new KubePluginCluster(client);
}

export class KubePluginCluster implements PluginCluster {
  constructor(private readonly client: KubeClient) {}

  contextNamespace(): string {
    const kc = this.client.kubeConfig;
    return kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
  }

  async readState(query: StateQuery): Promise<ClusterState> {
    const { core, coordination, custom } = this.client;
    const ns = query.ironlbNamespace;
    const customList = (plural: string) =>
      custom
        .listNamespacedCustomObject({ group: IRONLB_GROUP, version: IRONLB_VERSION, namespace: ns, plural })
        .catch((err: unknown) => {
          if (isNotFound(err))
            throw new Error(
              `${plural}.${IRONLB_GROUP} not found: are ironlb's CRDs installed (kubectl apply -k deploy/crds)?`,
            );
          throw new Error(`listing ${plural} in ${ns}: ${describeError(err)}`);
        });
    const [services, leases, pools, advertisements, nodes, events] = await Promise.all([
      query.withoutServices ? [] : this.services(query),
      coordination.listNamespacedLease({ namespace: ns }).then((l) => l.items),
      customList('ipaddresspools').then((l) => items<KubernetesObject>(l)),
      customList('l2advertisements').then((l) => items<KubernetesObject>(l)),
      core.listNode().then((l) => l.items),
      query.withoutServices ? [] : this.events(query),
    ]);
    return { services, leases, pools, advertisements, nodes, events };
  }

  private async services(query: StateQuery): Promise<V1Service[]> {
    const { core } = this.client;
    if (query.service !== undefined) {
      const namespace = query.namespace ?? 'default';
      try {
        return [await core.readNamespacedService({ namespace, name: query.service })];
      } catch (err) {
        if (isNotFound(err)) throw new Error(`service "${query.service}" not found in namespace "${namespace}"`);
        throw err;
      }
    }
    const list =
      query.namespace === undefined
        ? await core.listServiceForAllNamespaces()
        : await core.listNamespacedService({ namespace: query.namespace });
    return list.items.filter((s) => s.spec?.type === 'LoadBalancer');
  }

  private async events(query: StateQuery): Promise<CoreV1Event[]> {
    const { core } = this.client;
    const fieldSelector = [
      'involvedObject.kind=Service',
      ...(query.service !== undefined ? [`involvedObject.name=${query.service}`] : []),
    ].join(',');
    const list =
      query.namespace === undefined
        ? await core.listEventForAllNamespaces({ fieldSelector })
        : await core.listNamespacedEvent({ namespace: query.namespace, fieldSelector });
    return list.items;
  }

  async readMetalLB(namespace: string): Promise<unknown[]> {
    const found: unknown[] = [];
    for (const kind of METALLB_KINDS) {
      try {
        const list = await this.client.custom.listNamespacedCustomObject({
          group: 'metallb.io',
          version: kind.version,
          namespace,
          plural: kind.plural,
        });
        // A list's items carry no apiVersion/kind of their own.
        const kindName = {
          ipaddresspools: 'IPAddressPool',
          l2advertisements: 'L2Advertisement',
          bgpadvertisements: 'BGPAdvertisement',
          bgppeers: 'BGPPeer',
          bfdprofiles: 'BFDProfile',
          communities: 'Community',
        }[kind.plural];
        for (const item of items<Record<string, unknown>>(list))
          found.push({ apiVersion: `metallb.io/${kind.version}`, kind: kindName, ...item });
      } catch (err) {
        if (!isNotFound(err))
          throw new Error(`listing ${kind.plural}.metallb.io in ${namespace}: ${describeError(err)}`);
        if (kind.required)
          throw new Error(
            `${kind.plural}.metallb.io/${kind.version} not found: is MetalLB (0.13 or newer, with CRDs) installed?`,
          );
      }
    }
    return found;
  }

  async create(objects: readonly MigratedObject[]): Promise<{ object: string; result: 'created' | 'exists' }[]> {
    const results: { object: string; result: 'created' | 'exists' }[] = [];
    for (const object of objects) {
      const label = `${object.kind} ${object.metadata.namespace}/${object.metadata.name}`;
      try {
        await this.client.custom.createNamespacedCustomObject(
          {
            group: IRONLB_GROUP,
            version: IRONLB_VERSION,
            namespace: object.metadata.namespace,
            plural: PLURALS[object.kind] ?? '',
            body: object,
          },
          callOptions({}),
        );
        results.push({ object: label, result: 'created' });
      } catch (err) {
        if (isNotFound(err)) {
          throw new Error(
            `creating ${label}: the namespace or ironlb's CRDs are missing (kubectl apply -f deploy/namespace.yaml ` +
              `&& kubectl apply -k deploy/crds/): ${describeError(err)}`,
          );
        }
        if (!isConflict(err)) throw new Error(`creating ${label}: ${describeError(err)}`);
        results.push({ object: label, result: 'exists' });
      }
    }
    return results;
  }
}
