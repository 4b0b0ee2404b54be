/**
 * The raw shapes of ironlb's custom resources as they come from the API server
 * (group ironlb.io, version v1beta1). Everything is optional or loosely typed on
 * purpose: these are untrusted input until parsePool / parseL2Advertisement
 * have checked them.
 */

export const API_GROUP = 'ironlb.io';
export const API_VERSION = 'v1beta1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

export const IP_ADDRESS_POOL_KIND = 'IPAddressPool';
export const IP_ADDRESS_POOL_PLURAL = 'ipaddresspools';
export const L2_ADVERTISEMENT_KIND = 'L2Advertisement';
export const L2_ADVERTISEMENT_PLURAL = 'l2advertisements';

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

export type LabelSelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  key: string;
  operator: LabelSelectorOperator;
  values?: string[];
}

/** metav1.LabelSelector: every matchLabels entry and every expression must hold (an empty selector matches all). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface ServiceAllocation {
  /** Lower number = tried first; unset (or 0) = after every pool that sets one (MetalLB semantics). */
  priority?: number;
  namespaces?: string[];
  namespaceSelectors?: LabelSelector[];
  serviceSelectors?: LabelSelector[];
}

export interface IPAddressPoolSpec {
  /** CIDR, single IP or `start-end`; IPv4 and IPv6 may be mixed. */
  addresses: string[];
  /** Default true. */
  autoAssign?: boolean;
  /** Skip IPv4 addresses ending in .0 and .255. Default false. */
  avoidBuggyIPs?: boolean;
  serviceAllocation?: ServiceAllocation;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** Pool condition types written by the controller. */
export const POOL_CONDITION_VALID = 'Valid';
export const POOL_CONDITION_CONFLICT = 'Conflict';

/** Counts are decimal strings: an IPv6 /64 holds 2^64 addresses, more than a JSON number keeps exactly. */
export interface IPAddressPoolStatus {
  assignedIPv4?: string;
  availableIPv4?: string;
  assignedIPv6?: string;
  availableIPv6?: string;
  conditions?: Condition[];
}

export interface IPAddressPool {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: IPAddressPoolSpec;
  status?: IPAddressPoolStatus;
}

export interface L2AdvertisementSpec {
  /** Pool names this advertisement covers. With neither this nor the selectors set, it covers every pool. */
  ipAddressPools?: string[];
  ipAddressPoolSelectors?: LabelSelector[];
  /** Nodes that may announce; none = every node. */
  nodeSelectors?: LabelSelector[];
  /** Interfaces to announce on; none = pick by subnet, then every eligible interface. */
  interfaces?: string[];
}

export interface L2Advertisement {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: L2AdvertisementSpec;
}
