// The controller's per-Service decision: given a Service and the allocator,
// what its status, pool annotation, conditions and events should be. No I/O:
// the controller loop writes the decision and compares it with what it saw.
// The reconcile decides *when* to assign, keep or release; src/ipam's Allocator
// decides *which* address, from the Service's parsed intent.

import type { V1Service } from '@kubernetes/client-node';
import { formatIP } from '../ip/address.js';
import {
  CONDITION_ALLOCATED,
  announcedCondition,
  type AnnouncedReason,
  mergeConditions,
  withoutControllerConditions,
  type DesiredCondition,
  type OwnershipView,
  type ServiceCondition,
} from './conditions.js';
import { addressesWanted, requestChange } from './request-change.js';
import { ANNOTATION_IP_ALLOCATED_FROM_POOL } from '../api/annotations.js';
import { readServiceIntent, type AllocationRequest, type ServiceIntent } from '../api/service.js';
import type { Allocator } from '../ipam/allocator.js';
import type { Assignment, RefusalReason } from '../ipam/types.js';

export const POOL_ANNOTATION = ANNOTATION_IP_ALLOCATED_FROM_POOL;

/** Why a Service has no address: the allocator's refusal, or a requested pool that exists but does not parse. */
export type AllocationFailure = RefusalReason | 'PoolInvalid';
export type AllocatedReason = 'Allocated' | AllocationFailure;

export type EventType = 'Normal' | 'Warning';
export interface ServiceEvent {
  type: EventType;
  reason: 'IPAllocated' | 'AllocationFailed' | 'IPReleased' | 'PoolChanged' | 'DeprecatedAnnotation';
  message: string;
}

/** What the Service should look like after this reconcile. */
export interface ServiceDecision {
  key: string;
  /** False when the Service is not ours and carries nothing of ours: write nothing. */
  write: boolean;
  ingressIPs: string[];
  /** The pool annotation; undefined means absent. */
  pool: string | undefined;
  conditions: ServiceCondition[];
  events: ServiceEvent[];
  /** Addresses were freed. */
  released: boolean;
  /**
   * The allocator's uses changed in a way that can make an address usable to
   * another Service: addresses freed, or the terms one is held under (sharing
   * key, ports, protocol, traffic policy, selector) changed. Waiting Services
   * must be tried again.
   */
  usesChanged: boolean;
  /** Set when the decision is a new refusal, the one its AllocationFailed event tells: why (the failure metric). */
  refusal?: AllocationFailure;
}

interface Holding {
  ips: string[];
  pool: string;
  /** The request the addresses were given for: a change releases them or re-checks them (requestChange). */
  intent: ServiceIntent;
  /** A pool changed since this was checked: the next reconcile checks the addresses still fit. */
  recheck?: boolean;
}

export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>>;

export interface ReconcilerOptions {
  /** A fresh one per leadership term: the reconcile rebuilds it from the Services' status (restoreAll). */
  allocator: Allocator;
  /** The labels of a Service's namespace, for pools' namespaceSelectors. */
  namespaceLabels: NamespaceLabels;
  /** --lb-class: empty handles only Services without spec.loadBalancerClass. */
  lbClass: string;
  ownership: (ip: string) => OwnershipView | undefined;
  /** Why a pool that exists cannot be used (parse errors), so "not found" is not what users read. */
  poolProblem?: (pool: string) => string | undefined;
}

export function serviceKey(service: V1Service): string {
  return `${service.metadata?.namespace ?? ''}/${service.metadata?.name ?? ''}`;
}

export function statusIPs(service: V1Service): string[] {
  return (service.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => !!ip);
}

export function statusConditions(service: V1Service): ServiceCondition[] {
  return (service.status?.conditions ?? []).map((c) => ({
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
    lastTransitionTime:
      c.lastTransitionTime instanceof Date
        ? c.lastTransitionTime.toISOString().replace(/\.\d{3}Z$/, 'Z')
        : String(c.lastTransitionTime),
    observedGeneration: c.observedGeneration,
  }));
}

/** Why a Service is not ours, or undefined when it is. */
export function notManagedReason(service: V1Service, lbClass: string): string | undefined {
  if (service.metadata?.deletionTimestamp) return 'the Service is being deleted';
  if (service.spec?.type !== 'LoadBalancer')
    return `the Service is of type ${service.spec?.type ?? 'ClusterIP'}, not LoadBalancer`;
  const cls = service.spec?.loadBalancerClass ?? '';
  if (cls !== lbClass) {
    return lbClass
      ? `its loadBalancerClass "${cls}" is not "${lbClass}"`
      : `its loadBalancerClass "${cls}" is handled by another controller`;
  }
  return undefined;
}

function sameIPs(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');
}

/** The addresses of an assignment, primary family first, and its pool (two names joined when families differ). */
function given(assignment: Assignment): { ips: string[]; pool: string } {
  return {
    ips: assignment.ips.map((a) => a.address),
    pool: [...new Set(assignment.ips.map((a) => a.pool))].join(','),
  };
}

type Reading = { ok: true; intent: ServiceIntent } | { ok: false; reason: 'InvalidRequest'; message: string };

function read(service: V1Service): Reading {
  const result = readServiceIntent(service);
  return result.ok ? result : { ok: false, reason: 'InvalidRequest', message: result.errors.join('; ') };
}

export class ServiceReconciler {
  private readonly holdings = new Map<string, Holding>();
  private readonly pending = new Set<string>();
  /** Last refusal per pending Service, so a retry does not repeat the event. */
  private readonly lastRefusal = new Map<string, { reason: AllocationFailure; message: string }>();
  /** Services whose IP a pool edit took away, with the explanation for the next reconcile. */
  private readonly stranded = new Map<string, string>();
  private readonly legacyWarned = new Set<string>();
  /** Events to send with a Service's next decision (addresses its status held that a restart did not keep). */
  private readonly notices = new Map<string, ServiceEvent[]>();

  constructor(private readonly options: ReconcilerOptions) {}

  /** Services that want an IP and have none. */
  pendingKeys(): string[] {
    return [...this.pending];
  }

  /**
   * Services waiting for an address: those with none, and PreferDualStack ones
   * holding one family that may get the other when an address or pool appears.
   */
  waitingKeys(): string[] {
    const keys = [...this.pending];
    for (const [key, h] of this.holdings) if (h.ips.length < addressesWanted(h.intent)) keys.push(key);
    return keys;
  }

  /**
   * A pool or a namespace's labels changed: these holders' addresses are checked
   * again on their next reconcile (pool, serviceAllocation), as MetalLB re-checks
   * on a config change. Returns the holders chosen, to be queued.
   */
  recheck(which: (key: string) => boolean): string[] {
    const keys: string[] = [];
    for (const [key, h] of this.holdings) {
      if (!which(key)) continue;
      h.recheck = true;
      keys.push(key);
    }
    return keys;
  }

  holding(key: string): { ips: string[]; pool: string } | undefined {
    const h = this.holdings.get(key);
    return h && { ips: [...h.ips], pool: h.pool };
  }

  /** Services holding `ip` (several when shared). */
  keysHolding(ip: string): string[] {
    const keys: string[] = [];
    for (const [key, h] of this.holdings) if (h.ips.includes(ip)) keys.push(key);
    return keys;
  }

  allocatedIPs(): Set<string> {
    const ips = new Set<string>();
    for (const h of this.holdings.values()) for (const ip of h.ips) ips.add(ip);
    return ips;
  }

  /**
   * Controller start: registers the IPs every managed Service already holds,
   * before anything new is allocated, keeping each IP by the rules a running
   * controller keeps it by (the allocator's restore applies assign's fit rules):
   * a restart never changes an IP that still fits, and fixes one that does not as
   * run time would. Returns the Services whose status could not be kept whole.
   */
  restoreAll(services: readonly V1Service[]): Array<{ key: string; message: string }> {
    const refused: Array<{ key: string; message: string }> = [];
    for (const service of services) {
      const key = serviceKey(service);
      const ips = statusIPs(service);
      if (ips.length === 0 || notManagedReason(service, this.options.lbClass) !== undefined) continue;
      const reading = read(service);
      if (!reading.ok) continue;
      const intent = reading.intent;
      // A changed request releases at run time: its old IP is not held (nor blocks anyone).
      if (intent.requestedIPs.length > 0 && !sameIPs(intent.requestedIPs.map(formatIP), ips)) continue;
      const outcome = this.options.allocator.restore(key, ips, this.request(intent));
      if (!outcome.ok) {
        refused.push({ key, message: outcome.message });
        // The next reconcile allocates again and explains why in a PoolChanged event.
        this.stranded.set(key, `${ips.join(', ')} could not be kept after a restart (${outcome.message})`);
        continue;
      }
      const dropped = outcome.dropped;
      if (dropped.length > 0) {
        refused.push({ key, message: dropped.map((d) => d.why).join('; ') });
        this.notices.set(
          key,
          dropped.map((d) => ({ type: 'Normal', reason: 'IPReleased', message: `released ${d.address}: ${d.why}` })),
        );
      }
      this.holdings.set(key, { ...given(outcome), intent });
    }
    return refused;
  }

  /**
   * A pool edit took this Service's addresses away (the allocator's report):
   * the next reconcile allocates again and says why in a PoolChanged event.
   */
  strand(key: string, lostIPs: readonly string[], why: string): void {
    if (!this.holdings.has(key)) return;
    // The allocator already dropped the lost IPs; the next assign keeps the rest and fills the gap.
    this.holdings.delete(key);
    this.stranded.set(key, `${lostIPs.join(', ')} ${why}`);
  }

  /** A pool edit left the Service's IP in place but inside another pool: the annotation follows. */
  movePool(key: string, pool: string): void {
    const h = this.holdings.get(key);
    if (h) h.pool = pool;
  }

  /** The Service is gone: free its addresses. Returns true when something was freed. */
  forget(key: string): boolean {
    this.pending.delete(key);
    this.notices.delete(key);
    this.lastRefusal.delete(key);
    this.stranded.delete(key);
    this.legacyWarned.delete(key);
    return this.releaseHolding(key);
  }

  reconcile(service: V1Service, now: Date): ServiceDecision {
    const key = serviceKey(service);
    const current = statusConditions(service);
    const notOurs = notManagedReason(service, this.options.lbClass);
    if (notOurs !== undefined) return this.unmanaged(service, key, current, notOurs);

    const events: ServiceEvent[] = [...(this.notices.get(key) ?? [])];
    this.notices.delete(key);
    let released = events.length > 0;
    let termsChanged = false;
    const reading = read(service);
    if (!reading.ok) {
      released = this.releaseFor(key, `the request is invalid: ${reading.message}`, events);
      return this.refused(service, key, current, reading.reason, reading.message, events, released, now);
    }
    const intent = reading.intent;
    const legacyPrefix = intent.compatAnnotations[0]?.prefix;
    if (legacyPrefix && !this.legacyWarned.has(key)) {
      this.legacyWarned.add(key);
      events.push({
        type: 'Normal',
        reason: 'DeprecatedAnnotation',
        message: `annotations under ${legacyPrefix} are honoured; ironlb.io/ is the native prefix`,
      });
    }

    const held = this.holdings.get(key);
    const change = held && requestChange(held.intent, intent);
    if (held && change === 'identity') {
      released = this.releaseFor(key, 'the requested IPs, pool or IP families changed', events);
    } else if (held && (change === 'placement' || held.ips.length < addressesWanted(intent) || held.recheck)) {
      // Ports, sharing, labels, traffic policy or IP families changed, or a family is
      // still missing: assign keeps each IP that still fits and fills the rest in place.
      // A change of terms may also make the address usable to a waiting Service.
      termsChanged = change === 'placement';
      const again = this.options.allocator.assign(key, this.request(intent));
      if (!again.ok) {
        this.releaseFor(key, again.message, events);
        return this.refused(service, key, current, again.reason, again.message, events, true, now);
      }
      for (const d of again.dropped) {
        events.push({ type: 'Normal', reason: 'IPReleased', message: `released ${d.address}: ${d.why}` });
        released = true;
      }
      const { ips, pool } = given(again);
      const added = ips.filter((ip) => !held.ips.includes(ip));
      if (added.length > 0) {
        const message = `assigned ${added.join(', ')} from pool ${pool}`;
        events.push({ type: 'Normal', reason: 'IPAllocated', message });
      }
      this.holdings.set(key, { ips, pool, intent });
    }

    let holding = this.holdings.get(key);
    if (!holding) {
      const outcome = this.options.allocator.assign(key, this.request(intent));
      if (!outcome.ok) {
        const pool = intent.requestedPool;
        const problem = outcome.reason === 'PoolNotFound' && pool ? this.options.poolProblem?.(pool) : undefined;
        if (problem) {
          const message = `${key}: requested pool "${pool}" is invalid: ${problem}`;
          return this.refused(service, key, current, 'PoolInvalid', message, events, released, now);
        }
        return this.refused(service, key, current, outcome.reason, outcome.message, events, released, now);
      }
      const { ips, pool } = given(outcome);
      holding = { ips, pool, intent };
      this.holdings.set(key, holding);
      const strandedWhy = this.stranded.get(key);
      this.stranded.delete(key);
      if (strandedWhy !== undefined) {
        const message = `${strandedWhy}; re-allocated ${ips.join(', ')} from pool ${pool}`;
        events.push({ type: 'Warning', reason: 'PoolChanged', message });
      }
      events.push({ type: 'Normal', reason: 'IPAllocated', message: `assigned ${ips.join(', ')} from pool ${pool}` });
    }
    this.pending.delete(key);
    this.lastRefusal.delete(key);

    const desired: [DesiredCondition<AllocatedReason>, DesiredCondition<AnnouncedReason>] = [
      {
        type: CONDITION_ALLOCATED,
        status: 'True',
        reason: 'Allocated',
        message: `${holding.ips.join(', ')} from pool ${holding.pool}`,
      },
      announcedCondition(holding.ips, this.options.ownership),
    ];
    return {
      key,
      write: true,
      ingressIPs: [...holding.ips],
      pool: holding.pool,
      conditions: mergeConditions(current, desired, now, service.metadata?.generation),
      events,
      released,
      usesChanged: released || termsChanged,
    };
  }

  /** What the allocator is asked: the parsed intent and its namespace's labels, read now. */
  private request(intent: ServiceIntent): AllocationRequest {
    return { ...intent, namespaceLabels: this.options.namespaceLabels(intent.namespace) };
  }

  private refused(
    service: V1Service,
    key: string,
    current: ServiceCondition[],
    reason: AllocationFailure,
    message: string,
    events: ServiceEvent[],
    released: boolean,
    now: Date,
  ): ServiceDecision {
    this.pending.add(key);
    const last = this.lastRefusal.get(key);
    const isNew = last?.reason !== reason || last.message !== message;
    if (isNew) {
      this.lastRefusal.set(key, { reason, message });
      events.push({ type: 'Warning', reason: 'AllocationFailed', message });
    }
    const desired: [DesiredCondition<AllocatedReason>, DesiredCondition<AnnouncedReason>] = [
      { type: CONDITION_ALLOCATED, status: 'False', reason, message },
      announcedCondition([], this.options.ownership),
    ];
    return {
      key,
      write: true,
      ingressIPs: [],
      pool: undefined,
      conditions: mergeConditions(current, desired, now, service.metadata?.generation),
      events,
      released,
      usesChanged: released,
      refusal: isNew ? reason : undefined,
    };
  }

  private unmanaged(service: V1Service, key: string, current: ServiceCondition[], why: string): ServiceDecision {
    const events: ServiceEvent[] = [];
    const released = this.releaseFor(key, why, events);
    this.pending.delete(key);
    this.lastRefusal.delete(key);
    this.stranded.delete(key);
    // Clear what we wrote when we held it, or (after a restart) when the Service is no longer a
    // LoadBalancer at all. A Service of another class may belong to another ironlb: never touch it.
    const markedOurs =
      !!service.metadata?.annotations?.[POOL_ANNOTATION] ||
      current.length !== withoutControllerConditions(current).length;
    const noLongerLoadBalancer = service.spec?.type !== 'LoadBalancer';
    const gone = !!service.metadata?.deletionTimestamp;
    return {
      key,
      write: (released || (markedOurs && noLongerLoadBalancer)) && !gone,
      ingressIPs: [],
      pool: undefined,
      conditions: withoutControllerConditions(current),
      events,
      released,
      usesChanged: released,
    };
  }

  private releaseFor(key: string, why: string, events: ServiceEvent[]): boolean {
    const h = this.holdings.get(key);
    if (!this.releaseHolding(key) || !h) return false;
    events.push({ type: 'Normal', reason: 'IPReleased', message: `released ${h.ips.join(', ')}: ${why}` });
    return true;
  }

  private releaseHolding(key: string): boolean {
    if (!this.holdings.has(key)) return false;
    this.options.allocator.release(key);
    this.holdings.delete(key);
    return true;
  }
}
