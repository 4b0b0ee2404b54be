// The speaker's caches of the BGP kinds (BGPPeer, BGPAdvertisement,
// BFDProfile, Community) and of the Secrets in ironlb's namespace (peer
// passwords), parsed into planNode's inputs together with what SpeakerView
// already caches (this node, pools, Services, EndpointSlices).
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { parsePool, type ParsedPool } from '../api/pool.js';
import type { EndpointFacts, NodeFacts, ServiceFacts } from '../election/candidates.js';
import { parseBGPAdvertisement, type ParsedBGPAdvertisement } from '../bgp/advertisement.js';
import { parseBFDProfile, type ParsedBFDProfile } from '../bgp/bfd-profile.js';
import { parseCommunity, type ParsedCommunityAliases } from '../bgp/community.js';
import { parseBGPPeer, type ParsedBGPPeer } from '../bgp/peer.js';
import type { BgpNodeInputs, ConfigError, SecretFacts } from '../bgp/plan.js';
import type { KubeClient } from './client.js';
import { createInformer, type Informer, type InformerOptions } from './informer.js';
import { bgpKind, secretsKind } from './resources.js';

export interface BgpCachesOptions {
  client: KubeClient;
  namespace: string;
  informerOptions?: InformerOptions;
  /** Any change in these caches. */
  onChange: () => void;
}

export interface BgpInputs {
  inputs: BgpNodeInputs;
  /** Objects that do not parse (the schema lets through what only the parser checks): left out, each named. */
  parseErrors: ConfigError[];
}

/** The reference of an object for Events: uid and resourceVersion from the cache. */
export interface CachedRef {
  uid?: string;
  resourceVersion?: string;
}

export class SpeakerBgpCaches {
  private readonly peers: Informer<KubernetesObject>;
  private readonly advertisements: Informer<KubernetesObject>;
  private readonly profiles: Informer<KubernetesObject>;
  private readonly communities: Informer<KubernetesObject>;
  private readonly secrets: Informer<V1Secret>;

  constructor(private readonly options: BgpCachesOptions) {
    const { client, namespace, informerOptions } = options;
    this.peers = createInformer(client, bgpKind('bgppeers', namespace), informerOptions);
    this.advertisements = createInformer(client, bgpKind('bgpadvertisements', namespace), informerOptions);
    this.profiles = createInformer(client, bgpKind('bfdprofiles', namespace), informerOptions);
    this.communities = createInformer(client, bgpKind('communities', namespace), informerOptions);
    this.secrets = createInformer(client, secretsKind(namespace), informerOptions);
  }

  private get informers(): Informer<KubernetesObject>[] {
    const all = [this.peers, this.advertisements, this.profiles, this.communities, this.secrets];
    return all as Informer<KubernetesObject>[];
  }

  async start(): Promise<void> {
    const changed = () => this.options.onChange();
    for (const informer of this.informers) {
      informer.on({ onAdd: changed, onUpdate: changed, onDelete: changed });
      informer.start();
    }
    await Promise.all(this.informers.map((i) => i.waitForSync()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /** A BGP object's uid and resourceVersion, so `kubectl describe` lists its Events. */
  reference(kind: ConfigError['kind'], name: string): CachedRef {
    const byKind = {
      BGPPeer: this.peers,
      BGPAdvertisement: this.advertisements,
      BFDProfile: this.profiles,
      Community: this.communities,
    };
    const informer = byKind[kind];
    const meta = informer.get(this.options.namespace, name)?.metadata;
    return {
      uid: meta?.uid || undefined,
      resourceVersion: meta?.resourceVersion || undefined,
    };
  }

  /**
   * planNode's inputs for `node`; undefined node facts (not in the cache yet)
   * count as a node whose network is unavailable.
   */
  inputs(
    nodeName: string,
    node: NodeFacts | undefined,
    cluster: { pools: KubernetesObject[]; services: ServiceFacts[]; endpoints: EndpointFacts[] },
  ): BgpInputs {
    const parseErrors: ConfigError[] = [];
    type Parsed<T> = { ok: true; value: T } | { ok: false; errors: string[] };
    const parseAll = <T>(
      kind: ConfigError['kind'],
      informer: Informer<KubernetesObject>,
      parse: (raw: unknown) => Parsed<T>,
    ): T[] =>
      informer.list().flatMap((raw) => {
        const result = parse(raw);
        if (result.ok) return [result.value];
        parseErrors.push({ kind, name: raw.metadata?.name ?? '?', message: result.errors.join('; ') });
        return [];
      });
    const peers = parseAll<ParsedBGPPeer>('BGPPeer', this.peers, (raw) => {
      const r = parseBGPPeer(raw);
      return r.ok ? { ok: true, value: r.peer } : r;
    });
    const advertisements = parseAll<ParsedBGPAdvertisement>('BGPAdvertisement', this.advertisements, (raw) => {
      const r = parseBGPAdvertisement(raw);
      return r.ok ? { ok: true, value: r.advertisement } : r;
    });
    const bfdProfiles = parseAll<ParsedBFDProfile>('BFDProfile', this.profiles, (raw) => {
      const r = parseBFDProfile(raw);
      return r.ok ? { ok: true, value: r.profile } : r;
    });
    const communities = parseAll<ParsedCommunityAliases>('Community', this.communities, (raw) => {
      const r = parseCommunity(raw);
      return r.ok ? { ok: true, value: r.community } : r;
    });
    // Malformed pools are the controller's to report; here they are only left out.
    const pools = cluster.pools.flatMap((raw): ParsedPool[] => {
      const result = parsePool(raw);
      return result.ok ? [result.pool] : [];
    });
    const secrets = new Map<string, SecretFacts>();
    for (const s of this.secrets.list()) {
      secrets.set(s.metadata?.name ?? '', {
        type: s.type,
        data: s.data,
      });
    }
    return {
      inputs: {
        node: node ?? { name: nodeName, labels: {}, networkUnavailable: true },
        peers,
        advertisements,
        bfdProfiles,
        communities,
        secrets,
        pools,
        services: cluster.services,
        endpoints: cluster.endpoints,
      },
      parseErrors,
    };
  }
}
