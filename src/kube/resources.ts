import {
  V1MicroTime,
  type KubernetesObject,
  type V1EndpointSlice,
  type V1Lease,
  type V1Namespace,
  type V1Node,
  type V1Secret,
  type V1Service,
} from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { API_GROUP, API_VERSION } from '../api/types.js';
import type { ResourceKind } from './informer.js';

// The resources ironlb lists and watches. Core types are decoded with
// client-node's own serializer, so an object from a list and the same object
// from a watch event look the same (Dates are Dates, not strings).

function decodeModel<T>(modelType: string): (raw: unknown) => T {
  return (raw: unknown): T => {
    const decoded: T = ObjectSerializer.deserialize(raw, modelType, '');
    return decoded;
  };
}

const nsPath = (namespace: string | undefined): string =>
  namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';

/** Services of all namespaces, or of one. */
export function servicesKind(namespace?: string): ResourceKind<V1Service> {
  return {
    resource: 'services',
    path: `/api/v1${nsPath(namespace)}/services`,
    decode: decodeModel<V1Service>('V1Service'),
  };
}

export function nodesKind(): ResourceKind<V1Node> {
  return { resource: 'nodes', path: '/api/v1/nodes', decode: decodeModel<V1Node>('V1Node') };
}

export function namespacesKind(): ResourceKind<V1Namespace> {
  return { resource: 'namespaces', path: '/api/v1/namespaces', decode: decodeModel<V1Namespace>('V1Namespace') };
}

export function secretsKind(namespace: string): ResourceKind<V1Secret> {
  const path = `/api/v1${nsPath(namespace)}/secrets`;
  return { resource: 'secrets', path, decode: decodeModel<V1Secret>('V1Secret') };
}

export function endpointSlicesKind(namespace?: string): ResourceKind<V1EndpointSlice> {
  return {
    resource: 'endpointslices',
    path: `/apis/discovery.k8s.io/v1${nsPath(namespace)}/endpointslices`,
    decode: decodeModel<V1EndpointSlice>('V1EndpointSlice'),
  };
}

/**
 * client-node 1.4 leaves MicroTime fields as strings when reading (its
 * serializer does not know the type), so they are turned into V1MicroTime here:
 * readers get Dates, and writing the lease back sends microsecond precision.
 */
export function decodeLease(raw: unknown): V1Lease {
  const lease: V1Lease = ObjectSerializer.deserialize(raw, 'V1Lease', '');
  const spec = lease.spec;
  if (spec) {
    if (spec.acquireTime !== undefined) spec.acquireTime = toMicroTime(spec.acquireTime);
    if (spec.renewTime !== undefined) spec.renewTime = toMicroTime(spec.renewTime);
  }
  return lease;
}

/** A Date or RFC 3339 string as V1MicroTime (a plain Date is rejected by the API server for MicroTime fields). */
export function toMicroTime(value: Date | string): V1MicroTime {
  const time = new V1MicroTime(typeof value === 'string' ? Date.parse(value) : value.getTime());
  if (Number.isNaN(time.getTime())) throw new Error(`not a valid time: ${String(value)}`);
  return time;
}

export function leasesKind(namespace: string): ResourceKind<V1Lease> {
  return { resource: 'leases', path: `/apis/coordination.k8s.io/v1${nsPath(namespace)}/leases`, decode: decodeLease };
}

export interface CustomResourceRef {
  group: string;
  version: string;
  plural: string;
  /** Omit for all namespaces (or a cluster-scoped resource). */
  namespace?: string;
}

/** Our CRDs are kept as the JSON the server sent; src/api validates them. */
export function customResourceKind<T extends KubernetesObject>(ref: CustomResourceRef): ResourceKind<T> {
  return {
    resource: ref.plural,
    path: `/apis/${ref.group}/${ref.version}${nsPath(ref.namespace)}/${ref.plural}`,
    decode: (raw: unknown): T => {
      if (!raw || typeof raw !== 'object') throw new Error(`${ref.plural}: expected an object, got ${typeof raw}`);
      return raw as T;
    },
  };
}

/** ironlb's API group and version, as the CRD sources define them. */
export const IRONLB_GROUP = API_GROUP;
export const IRONLB_VERSION = API_VERSION;

export function ipAddressPoolsKind<T extends KubernetesObject = KubernetesObject>(namespace?: string): ResourceKind<T> {
  return customResourceKind<T>({ group: IRONLB_GROUP, version: IRONLB_VERSION, plural: 'ipaddresspools', namespace });
}

export function l2AdvertisementsKind<T extends KubernetesObject = KubernetesObject>(
  namespace?: string,
): ResourceKind<T> {
  return customResourceKind<T>({ group: IRONLB_GROUP, version: IRONLB_VERSION, plural: 'l2advertisements', namespace });
}

/** BGPPeer, BGPAdvertisement, BFDProfile, Community: the BGP mode's kinds (namespaced, like the pools). */
export function bgpKind<T extends KubernetesObject = KubernetesObject>(
  plural: 'bgppeers' | 'bgpadvertisements' | 'bfdprofiles' | 'communities',
  namespace?: string,
): ResourceKind<T> {
  return customResourceKind<T>({ group: IRONLB_GROUP, version: IRONLB_VERSION, plural, namespace });
}
