import type { Scheduler } from '../clock/scheduler.js';
import type { Logger } from '../log/logger.js';
import type { SpeakerMetrics } from '../metrics/metrics.js';
import { CONFLICT_ANNOTATION, IP_ANNOTATION, ipLeaseName } from '../api/leases.js';
import {
  LeaseStoreError,
  type LeaseRecord,
  type LeaseStore,
  type ServiceEventSink,
  type ServiceRef,
  type Wire,
} from './boundaries.js';
import type { ElectionMachine, Intent, OwnershipView } from './machine.js';

// Carries out the election machine's intents for the speaker runtime: Lease
// writes and reads, announcements and withdrawals on the wire, the
// confirmation before answering again, conflicts. Each outcome goes back to
// the machine; the runtime evaluates again on `kick`.

export interface IntentContext {
  node: string;
  store: LeaseStore;
  wire: Wire;
  machine: ElectionMachine;
  log: Logger;
  metrics?: SpeakerMetrics;
  events?: ServiceEventSink;
  /** The Services behind each IP (for logs and Events). */
  services: ReadonlyMap<string, readonly ServiceRef[]>;
  scheduler: Scheduler;
  now: () => number;
  /** Evaluate again soon. */
  kick: () => void;
  /** A claim seen on the wire (the runtime's fence path). */
  wireClaim: (ip: string, mac: string) => void;
  stopped: () => boolean;
  /** Wait between failed re-reads of a Lease. */
  retryMs: number;
}

export class IntentExecutor {
  private readonly rereads = new Set<string>();

  constructor(private readonly c: IntentContext) {}

  private decision(intent: Intent, message: string, extra: Record<string, unknown> = {}): void {
    const services = (this.c.services.get(intent.ip) ?? []).map((s) => `${s.namespace}/${s.name}`);
    this.c.log.info({ ip: intent.ip, services, decision: intent.kind, reason: intent.reason, ...extra }, message);
  }

  private emit(
    ip: string,
    type: 'Normal' | 'Warning',
    reason: 'Announcing' | 'Withdrawn' | 'IPConflict',
    message: string,
  ): void {
    for (const service of this.c.services.get(ip) ?? []) this.c.events?.emit(service, type, reason, message);
  }

  async execute(intent: Intent): Promise<void> {
    const { ip } = intent;
    const self = this.c.node;
    const content = (holder: string, extra: Record<string, string> = {}) => ({
      holderIdentity: holder,
      annotations: { [IP_ANNOTATION]: ip, ...extra },
    });
    const name = ipLeaseName(ip);
    const store = this.c.store;
    switch (intent.kind) {
      case 'acquire': {
        this.decision(intent, 'acquiring');
        const expected = intent.expectedResourceVersion;
        return this.write(ip, 'acquire', () =>
          expected === undefined ? store.create(name, content(self)) : store.update(name, expected, content(self)),
        );
      }
      case 'release':
        this.decision(intent, 'releasing');
        return this.write(ip, 'release', () => store.update(name, intent.expectedResourceVersion, content('')));
      case 'delete':
        this.decision(intent, 'deleting the ownership lease');
        return this.write(ip, 'delete', async () => {
          await store.delete(name, intent.expectedResourceVersion);
          return undefined;
        });
      case 'withdraw':
        this.c.wire.withdraw(ip);
        this.c.metrics?.ownershipChanges.inc({ change: 'withdrawn' });
        this.decision(intent, 'withdrawn');
        this.emit(ip, 'Normal', 'Withdrawn', `node ${self} stopped announcing ${ip}: ${intent.reason}`);
        return;
      case 'announce':
        return this.announce(intent);
      case 'reread':
        this.decision(intent, 'fenced: re-reading the lease');
        this.c.metrics?.conflicts.inc({ kind: 'speaker' });
        return this.reread(ip);
      case 'conflict':
        return this.conflict(ip, intent.mac, intent.reason, intent);
      case 'confirm':
        return this.confirm(intent);
    }
  }

  /**
   * Yield first, then answer: a fresh read of the Lease and a wire check run
   * together. The read decides; when it cannot be had in time, a wire where no
   * other speaker answers does (docs/election.md, "Yield first").
   */
  private async confirm(intent: Extract<Intent, { kind: 'confirm' }>): Promise<void> {
    const { ip, id } = intent;
    this.decision(intent, 'confirming ownership before answering again');
    let readBack = false;
    const read = this.c.store.get(ipLeaseName(ip)).then(
      (lease) => {
        readBack = true;
        this.c.machine.confirmRead(ip, id, lease === undefined ? undefined : viewOf(lease), this.c.now());
        this.c.kick();
        return true;
      },
      (err: unknown) => {
        this.c.log.info({ ip, err: String(err) }, 'confirmation: the lease could not be read');
        return false;
      },
    );
    const wire = this.c.wire.check(ip).then(
      ({ mac }) => {
        if (mac !== undefined) this.c.wireClaim(ip, mac);
        if (mac !== undefined && this.c.machine.isSpeakerMac(mac)) return false;
        if (!readBack) {
          this.decision(intent, 'confirmed by the wire: no other speaker answers', { mac });
          this.c.machine.confirmedByWire(ip, id);
          this.c.kick();
        }
        return true;
      },
      (err: unknown) => {
        this.c.log.info({ ip, err: String(err) }, 'confirmation: no wire check could be sent');
        return false;
      },
    );
    const [readOk, wireClear] = await Promise.all([read, wire]);
    if (!readOk && !wireClear) {
      this.c.machine.confirmFailed(ip, id, this.c.now());
      this.c.kick();
    }
  }

  private async announce(intent: Extract<Intent, { kind: 'announce' }>): Promise<void> {
    const { ip } = intent;
    this.c.metrics?.ownershipChanges.inc({ change: 'announced' });
    this.decision(intent, 'announcing');
    this.emit(ip, 'Normal', 'Announcing', `node ${this.c.node} announces ${ip}`);
    const result: { conflictMac?: string } = await this.c.wire
      .announce(ip, { probe: intent.probe })
      .catch((err: unknown) => {
        this.c.log.error({ ip, err: String(err) }, 'announcing failed on the wire');
        return {};
      });
    if (intent.ownerNeededSince !== undefined)
      this.c.metrics?.takeoverLatency.observe((this.c.now() - intent.ownerNeededSince) / 1000);
    if (result.conflictMac !== undefined)
      await this.conflict(ip, result.conflictMac, 'the conflict probe got an answer: nothing announced', intent);
  }

  private async conflict(ip: string, mac: string, reason: string, intent: Intent): Promise<void> {
    this.c.metrics?.conflicts.inc({ kind: 'host' });
    this.decision({ ...intent, reason }, 'IP conflict', { mac });
    this.emit(ip, 'Warning', 'IPConflict', `${ip} is also answered by ${mac} (${reason})`);
    // Recorded on the Lease so the controller can show it in the Announced condition.
    const lease = await this.c.store.get(ipLeaseName(ip)).catch(() => undefined);
    if (lease === undefined || lease.holderIdentity !== this.c.node) return;
    this.c.metrics?.leaseWrites.inc({ kind: 'conflict' });
    await this.c.store
      .update(lease.name, lease.resourceVersion, {
        holderIdentity: lease.holderIdentity,
        annotations: { ...lease.annotations, [CONFLICT_ANNOTATION]: `${mac}: ${reason}` },
      })
      .then((written) => this.c.machine.observeLeaseRead(ip, viewOf(written), this.c.now()))
      .catch((err: unknown) => this.c.log.warn({ ip, err: String(err) }, 'could not record the conflict on the lease'));
    this.c.kick();
  }

  private async write(
    ip: string,
    kind: 'acquire' | 'release' | 'delete',
    op: () => Promise<LeaseRecord | undefined>,
  ): Promise<void> {
    this.c.metrics?.leaseWrites.inc({ kind });
    const started = this.c.now();
    try {
      const written = await op();
      this.c.machine.observeWriteLatency(this.c.now() - started);
      this.c.machine.writeFinished(
        ip,
        { kind: 'ok', lease: written === undefined ? undefined : viewOf(written) },
        this.c.now(),
      );
      this.c.metrics?.ownershipChanges.inc({ change: kind === 'acquire' ? 'acquired' : 'released' });
      this.c.log.info({ ip, decision: kind, resourceVersion: written?.resourceVersion }, `${kind} written`);
    } catch (err) {
      const stale = err instanceof LeaseStoreError && err.kind !== 'unavailable';
      this.c.machine.writeFinished(ip, { kind: stale ? 'conflict' : 'failed' }, this.c.now());
      this.c.log.info(
        { ip, decision: kind, err: String(err) },
        stale ? `${kind} lost the race: re-reading` : `${kind} failed`,
      );
      if (stale) await this.reread(ip);
    }
    this.c.kick();
  }

  /** Reads the Lease from the API server until it works or the IP no longer needs it. */
  private async reread(ip: string): Promise<void> {
    if (this.rereads.has(ip)) return;
    this.rereads.add(ip);
    try {
      while (!this.c.stopped()) {
        try {
          const lease = await this.c.store.get(ipLeaseName(ip));
          this.c.machine.observeLeaseRead(ip, lease === undefined ? undefined : viewOf(lease), this.c.now());
          return;
        } catch {
          await new Promise<void>((resolve) => this.c.scheduler.setTimer(this.c.retryMs, resolve));
        }
      }
    } finally {
      this.rereads.delete(ip);
      this.c.kick();
    }
  }
}

/** The machine's view of an ownership Lease. */
export function viewOf(lease: LeaseRecord): OwnershipView {
  return { holder: lease.holderIdentity, resourceVersion: lease.resourceVersion };
}
