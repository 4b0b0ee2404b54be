/**
 * The raw shapes of ironlb's custom resources as they come from the API server
 * (group ironlb.io, version v1beta1). The spec and status types are derived
 * from the CRD schemas in ./schema (the one source of the CRDs). Fields are
 * optional where the schema allows it: these are untrusted input until
 * parsePool / parseL2Advertisement have checked them.
 */
import { API_GROUP, API_VERSION } from './schema/crd.js';
import { ipAddressPoolCrd, type IPAddressPoolSpec, type IPAddressPoolStatus } from './schema/ipaddresspool.js';
import { l2AdvertisementCrd, type L2AdvertisementSpec } from './schema/l2advertisement.js';

export { API_GROUP, API_VERSION };
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

export const IP_ADDRESS_POOL_KIND = ipAddressPoolCrd.kind;
export const IP_ADDRESS_POOL_PLURAL = ipAddressPoolCrd.plural;
export const L2_ADVERTISEMENT_KIND = l2AdvertisementCrd.kind;
export const L2_ADVERTISEMENT_PLURAL = l2AdvertisementCrd.plural;

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  /** RFC 3339 text as the API server sends it; the client may also hand a Date. */
  creationTimestamp?: string | Date;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export type {
  Condition,
  ConditionStatus,
  LabelSelector,
  LabelSelectorOperator,
  LabelSelectorRequirement,
} from './schema/common.js';
export type { IPAddressPoolSpec, IPAddressPoolStatus, ServiceAllocation } from './schema/ipaddresspool.js';
export type { L2AdvertisementSpec } from './schema/l2advertisement.js';

/** Pool condition types written by the controller. */
export const POOL_CONDITION_VALID = 'Valid';
export const POOL_CONDITION_CONFLICT = 'Conflict';

export interface IPAddressPool {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: IPAddressPoolSpec;
  status?: IPAddressPoolStatus;
}

export interface L2Advertisement {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: L2AdvertisementSpec;
}
