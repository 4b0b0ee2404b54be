// What the reconcile needs from address management, as a narrow port: the
// reconcile decides *when* to assign, keep or release; the allocator behind
// this port decides *which* address (src/ipam through ipam-adapter.ts).

import type { V1Service } from '@kubernetes/client-node';

/** The parts of a Service's request that the reconcile compares over time. */
export interface RequestSummary {
  /** Explicitly requested IPs (annotation or spec.loadBalancerIP), canonical text. */
  requestedIPs: string[];
  /** Explicitly requested pool (annotation), if any. */
  requestedPool?: string;
  /** Changes here (requested IPs, pool, IP families) release the IP and allocate afresh. */
  identity: string;
  /** Changes here (ports, sharing key, traffic policy, selector) keep the IP when it is still valid. */
  placement: string;
  /** Which annotation prefix was used, when it was not ironlb.io (for a hint event). */
  legacyPrefix?: string;
}

export type RequestReading = { ok: true; summary: RequestSummary } | { ok: false; reason: string; message: string };

export type AllocationOutcome =
  | { ok: true; ips: string[]; pool: string }
  | { ok: false; reason: string; message: string };

export interface ServiceAllocator {
  /** Reads (and validates) what the Service asks for. */
  read(service: V1Service): RequestReading;
  /** Gives the Service addresses, lowest free first, by the allocation order of design.md section 3. */
  assign(key: string, service: V1Service): AllocationOutcome;
  /** Re-registers addresses the Service already holds in its status (controller start). */
  restore(key: string, ips: readonly string[], service: V1Service): AllocationOutcome;
  release(key: string): void;
}
