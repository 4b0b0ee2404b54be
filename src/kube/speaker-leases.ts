import type { V1Lease } from '@kubernetes/client-node';
import {
  LeaseStoreError,
  type LeaseContent,
  type LeaseRecord,
  type LeaseStore,
  type LeaseWatchHandlers,
} from '../election/boundaries.js';
import type { KubeClient } from './client.js';
import { describeError } from './errors.js';
import { PROMPT_BACKOFF, type InformerOptions } from './informer.js';
import { LeaseClient, type LeaseConflict } from './leases.js';
import { leaseRoleOf, leaseRoleSelector, ROLE_LABEL } from '../api/leases.js';

// The speaker's LeaseStore (src/election/boundaries.ts) over the API server, in the ironlb
// namespace: heartbeat Leases (`ironlb-node-<node>`), member Leases
// (`ironlb-member-<node>`) and ownership Leases (`ironlb-ip-<ip>`). Each is
// labelled with its role, so the watch asks the API server for ownership and
// member Leases only: the heartbeats, renewed every interval, fan out to no
// speaker (the watch load stays linear in the number of nodes).

const WATCHED_ROLES = leaseRoleSelector('ip', 'member');

function labelsOf(name: string): Record<string, string> {
  const role = leaseRoleOf(name);
  return role === undefined ? {} : { [ROLE_LABEL]: role };
}

export class KubeSpeakerLeaseStore implements LeaseStore {
  private readonly leases: LeaseClient;

  constructor(
    client: KubeClient,
    namespace: string,
    private readonly informerOptions: InformerOptions = {},
  ) {
    this.leases = new LeaseClient(client, namespace);
  }

  async get(name: string): Promise<LeaseRecord | undefined> {
    const lease = await this.leases.get(name).catch(unavailable(`read lease ${name}`));
    return lease === undefined ? undefined : toRecord(lease);
  }

  async create(name: string, content: LeaseContent): Promise<LeaseRecord> {
    const now = new Date();
    const result = await this.leases
      .create(name, fieldsOf(content, now), { labels: labelsOf(name), annotations: { ...content.annotations } })
      .catch(unavailable(`create lease ${name}`));
    if (!result.ok) throw conflictError(name, result);
    return toRecord(result.lease);
  }

  async update(name: string, expectedResourceVersion: string, content: LeaseContent): Promise<LeaseRecord> {
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace: this.leases.namespace,
        resourceVersion: expectedResourceVersion,
        labels: labelsOf(name),
        annotations: { ...content.annotations },
      },
      spec: fieldsOf(content, new Date()),
    };
    const result = await this.leases.update(body).catch(unavailable(`update lease ${name}`));
    if (!result.ok) throw conflictError(name, result);
    return toRecord(result.lease);
  }

  async delete(name: string, expectedResourceVersion?: string): Promise<void> {
    const result = await this.leases
      .delete(name, { resourceVersion: expectedResourceVersion })
      .catch(unavailable(`delete lease ${name}`));
    if (!result.ok) throw conflictError(name, result);
    if (!result.existed) throw new LeaseStoreError('not-found', `lease ${name} does not exist`);
  }

  async listHeartbeats(): Promise<LeaseRecord[]> {
    const leases = await this.leases
      .list({ labelSelector: leaseRoleSelector('heartbeat') })
      .catch(unavailable('list heartbeat leases'));
    return leases.filter((l) => leaseRoleOf(l.metadata?.name ?? '') === 'heartbeat').map(toRecord);
  }

  watch(handlers: LeaseWatchHandlers): { stop(): Promise<void> } {
    const informer = this.leases.informer({
      backoff: PROMPT_BACKOFF,
      labelSelector: WATCHED_ROLES,
      ...this.informerOptions,
    });
    const watched = (name: string) => leaseRoleOf(name) === 'ip' || leaseRoleOf(name) === 'member';
    const deliver = (lease: V1Lease) => {
      const name = lease.metadata?.name ?? '';
      if (watched(name)) handlers.onUpsert(toRecord(lease));
    };
    informer.on({
      onAdd: deliver,
      onUpdate: deliver,
      onDelete: (lease) => {
        const name = lease.metadata?.name ?? '';
        if (watched(name)) handlers.onDelete(name);
      },
      onSynced: () => handlers.onSynced(),
    });
    informer.start();
    return { stop: () => informer.stop() };
  }
}

function fieldsOf(content: LeaseContent, now: Date) {
  return content.renew
    ? { holderIdentity: content.holderIdentity, leaseDurationSeconds: content.leaseDurationSeconds, renewTime: now }
    : // Ownership Leases are written only when the holder changes: stamp the change.
      { holderIdentity: content.holderIdentity, leaseDurationSeconds: content.leaseDurationSeconds, acquireTime: now };
}

function toRecord(lease: V1Lease): LeaseRecord {
  return {
    name: lease.metadata?.name ?? '',
    holderIdentity: lease.spec?.holderIdentity ?? '',
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    annotations: lease.metadata?.annotations ?? {},
    leaseDurationSeconds: lease.spec?.leaseDurationSeconds,
  };
}

function conflictError(name: string, conflict: LeaseConflict): LeaseStoreError {
  const kind =
    conflict.reason === 'AlreadyExists' ? 'exists' : conflict.reason === 'NotFound' ? 'not-found' : 'conflict';
  return new LeaseStoreError(kind, `lease ${name}: ${conflict.reason}`);
}

/** Anything that is not a lost race (429, 5xx, timeouts, refused connections). */
function unavailable(what: string) {
  return (err: unknown): never => {
    throw new LeaseStoreError('unavailable', `${what}: ${describeError(err)}`);
  };
}
