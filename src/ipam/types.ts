import type { IPAddress } from '../ip/address.js';

/** Why an assignment was refused. Stable codes: the controller uses them as condition/event reasons. */
export const REFUSAL_REASONS = [
  'InvalidRequest',
  'PoolNotFound',
  'PoolInConflict',
  'PoolNotAllowed',
  'IPNotInAnyPool',
  'IPNotInRequestedPool',
  'IPFamilyMismatch',
  'IPInUse',
  'PortConflict',
  'SelectorMismatch',
  'NoMatchingPool',
  'NoPoolForFamily',
  'PoolExhausted',
] as const;

export type RefusalReason = (typeof REFUSAL_REASONS)[number];

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
