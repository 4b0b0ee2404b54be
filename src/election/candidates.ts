import {
  advertisementCoversPool,
  advertisementSelectsNode,
  type ParsedL2Advertisement,
} from '../api/l2advertisement.js';
import type { Labels } from '../api/selector.js';
import { compareStrings } from './plan.js';

// Which nodes may hold each IP, by configuration alone (docs/election.md,
// "Candidates"). Liveness is the state machine's business: it intersects
// these sets with the speakers it currently sees renewing.

export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

export interface NodeFacts {
  name: string;
  labels: Labels;
  /** The node's NetworkUnavailable condition is True. */
  networkUnavailable: boolean;
}

export interface PoolFacts {
  name: string;
  labels: Labels;
}

export interface ServiceFacts {
  namespace: string;
  name: string;
  /** The IPs in status.loadBalancer.ingress. */
  ips: readonly string[];
  /** `ironlb.io/ip-allocated-from-pool`, when the controller wrote it. */
  pool?: string;
  externalTrafficPolicy: 'Cluster' | 'Local';
}

/** One endpoint of a Service, from an EndpointSlice. */
export interface EndpointFacts {
  serviceNamespace: string;
  serviceName: string;
  nodeName?: string;
  /** conditions.ready; absent means ready (EndpointSlice API semantics). */
  ready?: boolean;
}

export interface CandidateInputs {
  nodes: readonly NodeFacts[];
  pools: readonly PoolFacts[];
  advertisements: readonly ParsedL2Advertisement[];
  services: readonly ServiceFacts[];
  endpoints: readonly EndpointFacts[];
  /** Interfaces each speaker publishes in its heartbeat Lease (its eligible interfaces). */
  speakerInterfaces: ReadonlyMap<string, readonly string[]>;
  /** The pool holding an IP when the Service does not name it (address math lives in ipam). */
  poolOfIp?: (ip: string) => string | undefined;
}

export interface ServiceRef {
  namespace: string;
  name: string;
}

export interface IpCandidates {
  /** Nodes that may hold the IP; empty when nothing advertises it. */
  eligible: Set<string>;
  /** Every Service on the IP (more than one when shared). */
  services: ServiceRef[];
  pool?: string;
  /** Why the set is empty, for the log line. */
  reason?: string;
}

/** Candidate nodes per IP, for every IP some Service holds. */
export function computeCandidates(inputs: CandidateInputs): Map<string, IpCandidates> {
  const servicesByIp = new Map<string, ServiceFacts[]>();
  for (const service of inputs.services) {
    for (const ip of new Set(service.ips)) {
      const list = servicesByIp.get(ip) ?? [];
      list.push(service);
      servicesByIp.set(ip, list);
    }
  }
  const readyNodes = readyNodesByService(inputs.endpoints);
  const poolLabels = new Map(inputs.pools.map((p) => [p.name, p.labels]));
  const usableNodes = inputs.nodes.filter((n) => !n.networkUnavailable && !(EXCLUDE_FROM_LB_LABEL in n.labels));

  const result = new Map<string, IpCandidates>();
  for (const [ip, services] of [...servicesByIp].sort((a, b) => compareStrings(a[0], b[0]))) {
    const refs = services.map((s) => ({ namespace: s.namespace, name: s.name }));
    const pool = services.find((s) => s.pool !== undefined)?.pool ?? inputs.poolOfIp?.(ip);
    const labels = pool === undefined ? undefined : poolLabels.get(pool);
    if (pool === undefined || labels === undefined) {
      result.set(ip, {
        eligible: new Set(),
        services: refs,
        pool,
        reason: pool === undefined ? 'no pool holds the IP' : `pool ${pool} not found`,
      });
      continue;
    }
    const advertisements = inputs.advertisements.filter((a) => advertisementCoversPool(a, pool, labels));
    if (advertisements.length === 0) {
      result.set(ip, { eligible: new Set(), services: refs, pool, reason: `no L2Advertisement covers pool ${pool}` });
      continue;
    }
    const eligible = new Set<string>();
    for (const node of usableNodes) {
      const interfaces = inputs.speakerInterfaces.get(node.name) ?? [];
      const advertised = advertisements.some(
        (a) =>
          advertisementSelectsNode(a, node.labels) &&
          (a.interfaces.length === 0 ? interfaces.length > 0 : a.interfaces.some((i) => interfaces.includes(i))),
      );
      if (!advertised) continue;
      const servesLocally = services.every(
        (s) =>
          s.externalTrafficPolicy !== 'Local' ||
          (readyNodes.get(serviceKey(s.namespace, s.name))?.has(node.name) ?? false),
      );
      if (servesLocally) eligible.add(node.name);
    }
    result.set(ip, { eligible, services: refs, pool, reason: eligible.size === 0 ? 'no node qualifies' : undefined });
  }
  return result;
}

/**
 * Interfaces `node` should announce `ip` on: the named interfaces of every
 * advertisement that covers the pool and selects the node, restricted to what
 * the node has; 'auto' when one of them names none (pick by subnet).
 */
export function announceInterfaces(
  inputs: Pick<CandidateInputs, 'advertisements' | 'pools'>,
  pool: string,
  node: NodeFacts,
  nodeInterfaces: readonly string[],
): readonly string[] | 'auto' {
  const labels = inputs.pools.find((p) => p.name === pool)?.labels;
  if (labels === undefined) return [];
  const chosen = new Set<string>();
  for (const a of inputs.advertisements) {
    if (!advertisementCoversPool(a, pool, labels) || !advertisementSelectsNode(a, node.labels)) continue;
    if (a.interfaces.length === 0) return 'auto';
    for (const i of a.interfaces) if (nodeInterfaces.includes(i)) chosen.add(i);
  }
  return [...chosen].sort(compareStrings);
}

function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function readyNodesByService(endpoints: readonly EndpointFacts[]): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  for (const e of endpoints) {
    if (e.nodeName === undefined || e.ready === false) continue;
    const key = serviceKey(e.serviceNamespace, e.serviceName);
    const nodes = result.get(key) ?? new Set<string>();
    nodes.add(e.nodeName);
    result.set(key, nodes);
  }
  return result;
}
