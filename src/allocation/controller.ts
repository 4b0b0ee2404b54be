// The controller loop: caches in, decisions out. It holds no kube code: the
// caches and writers are the interfaces below (src/kube/controller-io.ts adapts src/kube to them),
// so the loop reads as the allocation story and nothing else.

import type { KubernetesObject, V1Lease, V1Namespace, V1Service } from '@kubernetes/client-node';
import type { Logger } from '../log/logger.js';
import type { ControllerMetrics } from '../metrics/metrics.js';
import { parsePool, type PoolDefinition } from '../api/pool.js';
import type { IPAddressPoolStatus } from '../api/types.js';
import { Allocator } from '../ipam/allocator.js';
import type { PoolConflict, PoolsReport } from '../ipam/types.js';
import { CONFLICT_ANNOTATION, IP_LEASE_PREFIX, ipLeaseName } from '../api/leases.js';
import { sameConditions, type OwnershipView } from './conditions.js';
import {
  POOL_ANNOTATION,
  ServiceReconciler,
  serviceKey,
  statusConditions,
  statusIPs,
  type ServiceDecision,
  type ServiceEvent,
} from './reconcile.js';
import { desiredPoolStatus, poolStatusDiffers, poolWarnings } from './pool-status.js';
import { sameLabels } from './request-change.js';
import { WorkQueue } from './work-queue.js';

/** A synced cache of one resource (src/kube's Informer fits). */
export interface Cache<T> {
  on(handlers: { onAdd?: (o: T) => void; onUpdate?: (o: T, old: T) => void; onDelete?: (o: T) => void }): () => void;
  waitForSync(): Promise<void>;
  list(): T[];
  get(namespace: string, name: string): T | undefined;
}

export interface ObjectRef {
  kind: string;
  apiVersion: string;
  namespace: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

export interface ControllerIO {
  services: Cache<V1Service>;
  pools: Cache<KubernetesObject>;
  namespaces: Cache<V1Namespace>;
  /** Leases of the controller's namespace (the ownership Leases among them). */
  leases: Cache<V1Lease>;
  writeServiceStatus(namespace: string, name: string, status: NonNullable<V1Service['status']>): Promise<void>;
  writeServiceAnnotations(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void>;
  writePoolStatus(namespace: string, name: string, status: IPAddressPoolStatus): Promise<void>;
  recordEvent(ref: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** Deletes a Lease of the namespace if it is still at this resourceVersion. */
  deleteLease(name: string, resourceVersion: string): Promise<void>;
}

export interface AllocationControllerOptions {
  io: ControllerIO;
  namespace: string;
  lbClass: string;
  logger: Logger;
  metrics?: ControllerMetrics;
  now?: () => Date;
  concurrency?: number;
  /** An ownership Lease of an IP no Service holds is deleted after this long (the owner normally deletes it). */
  orphanLeaseGraceMs?: number;
}

const POOL_STATUS_DELAY_MS = 200;
const DEFAULT_ORPHAN_GRACE_MS = 60_000;

export class AllocationController {
  /** Fresh with each controller: every leadership term starts again from the Services' status. */
  private readonly allocator = new Allocator();
  private readonly reconciler: ServiceReconciler;
  private readonly queue: WorkQueue;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly leaseHolders = new Map<string, Set<string>>();
  private readonly leasesOfKey = new Map<string, string[]>();
  private poolErrors = new Map<string, string[]>();
  /** parsePool's notes per valid pool (host bits masked). */
  private poolNotes = new Map<string, string[]>();
  private poolConflicts = new Map<string, PoolConflict>();
  private poolStatusTimer: NodeJS.Timeout | undefined;
  private orphanTimer: NodeJS.Timeout | undefined;
  /** Ownership Leases of unallocated IPs, with when (monotonic ms) they were first seen so. */
  private readonly orphanSince = new Map<string, number>();
  /** Pools that have metrics series, so a deleted pool's series go too. */
  private readonly poolsWithMetrics = new Set<string>();
  private started = false;
  private stopped = false;
  private markStarted: () => void = () => undefined;
  private readonly startedOnce = new Promise<void>((resolve) => (this.markStarted = resolve));
  private readonly now: () => Date;

  constructor(private readonly options: AllocationControllerOptions) {
    this.now = options.now ?? (() => new Date());
    this.reconciler = new ServiceReconciler({
      allocator: this.allocator,
      namespaceLabels: (ns) => options.io.namespaces.get('', ns)?.metadata?.labels ?? {},
      lbClass: options.lbClass,
      ownership: (ip) => this.ownership(ip),
      poolProblem: (pool) => this.poolErrors.get(pool)?.join('; ') || undefined,
    });
    this.queue = new WorkQueue((key) => this.process(key), {
      concurrency: options.concurrency ?? 16,
      onError: (key, err, retryInMs) =>
        options.logger.warn({ key, err: String(err), retryInMs }, 'write failed, will retry'),
    });
  }

  /** True once the rebuild from status is done and new allocations may happen. */
  get ready(): boolean {
    return this.started && !this.stopped;
  }

  /** Waits for every cache, rebuilds from status (holders first), then allocates the rest. */
  async start(): Promise<void> {
    const { io, logger } = this.options;
    const enqueue = (obj: V1Service): void => {
      if (this.started) this.queue.add(serviceKey(obj));
    };
    this.unsubscribe.push(
      io.services.on({ onAdd: enqueue, onUpdate: enqueue, onDelete: enqueue }),
      io.pools.on({
        onAdd: () => this.poolsChanged(),
        onUpdate: (o, old) => this.poolUpdated(o, old),
        onDelete: () => this.poolsChanged(),
      }),
      io.namespaces.on({ onUpdate: (ns, old) => this.namespaceChanged(ns, old), onAdd: () => this.requeuePending() }),
      io.leases.on({
        onAdd: (l) => this.leaseChanged(l),
        onUpdate: (l) => this.leaseChanged(l),
        onDelete: (l) => this.leaseChanged(l),
      }),
    );
    await Promise.all([
      io.services.waitForSync(),
      io.pools.waitForSync(),
      io.namespaces.waitForSync(),
      io.leases.waitForSync(),
    ]);
    if (this.stopped) return this.markStarted();
    this.applyPools();
    const services = io.services.list();
    const refused = this.reconciler.restoreAll(services);
    for (const r of refused)
      logger.warn({ service: r.key, reason: r.message }, 'could not keep the IP in status; allocating again');
    const holders = services.filter((s) => statusIPs(s).length > 0);
    logger.info(
      { services: services.length, holding: holders.length, refused: refused.length },
      'rebuilt allocations from Service status',
    );
    this.started = true;
    for (const s of holders) this.queue.add(serviceKey(s));
    for (const s of services) this.queue.add(serviceKey(s));
    this.schedulePoolStatus();
    const grace = this.options.orphanLeaseGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
    this.orphanTimer = setInterval(() => this.sweepOrphanLeases(grace), Math.max(50, Math.min(grace / 2, 10_000)));
    this.markStarted();
  }

  /** Resolves when the start is done and no work is queued or running (tests and benchmarks). */
  async idle(): Promise<void> {
    await this.startedOnce;
    await this.queue.idle();
  }

  pendingCount(): number {
    return this.reconciler.pendingKeys().length;
  }

  stop(): void {
    this.stopped = true;
    this.markStarted();
    this.queue.stop();
    for (const off of this.unsubscribe.splice(0)) off();
    if (this.poolStatusTimer) clearTimeout(this.poolStatusTimer);
    if (this.orphanTimer) clearInterval(this.orphanTimer);
  }

  /** Warning events on the pool for what its new status says (see poolWarnings). */
  private poolEvents(
    raw: KubernetesObject,
    previous: IPAddressPoolStatus | undefined,
    desired: IPAddressPoolStatus,
  ): void {
    const ref: ObjectRef = {
      kind: 'IPAddressPool',
      apiVersion: 'ironlb.io/v1beta1',
      namespace: raw.metadata?.namespace ?? '',
      name: raw.metadata?.name ?? '',
      uid: raw.metadata?.uid || undefined,
      resourceVersion: raw.metadata?.resourceVersion || undefined,
    };
    for (const e of poolWarnings(previous, desired, this.poolNotes.get(ref.name) ?? [])) {
      this.options.io.recordEvent(ref, 'Warning', e.reason, e.message);
    }
  }

  /**
   * Deletes ownership Leases whose IP no Service has held for `graceMs` (from the rebuilt allocations, not the status).
   */
  private sweepOrphanLeases(graceMs: number): void {
    const allocated = new Set([...this.reconciler.allocatedIPs()].map(ipLeaseName));
    const now = performance.now();
    const seen = new Set<string>();
    for (const lease of this.options.io.leases.list()) {
      const name = lease.metadata?.name ?? '';
      if (!name.startsWith(IP_LEASE_PREFIX) || allocated.has(name)) continue;
      seen.add(name);
      const since = this.orphanSince.get(name) ?? now;
      this.orphanSince.set(name, since);
      if (now - since < graceMs) continue;
      this.orphanSince.delete(name);
      this.options.logger.info({ lease: name }, 'deleting the ownership Lease of an IP no Service holds');
      this.options.io.deleteLease(name, lease.metadata?.resourceVersion ?? '').catch((err: unknown) => {
        this.options.logger.warn({ lease: name, err: String(err) }, 'could not delete orphaned ownership Lease');
      });
    }
    for (const name of [...this.orphanSince.keys()]) if (!seen.has(name)) this.orphanSince.delete(name);
  }

  private ownership(ip: string): OwnershipView | undefined {
    const lease = this.options.io.leases.get(this.options.namespace, ipLeaseName(ip));
    if (!lease) return undefined;
    const conflict = lease.metadata?.annotations?.[CONFLICT_ANNOTATION];
    return { holder: lease.spec?.holderIdentity ?? '', conflict: conflict || undefined };
  }

  private leaseChanged(lease: V1Lease): void {
    const holders = this.leaseHolders.get(lease.metadata?.name ?? '');
    if (holders && this.started) for (const key of holders) this.queue.add(key);
  }

  /** New namespace labels may admit a waiting Service to a pool, or no longer admit a holder (namespaceSelectors). */
  private namespaceChanged(ns: V1Namespace, old: V1Namespace): void {
    if (!this.started) return;
    if (!sameLabels(ns.metadata?.labels ?? {}, old.metadata?.labels ?? {})) {
      const prefix = `${ns.metadata?.name ?? ''}/`;
      for (const key of this.reconciler.recheck((key) => key.startsWith(prefix))) this.queue.add(key);
    }
    this.requeuePending();
  }

  private poolUpdated(pool: KubernetesObject, old: KubernetesObject): void {
    // A status-only update: our own write coming back, or someone overwriting the
    // status. The status pass compares and writes only what differs, so ours cost
    // nothing and an overwrite is repaired.
    if (pool.metadata?.generation !== undefined && pool.metadata.generation === old.metadata?.generation) {
      if (this.started) this.schedulePoolStatus();
      return;
    }
    this.poolsChanged();
  }

  private poolsChanged(): void {
    if (!this.started) return;
    const report = this.applyPools();
    for (const lost of report.lost) {
      this.reconciler.strand(lost.service, lost.ips, `left every pool (${lost.message})`);
      this.queue.add(lost.service);
    }
    for (const moved of report.moved) {
      this.reconciler.movePool(moved.service, moved.toPool);
      this.queue.add(moved.service);
    }
    // A pool's serviceAllocation may no longer admit a holder: each is checked as at a restart.
    for (const key of this.reconciler.recheck(() => true)) this.queue.add(key);
    this.requeuePending();
    this.schedulePoolStatus();
  }

  /** Parses every pool and hands the valid ones to the allocator. */
  private applyPools(): PoolsReport {
    const errors = new Map<string, string[]>();
    const notes = new Map<string, string[]>();
    const valid: PoolDefinition[] = [];
    for (const raw of this.options.io.pools.list()) {
      if (raw.metadata?.namespace !== this.options.namespace) continue;
      const parsed = parsePool(raw);
      const name = raw.metadata?.name ?? '';
      if (parsed.ok) {
        valid.push(parsed.pool);
        errors.set(name, []);
        notes.set(name, parsed.notes);
      } else {
        errors.set(name, parsed.errors);
        this.options.logger.warn({ pool: name, errors: parsed.errors }, 'pool is invalid; it allocates nothing');
      }
    }
    const report = this.allocator.setPools(valid);
    this.poolErrors = errors;
    this.poolNotes = notes;
    this.poolConflicts = new Map(report.conflicts.map((c) => [c.pool, c]));
    for (const c of report.conflicts)
      this.options.logger.warn({ pool: c.pool, overlapsWith: c.overlapsWith }, c.message);
    return report;
  }

  /** Services waiting for an address (none yet, or a second family) are tried again. */
  private requeuePending(): void {
    if (!this.started) return;
    for (const key of this.reconciler.waitingKeys()) this.queue.add(key);
  }

  private async process(key: string): Promise<void> {
    if (this.stopped) return;
    const slash = key.indexOf('/');
    const service = this.options.io.services.get(key.slice(0, slash), key.slice(slash + 1));
    if (!service) {
      this.forgetLeaseIndex(key);
      if (this.reconciler.forget(key)) {
        this.options.logger.info({ service: key }, 'Service deleted, IP released');
        this.afterUsesChanged();
      }
      return;
    }
    const decision = this.reconciler.reconcile(service, this.now());
    this.indexLeases(key, decision.ingressIPs);
    this.observe(key, decision);
    if (decision.usesChanged) this.afterUsesChanged();
    if (decision.write) await this.write(service, decision);
  }

  /** An address may have become usable to a waiting Service: try them all again. */
  private afterUsesChanged(): void {
    this.requeuePending();
    this.schedulePoolStatus();
  }

  private observe(key: string, decision: ServiceDecision): void {
    const { metrics, logger } = this.options;
    for (const event of decision.events) {
      logger.info({ service: key, ips: decision.ingressIPs, reason: event.reason }, event.message);
      if (event.reason === 'IPAllocated') {
        metrics?.allocations.inc({ pool: decision.pool ?? '' });
        this.schedulePoolStatus();
      }
    }
    if (decision.refusal) metrics?.allocationFailures.inc({ reason: decision.refusal });
    metrics?.servicesPending.set(this.reconciler.pendingKeys().length);
  }

  private async write(service: V1Service, decision: ServiceDecision): Promise<void> {
    const { io } = this.options;
    // Events first: a failed write is retried with the same decision but no new events.
    this.emit(service, decision.events);
    const namespace = service.metadata?.namespace ?? '';
    const name = service.metadata?.name ?? '';
    const currentIPs = statusIPs(service);
    const ingressSame =
      currentIPs.length === decision.ingressIPs.length && currentIPs.every((ip, i) => ip === decision.ingressIPs[i]);
    const conditionsSame = sameConditions(statusConditions(service), decision.conditions);
    if (!ingressSame || !conditionsSame) {
      await io.writeServiceStatus(namespace, name, {
        loadBalancer: { ingress: decision.ingressIPs.map((ip) => ({ ip, ipMode: 'VIP' })) },
        conditions: decision.conditions.map((c) => ({ ...c, lastTransitionTime: new Date(c.lastTransitionTime) })),
      });
    }
    const currentPool = service.metadata?.annotations?.[POOL_ANNOTATION];
    if (currentPool !== decision.pool) {
      await io.writeServiceAnnotations(namespace, name, { [POOL_ANNOTATION]: decision.pool ?? null });
    }
  }

  private emit(service: V1Service, events: readonly ServiceEvent[]): void {
    const ref: ObjectRef = {
      kind: 'Service',
      apiVersion: 'v1',
      namespace: service.metadata?.namespace ?? '',
      name: service.metadata?.name ?? '',
      uid: service.metadata?.uid || undefined,
      resourceVersion: service.metadata?.resourceVersion || undefined,
    };
    for (const e of events) this.options.io.recordEvent(ref, e.type, e.reason, e.message);
  }

  private indexLeases(key: string, ips: readonly string[]): void {
    this.forgetLeaseIndex(key);
    const names = ips.map(ipLeaseName);
    if (names.length > 0) this.leasesOfKey.set(key, names);
    for (const name of names) {
      let keys = this.leaseHolders.get(name);
      if (!keys) {
        keys = new Set();
        this.leaseHolders.set(name, keys);
      }
      keys.add(key);
    }
  }

  private forgetLeaseIndex(key: string): void {
    for (const name of this.leasesOfKey.get(key) ?? []) {
      const keys = this.leaseHolders.get(name);
      if (keys?.delete(key) && keys.size === 0) this.leaseHolders.delete(name);
    }
    this.leasesOfKey.delete(key);
  }

  private schedulePoolStatus(): void {
    if (this.poolStatusTimer || this.stopped) return;
    this.poolStatusTimer = setTimeout(() => {
      this.poolStatusTimer = undefined;
      this.writePoolStatuses().catch((err: unknown) => {
        this.options.logger.warn({ err: String(err) }, 'pool status write failed, will retry');
        this.schedulePoolStatus();
      });
    }, POOL_STATUS_DELAY_MS);
  }

  private async writePoolStatuses(): Promise<void> {
    const { io, metrics } = this.options;
    const present = new Set(io.pools.list().map((p) => p.metadata?.name ?? ''));
    for (const gone of [...this.poolsWithMetrics].filter((name) => !present.has(name))) {
      this.poolsWithMetrics.delete(gone);
      metrics?.poolValid.remove({ pool: gone });
      for (const family of ['ipv4', 'ipv6']) {
        metrics?.poolInUse.remove({ pool: gone, family });
        metrics?.poolSize.remove({ pool: gone, family });
      }
    }
    for (const raw of io.pools.list()) {
      if (this.stopped) return;
      const namespace = raw.metadata?.namespace ?? '';
      const name = raw.metadata?.name ?? '';
      if (namespace !== this.options.namespace) continue;
      const errors = this.poolErrors.get(name) ?? [];
      // Undefined for a pool the allocator has not been given yet: counted as empty.
      const usage = errors.length === 0 ? this.allocator.usage(name) : undefined;
      const previous = (raw as KubernetesObject & { status?: IPAddressPoolStatus }).status;
      const desired = desiredPoolStatus(
        {
          errors,
          notes: this.poolNotes.get(name) ?? [],
          conflict: this.poolConflicts.get(name),
          usage,
          previous,
          generation: raw.metadata?.generation,
        },
        this.now(),
      );
      if (metrics) {
        this.poolsWithMetrics.add(name);
        metrics.poolValid.set({ pool: name }, errors.length === 0 && !this.poolConflicts.has(name) ? 1 : 0);
        for (const [family, u] of [
          ['ipv4', usage?.ipv4],
          ['ipv6', usage?.ipv6],
        ] as const) {
          metrics.poolInUse.set({ pool: name, family }, Number(u?.assigned ?? 0n));
          metrics.poolSize.set({ pool: name, family }, Number((u?.assigned ?? 0n) + (u?.available ?? 0n)));
        }
      }
      if (poolStatusDiffers(previous, desired)) {
        this.poolEvents(raw, previous, desired);
        await io.writePoolStatus(namespace, name, desired);
      }
    }
  }
}
