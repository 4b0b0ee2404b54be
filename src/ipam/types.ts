import type { LabelSelector } from '../api/types.js';
import type { IPAddress, IPFamily } from './address.js';
import type { IPRange } from './range.js';

export type IPFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
export type ExternalTrafficPolicy = 'Cluster' | 'Local';
export type PortProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePort {
  readonly protocol: PortProtocol;
  readonly port: number;
}

/** A validated pool, as parsePool (src/api/pool.ts) produces it and the Allocator consumes it. */
export interface PoolDefinition {
  readonly name: string;
  /** Milliseconds since the epoch; decides which of two overlapping pools is the newer. Undefined counts as newest. */
  readonly createdAt?: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Sorted, merged, non-overlapping. */
  readonly ranges: readonly IPRange[];
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  readonly serviceAllocation?: PoolServiceAllocation;
}

export interface PoolServiceAllocation {
  /** Lower first; undefined/0 = after all pools that set one. */
  readonly priority?: number;
  readonly namespaces: readonly string[];
  readonly namespaceSelectors: readonly LabelSelector[];
  readonly serviceSelectors: readonly LabelSelector[];
}

/** What the allocator needs to know about a Service (readServiceIntent provides all but namespaceLabels). */
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

/** Why an assignment was refused. Stable codes: the controller uses them as condition/event reasons. */
export type RefusalReason =
  | 'InvalidRequest'
  | 'PoolNotFound'
  | 'PoolInConflict'
  | 'PoolNotAllowed'
  | 'IPNotInAnyPool'
  | 'IPNotInRequestedPool'
  | 'IPFamilyMismatch'
  | 'IPInUse'
  | 'PortConflict'
  | 'SelectorMismatch'
  | 'NoMatchingPool'
  | 'NoPoolForFamily'
  | 'PoolExhausted';

export interface Refusal {
  readonly ok: false;
  readonly reason: RefusalReason;
  /** Names the Service, the IP/pool and the cause. */
  readonly message: string;
}

export interface AssignedIP {
  readonly ip: IPAddress;
  /** Canonical text, as written to status.loadBalancer.ingress. */
  readonly address: string;
  readonly pool: string;
}

/** An address the Service held that no longer fits it, and why (the same words at run time and at a restart). */
export interface DroppedIP {
  readonly address: string;
  readonly why: string;
}

export interface Assignment {
  readonly ok: true;
  /** In the Service's family order (primary first). */
  readonly ips: readonly AssignedIP[];
  /** False when the Service already held exactly these IPs. */
  readonly changed: boolean;
  /** Addresses the Service held (or, on restore, had in its status) that were not kept. */
  readonly dropped: readonly DroppedIP[];
}

export type AssignResult = Assignment | Refusal;

export interface FamilyUsage {
  readonly assigned: bigint;
  readonly available: bigint;
}

export interface PoolUsage {
  readonly ipv4: FamilyUsage;
  readonly ipv6: FamilyUsage;
}

export interface PoolConflict {
  /** The newer pool, which is in Conflict and hands out nothing new. */
  readonly pool: string;
  /** The older pool it overlaps; keeps working. */
  readonly overlapsWith: string;
  readonly message: string;
}

export interface LostAllocation {
  readonly service: string;
  /** The Service's IPs that no pool holds any more; the Service keeps its other IPs. */
  readonly ips: readonly string[];
  readonly message: string;
}

export interface MovedAllocation {
  readonly service: string;
  readonly ip: string;
  readonly fromPool: string;
  readonly toPool: string;
}

export interface PoolsReport {
  readonly conflicts: readonly PoolConflict[];
  readonly lost: readonly LostAllocation[];
  readonly moved: readonly MovedAllocation[];
}
