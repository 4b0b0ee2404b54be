import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { parseIP, type IPAddress, type IPFamily } from '../ip/address.js';
import {
  ANNOTATION_ADDRESS_POOL,
  ANNOTATION_ALLOW_SHARED_IP,
  ANNOTATION_LOAD_BALANCER_IPS,
  lookupAnnotation,
  type AnnotationLookup,
} from './annotations.js';

export type IPFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
export type ExternalTrafficPolicy = 'Cluster' | 'Local';
export type PortProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePort {
  readonly protocol: PortProtocol;
  readonly port: number;
}

/** What the allocator (src/ipam) needs to know about a Service (readServiceIntent provides all but namespaceLabels). */
export interface AllocationRequest {
  /** From the loadBalancerIPs annotation or spec.loadBalancerIP; at most one per family. */
  readonly requestedIPs: readonly IPAddress[];
  readonly requestedPool?: string;
  readonly sharingKey?: string;
  readonly ipFamilyPolicy: IPFamilyPolicy;
  /** Primary family first (spec.ipFamilies order; SingleStack: the clusterIP's family). */
  readonly ipFamilies: readonly IPFamily[];
  readonly ports: readonly ServicePort[];
  readonly externalTrafficPolicy: ExternalTrafficPolicy;
  /** spec.selector; compared for sharing when externalTrafficPolicy is Local. */
  readonly selector: Readonly<Record<string, string>>;
  /** The Service's own labels, for serviceSelectors. */
  readonly serviceLabels: Readonly<Record<string, string>>;
  /** Labels of the Service's namespace, for namespaceSelectors. */
  readonly namespaceLabels: Readonly<Record<string, string>>;
}

/** Everything ironlb reads from a Service, validated. All of AllocationRequest except the namespace's labels. */
export interface ServiceIntent extends Omit<AllocationRequest, 'namespaceLabels'> {
  /** `namespace/name`, the allocator's key. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly type: string;
  readonly loadBalancerClass?: string;
  /** Where requestedIPs came from, for messages. */
  readonly requestedIPsSource?: 'annotation' | 'spec.loadBalancerIP';
  /** Annotations found only under a MetalLB prefix (the controller may note the deprecation). */
  readonly compatAnnotations: readonly AnnotationLookup[];
}

export type ReadServiceResult = { ok: true; intent: ServiceIntent } | { ok: false; errors: string[] };

const POLICIES: readonly IPFamilyPolicy[] = ['SingleStack', 'PreferDualStack', 'RequireDualStack'];
const PROTOCOLS: readonly PortProtocol[] = ['TCP', 'UDP', 'SCTP'];
const FAMILIES: readonly IPFamily[] = ['IPv4', 'IPv6'];

function otherFamily(family: IPFamily): IPFamily {
  return family === 'IPv4' ? 'IPv6' : 'IPv4';
}

/** Reads a Service into a ServiceIntent. Pure; never throws on bad input, every error names the field. */
export function readServiceIntent(svc: V1Service): ReadServiceResult {
  const errors: string[] = [];
  const name = svc.metadata?.name;
  const namespace = svc.metadata?.namespace;
  if (!name) errors.push('metadata.name: required');
  if (!namespace) errors.push('metadata.namespace: required');
  const annotations = svc.metadata?.annotations ?? {};
  const spec = svc.spec ?? {};
  const compatAnnotations: AnnotationLookup[] = [];
  const lookup = (key: string): AnnotationLookup | undefined => {
    const found = lookupAnnotation(annotations, key);
    if (found?.compat) compatAnnotations.push(found);
    return found;
  };

  const ipsAnnotation = lookup(ANNOTATION_LOAD_BALANCER_IPS);
  let requestedIPs: IPAddress[] = [];
  let requestedIPsSource: ServiceIntent['requestedIPsSource'];
  if (ipsAnnotation && spec.loadBalancerIP) {
    errors.push(`${ipsAnnotation.key} and spec.loadBalancerIP are both set; use only the annotation`);
  } else if (ipsAnnotation) {
    requestedIPs = parseRequestedIPs(ipsAnnotation, errors);
    requestedIPsSource = 'annotation';
  } else if (spec.loadBalancerIP) {
    const parsed = parseIP(spec.loadBalancerIP);
    if (parsed.ok) requestedIPs = [parsed.ip];
    else errors.push(`spec.loadBalancerIP: ${parsed.error}`);
    requestedIPsSource = 'spec.loadBalancerIP';
  }

  const poolAnnotation = lookup(ANNOTATION_ADDRESS_POOL);
  const requestedPool = poolAnnotation?.value.trim();
  if (poolAnnotation && !requestedPool) errors.push(`${poolAnnotation.key}: must name a pool`);
  // An empty sharing key means "no sharing", as in MetalLB.
  const sharingKey = lookup(ANNOTATION_ALLOW_SHARED_IP)?.value.trim() || undefined;

  const ipFamilyPolicy = (spec.ipFamilyPolicy ?? 'SingleStack') as IPFamilyPolicy;
  if (!POLICIES.includes(ipFamilyPolicy))
    errors.push(`spec.ipFamilyPolicy: must be one of ${POLICIES.join(', ')} (got "${spec.ipFamilyPolicy}")`);
  const ipFamilies = readFamilies(
    spec.ipFamilies,
    spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : []),
    ipFamilyPolicy,
    errors,
  );

  const ports = readPorts(spec.ports, errors);
  const externalTrafficPolicy = (spec.externalTrafficPolicy ?? 'Cluster') as ExternalTrafficPolicy;
  if (externalTrafficPolicy !== 'Cluster' && externalTrafficPolicy !== 'Local') {
    errors.push(`spec.externalTrafficPolicy: must be Cluster or Local (got "${spec.externalTrafficPolicy}")`);
  }

  if (errors.length > 0) return { ok: false, errors };
  const intent: ServiceIntent = {
    key: `${namespace}/${name}`,
    namespace: namespace!,
    name: name!,
    type: spec.type ?? 'ClusterIP',
    // An empty class is no class.
    loadBalancerClass: spec.loadBalancerClass || undefined,
    requestedIPs,
    requestedIPsSource,
    requestedPool,
    sharingKey,
    ipFamilyPolicy,
    ipFamilies,
    ports,
    externalTrafficPolicy,
    selector: spec.selector ?? {},
    serviceLabels: svc.metadata?.labels ?? {},
    compatAnnotations,
  };
  return { ok: true, intent };
}

function parseRequestedIPs(annotation: AnnotationLookup, errors: string[]): IPAddress[] {
  const entries = annotation.value.split(',').map((s) => s.trim());
  const ips: IPAddress[] = [];
  entries.forEach((entry, index) => {
    if (entry === '') {
      errors.push(`${annotation.key}: entry ${index + 1} is empty`);
      return;
    }
    const parsed = parseIP(entry);
    if (!parsed.ok) errors.push(`${annotation.key}: ${parsed.error}`);
    else ips.push(parsed.ip);
  });
  if (ips.length > 2) errors.push(`${annotation.key}: at most two addresses (one per family), got ${ips.length}`);
  else if (ips.length === 2 && ips[0]!.family === ips[1]!.family) {
    errors.push(`${annotation.key}: two ${ips[0]!.family} addresses; give at most one per family`);
  }
  return ips;
}

/**
 * The families to allocate, primary first. SingleStack follows the clusterIP's
 * family; dual-stack policies follow spec.ipFamilies (the API server fills it),
 * and without it try both, IPv4 first.
 */
function readFamilies(
  rawFamilies: string[] | undefined,
  clusterIPs: string[],
  policy: IPFamilyPolicy,
  errors: string[],
): IPFamily[] {
  const declared: IPFamily[] = [];
  for (const [index, family] of (rawFamilies ?? []).entries()) {
    if (!FAMILIES.includes(family as IPFamily))
      errors.push(`spec.ipFamilies[${index}]: must be IPv4 or IPv6 (got "${family}")`);
    else if (declared.includes(family as IPFamily)) errors.push(`spec.ipFamilies[${index}]: ${family} is listed twice`);
    else declared.push(family as IPFamily);
  }
  const clusterFamilies: IPFamily[] = [];
  for (const ip of clusterIPs) {
    const parsed = parseIP(ip);
    // "None" (headless) and "" carry no family.
    if (parsed.ok && !clusterFamilies.includes(parsed.ip.family)) clusterFamilies.push(parsed.ip.family);
  }
  const known = declared.length > 0 ? declared : clusterFamilies;
  if (policy === 'SingleStack') return [clusterFamilies[0] ?? known[0] ?? 'IPv4'];
  if (known.length === 0) return ['IPv4', 'IPv6'];
  if (policy === 'RequireDualStack' && known.length === 1) return [known[0]!, otherFamily(known[0]!)];
  return known;
}

function readPorts(rawPorts: readonly V1ServicePort[] | undefined, errors: string[]): ServicePort[] {
  const ports: ServicePort[] = [];
  for (const [index, port] of (rawPorts ?? []).entries()) {
    const protocol = (port.protocol ?? 'TCP') as PortProtocol;
    if (!PROTOCOLS.includes(protocol))
      errors.push(`spec.ports[${index}].protocol: must be TCP, UDP or SCTP (got "${port.protocol}")`);
    if (!Number.isInteger(port.port) || port.port < 1 || port.port > 65535) {
      errors.push(`spec.ports[${index}].port: must be 1-65535 (got ${JSON.stringify(port.port)})`);
    }
    ports.push({ protocol, port: port.port });
  }
  return ports;
}
