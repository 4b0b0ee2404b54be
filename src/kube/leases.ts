import type { V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import { callOptions, type KubeClient } from './client.js';
import { isConflict, isNotFound } from './errors.js';
import { createInformer, type Informer, type InformerOptions } from './informer.js';
import { decodeLease, leasesKind, toMicroTime } from './resources.js';

/**
 * The spec fields ironlb writes. Times may be given as any Date; they are sent
 * as V1MicroTime (microsecond precision), which a real API server requires.
 */
export interface LeaseFields {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: Date;
  renewTime?: Date;
  leaseTransitions?: number;
}

export interface LeaseMeta {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The outcome of a compare-and-swap write: a lost race is a normal answer, not an exception. */
export type LeaseWriteResult = { ok: true; lease: V1Lease } | LeaseConflict;

export type LeaseDeleteResult = { ok: true; existed: boolean } | LeaseConflict;

/**
 * Someone else wrote first. `reason`: AlreadyExists (create), Conflict (stale
 * resourceVersion), NotFound (deleted since it was read). The answer is the
 * same for all three: re-read and decide again.
 */
export interface LeaseConflict {
  ok: false;
  conflict: true;
  reason: 'AlreadyExists' | 'Conflict' | 'NotFound';
}

export interface LeaseCallOptions {
  /** Aborts the request early (e.g. when a renew deadline passes). */
  signal?: AbortSignal;
}

function specFrom(fields: LeaseFields): V1LeaseSpec {
  const spec: V1LeaseSpec = {};
  if (fields.holderIdentity !== undefined) spec.holderIdentity = fields.holderIdentity;
  if (fields.leaseDurationSeconds !== undefined) {
    if (!Number.isInteger(fields.leaseDurationSeconds) || fields.leaseDurationSeconds < 1) {
      throw new Error(`leaseDurationSeconds must be a whole number >= 1, got ${fields.leaseDurationSeconds}`);
    }
    spec.leaseDurationSeconds = fields.leaseDurationSeconds;
  }
  if (fields.acquireTime !== undefined) spec.acquireTime = toMicroTime(fields.acquireTime);
  if (fields.renewTime !== undefined) spec.renewTime = toMicroTime(fields.renewTime);
  if (fields.leaseTransitions !== undefined) spec.leaseTransitions = fields.leaseTransitions;
  return spec;
}

/** Lease times are re-wrapped as V1MicroTime on the way out, whatever Date the caller put there. */
function withMicroTimes(lease: V1Lease): V1Lease {
  if (!lease.spec) return lease;
  const spec: V1LeaseSpec = { ...lease.spec };
  if (spec.acquireTime !== undefined) spec.acquireTime = toMicroTime(spec.acquireTime);
  if (spec.renewTime !== undefined) spec.renewTime = toMicroTime(spec.renewTime);
  return { ...lease, spec };
}

function requireLeaseName(name: string): void {
  if (!name) throw new Error('lease name is empty');
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    throw new Error(
      `lease name ${JSON.stringify(name)} is not a valid DNS subdomain (lowercase letters, digits, '-', '.')`,
    );
  }
}

/** Leases of one namespace. Every write is a compare-and-swap; 409 is returned as `{ ok: false, conflict: true }`. */
export class LeaseClient {
  constructor(
    private readonly client: KubeClient,
    readonly namespace: string,
  ) {
    if (!namespace) throw new Error('LeaseClient needs a namespace');
  }

  /** The lease, or undefined when it does not exist. */
  async get(name: string, options: LeaseCallOptions = {}): Promise<V1Lease | undefined> {
    requireLeaseName(name);
    try {
      const lease = await this.client.coordination.readNamespacedLease(
        { name, namespace: this.namespace },
        callOptions(options),
      );
      return decodeLease(lease);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Creates the lease; `conflict` when one of that name already exists (409 AlreadyExists). */
  async create(
    name: string,
    fields: LeaseFields,
    meta: LeaseMeta = {},
    options: LeaseCallOptions = {},
  ): Promise<LeaseWriteResult> {
    requireLeaseName(name);
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: this.namespace, labels: meta.labels, annotations: meta.annotations },
      spec: specFrom(fields),
    };
    try {
      const lease = await this.client.coordination.createNamespacedLease(
        { namespace: this.namespace, body },
        callOptions(options),
      );
      return { ok: true, lease: decodeLease(lease) };
    } catch (err) {
      if (isConflict(err)) return { ok: false, conflict: true, reason: 'AlreadyExists' };
      throw err;
    }
  }

  /**
   * Replaces the lease if it still has `lease.metadata.resourceVersion`
   * (compare-and-swap); `conflict` when someone else wrote it first.
   */
  async update(lease: V1Lease, options: LeaseCallOptions = {}): Promise<LeaseWriteResult> {
    const name = lease.metadata?.name ?? '';
    requireLeaseName(name);
    if (!lease.metadata?.resourceVersion) {
      throw new Error(
        `lease ${name}: update needs metadata.resourceVersion (it is a compare-and-swap); read the lease first`,
      );
    }
    if (lease.metadata.namespace && lease.metadata.namespace !== this.namespace) {
      throw new Error(
        `lease ${name} is in namespace ${lease.metadata.namespace}, this client writes ${this.namespace}`,
      );
    }
    try {
      const stored = await this.client.coordination.replaceNamespacedLease(
        { name, namespace: this.namespace, body: withMicroTimes(lease) },
        callOptions(options),
      );
      return { ok: true, lease: decodeLease(stored) };
    } catch (err) {
      if (isConflict(err)) return { ok: false, conflict: true, reason: 'Conflict' };
      if (isNotFound(err)) return { ok: false, conflict: true, reason: 'NotFound' };
      throw err;
    }
  }

  /**
   * Deletes the lease. With `resourceVersion`, only if it is unchanged
   * (`conflict` otherwise). Deleting a lease that is already gone is `ok` with `existed: false`.
   */
  async delete(
    name: string,
    options: LeaseCallOptions & { resourceVersion?: string } = {},
  ): Promise<LeaseDeleteResult> {
    requireLeaseName(name);
    const body = options.resourceVersion ? { preconditions: { resourceVersion: options.resourceVersion } } : undefined;
    try {
      await this.client.coordination.deleteNamespacedLease(
        { name, namespace: this.namespace, body },
        callOptions(options),
      );
      return { ok: true, existed: true };
    } catch (err) {
      if (isNotFound(err)) return { ok: true, existed: false };
      if (isConflict(err)) return { ok: false, conflict: true, reason: 'Conflict' };
      throw err;
    }
  }

  /** The namespace's leases matching a label selector, straight from the API server. */
  async list(options: { labelSelector?: string } & LeaseCallOptions = {}): Promise<V1Lease[]> {
    const list = await this.client.coordination.listNamespacedLease(
      { namespace: this.namespace, labelSelector: options.labelSelector },
      callOptions(options),
    );
    return list.items.map(decodeLease);
  }

  /** A watch cache of this namespace's leases (not started: call start()). */
  informer(options?: InformerOptions): Informer<V1Lease> {
    return createInformer(this.client, leasesKind(this.namespace), options);
  }
}
