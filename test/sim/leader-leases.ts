import type { V1Lease } from '@kubernetes/client-node';
import type { VirtualScheduler } from '../../src/clock/virtual.js';
import type { LeaderLeases } from '../../src/kube/leader.js';
import type { LeaseCallOptions, LeaseFields, LeaseMeta, LeaseWriteResult } from '../../src/kube/leases.js';

// Leases of one namespace on the virtual clock, as the leader elector reaches
// them through LeaseClient, with the API server's rules: create of an
// existing name is AlreadyExists, update compares the resourceVersion
// (Conflict) and needs the Lease to exist (NotFound). Faults as the API
// server double injects them: an outage refuses every request; a response
// latency delays each answer, and a client that gives up (its signal
// aborts) gets an error while its write, already applied, stands.

/** The request's way to the server, on the virtual clock. */
const ARRIVAL_MS = 1;

export class VirtualLeaderLeases implements LeaderLeases {
  private readonly leases = new Map<string, V1Lease>();
  private version = 1;
  down = false;
  /** Extra delay of each answer after the server has acted on the request. */
  latencyMs = 0;
  /** Successful writes, in order (holder and resourceVersion). */
  readonly writes: { holder: string; resourceVersion: string }[] = [];

  constructor(private readonly scheduler: VirtualScheduler) {}

  get(name: string, options: LeaseCallOptions = {}): Promise<V1Lease | undefined> {
    return this.call(options, () => {
      const lease = this.leases.get(name);
      return lease === undefined ? undefined : copy(lease);
    });
  }

  create(
    name: string,
    fields: LeaseFields,
    meta: LeaseMeta = {},
    options: LeaseCallOptions = {},
  ): Promise<LeaseWriteResult> {
    return this.call(options, () => {
      if (this.leases.has(name)) return { ok: false, conflict: true, reason: 'AlreadyExists' } as const;
      const metadata = { name, labels: meta.labels, annotations: meta.annotations };
      return { ok: true, lease: this.store({ metadata, spec: { ...fields } }) };
    });
  }

  update(lease: V1Lease, options: LeaseCallOptions = {}): Promise<LeaseWriteResult> {
    return this.call(options, () => {
      const name = lease.metadata?.name ?? '';
      const current = this.leases.get(name);
      if (current === undefined) return { ok: false, conflict: true, reason: 'NotFound' } as const;
      if (current.metadata?.resourceVersion !== lease.metadata?.resourceVersion) {
        return { ok: false, conflict: true, reason: 'Conflict' } as const;
      }
      return { ok: true, lease: this.store(lease) };
    });
  }

  /** The Lease as stored (a copy). */
  peek(name: string): V1Lease | undefined {
    const lease = this.leases.get(name);
    return lease === undefined ? undefined : copy(lease);
  }

  /** Someone else writes the Lease (kubectl, another controller). */
  put(lease: V1Lease): V1Lease {
    return this.store(lease);
  }

  private store(lease: V1Lease): V1Lease {
    const stored = copy(lease);
    stored.metadata = { ...stored.metadata, resourceVersion: String(this.version++) };
    this.leases.set(stored.metadata.name ?? '', stored);
    const holder = stored.spec?.holderIdentity ?? '';
    this.writes.push({ holder, resourceVersion: stored.metadata.resourceVersion ?? '' });
    return copy(stored);
  }

  /** Acts on the request when it arrives; answers `latencyMs` later, unless the caller gave up first. */
  private call<T>(options: LeaseCallOptions, act: () => T): Promise<T> {
    const { signal } = options;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const give = (fn: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => give(() => reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted')));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort);
      this.scheduler.setTimer(ARRIVAL_MS, () => {
        if (settled) return;
        if (this.down) return give(() => reject(new Error('connect ECONNREFUSED (API server outage)')));
        const answer = act();
        this.scheduler.setTimer(this.latencyMs, () => give(() => resolve(answer)));
      });
    });
  }
}

function copy(lease: V1Lease): V1Lease {
  return { ...lease, metadata: { ...lease.metadata }, spec: { ...lease.spec } };
}
