// What the reconcile needs from address management, as a narrow interface: the
// reconcile decides *when* to assign, keep or release; the allocator behind
// it decides *which* address (src/ipam through ipam-adapter.ts).

import type { V1Service } from '@kubernetes/client-node';

/** The parts of a Service's request that the reconcile compares over time. */
export interface RequestSummary {
  /** Explicitly requested IPs (annotation or spec.loadBalancerIP), canonical text. */
  requestedIPs: string[];
  /** Explicitly requested pool (annotation), if any. */
  requestedPool?: string;
  /** Changes here (requested IPs, pool) release the IP and allocate afresh. */
  identity: string;
  /**
   * Changes here (ports, sharing key, traffic policy, selector, labels, IP family
   * policy and families) keep each IP that still fits and fill what is missing.
   */
  placement: string;
  /** How many addresses the Service wants: 1 for SingleStack, else its number of families. */
  families: number;
  /** Which annotation prefix was used, when it was not ironlb.io (for a hint event). */
  legacyPrefix?: string;
}

export type RequestReading = { ok: true; summary: RequestSummary } | { ok: false; reason: string; message: string };

export type AllocationOutcome =
  /** `dropped`: addresses the Service held (or had in its status) that no longer fit it, and why. */
  | { ok: true; ips: string[]; pool: string; dropped?: Array<{ address: string; why: string }> }
  | { ok: false; reason: string; message: string };

export interface ServiceAllocator {
  /** Reads (and validates) what the Service asks for. */
  read(service: V1Service): RequestReading;
  /** Gives the Service addresses, lowest free first, by the allocation order of design.md section 3. */
  assign(key: string, service: V1Service): AllocationOutcome;
  /** Re-registers what still fits of the addresses in the Service's status (controller start), by assign's rules. */
  restore(key: string, ips: readonly string[], service: V1Service): AllocationOutcome;
  release(key: string): void;
}
