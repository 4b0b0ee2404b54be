import { realScheduler, type CancelTimer, type Scheduler } from '../clock/scheduler.js';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import type { SpeakerMetrics } from '../metrics/metrics.js';
import type { IpCandidates } from './candidates.js';
import { ApiContact } from './api-contact.js';
import { Heartbeat } from './heartbeat.js';
import { ElectionMachine, type Intent, type OwnershipView } from './machine.js';
import { Membership, type MeshHealth } from './membership.js';
import {
  CONFLICT_ANNOTATION,
  IP_ANNOTATION,
  IP_LEASE_PREFIX,
  ipLeaseName,
  nodeFromMemberLeaseName,
  nodeLeaseName,
  type PublishedInterface,
} from '../api/leases.js';
import {
  LeaseStoreError,
  type LeaseRecord,
  type LeaseStore,
  type Liveness,
  type ServiceEventSink,
  type ServiceRef,
  type Wire,
} from './boundaries.js';

// Drives the election machine from the lease store, the mesh and the wire:
// feeds it observations, carries out its intents, and keeps the heartbeat
// and the member Lease going. Contains no decisions of its own beyond "is
// our view of the API fresh".

/** Heartbeat pace while the mesh can form no quorum (fewer than 3 live speakers). */
const SMALL_CLUSTER_PACE = { intervalMs: 1000, leaseDurationMs: 3000 };
/** A member not live whose heartbeat showed no renewal for this many lease-durations is gone for good. */
const STALE_MEMBER_LEASE_DURATIONS = 10;

export const MESH_STATE_MESSAGES: Record<MeshHealth, string> = {
  ok: 'the liveness mesh judges the peers',
  'self-blamed':
    'this node hears no peer on the liveness mesh while they hear each other: it takes no IP until it does',
  fallback:
    'no speaker hears another on the liveness mesh (UDP blocked?): peers are judged by their heartbeat Leases, ' +
    'failover is slow',
};

export interface SpeakerRuntimeOptions {
  node: string;
  store: LeaseStore;
  wire: Wire;
  heartbeatIntervalMs: number;
  leaseDurationMs: number;
  staggerMs: number;
  /** This speaker's interfaces and MACs, published in its member Lease. */
  interfaces: () => readonly PublishedInterface[];
  /** The failure detector; without it every peer is judged by its heartbeat Lease. */
  liveness?: Liveness;
  /** How long a fresh view listens before taking IPs (default: the lease duration). */
  settleMs?: number;
  /** The mesh state changed: ok, self-blamed (this node hears none of its peers) or fallback (nobody hears anyone). */
  onMeshState?: (state: MeshHealth) => void;
  events?: ServiceEventSink;
  metrics?: SpeakerMetrics;
  logger?: Logger;
  /** Monotonic milliseconds (default: the scheduler's). */
  now?: () => number;
  /**
   * Clock and timers (src/clock): a VirtualScheduler runs the runtime on
   * virtual time. Default: the real ones, timers keeping the process alive,
   * and kicks on setImmediate (after pending I/O).
   */
  scheduler?: Scheduler;
  /** Interfaces every speaker publishes, whenever that changes (feeds candidate computation). */
  onSpeakersChanged?: (interfaces: ReadonlyMap<string, readonly string[]>) => void;
}

export class SpeakerRuntime {
  readonly machine: ElectionMachine;
  private readonly now: () => number;
  private readonly scheduler: Scheduler;
  /** Runs `fn` soon, after the I/O already pending. */
  private readonly defer: (fn: () => void) => void;
  private readonly log: Logger;
  private readonly heartbeat: Heartbeat;
  private readonly services = new Map<string, ServiceRef[]>();
  private readonly leaseNameToIp = new Map<string, string>();
  /** Ownership Leases seen before we knew which IP their name stands for. */
  private readonly unmapped = new Map<string, LeaseRecord>();
  private readonly membership: Membership;
  private watcher: { stop(): Promise<void> | void } | undefined;
  private scheduled = false;
  private wakeTimer: CancelTimer | undefined;
  private wakeAt: number | undefined;
  private heartbeatFailing = false;
  private heartbeatWritten = false;
  private readonly apiContact: ApiContact;
  private lastPaceMs: number | undefined;
  private stopped = false;
  private readonly rereads = new Set<string>();
  private leasesSynced = false;
  private lastRunAt: number | undefined;
  private ticker: CancelTimer | undefined;
  private candidatesKnown = false;

  constructor(private readonly options: SpeakerRuntimeOptions) {
    const injected = options.scheduler;
    this.scheduler = injected ?? realScheduler({ unref: false });
    this.now = options.now ?? (() => this.scheduler.now());
    this.defer = injected === undefined ? (fn) => void setImmediate(fn) : (fn) => void injected.setTimer(0, fn);
    this.log = (options.logger ?? silentLogger()).child({ node: options.node });
    this.apiContact = new ApiContact(options.leaseDurationMs, this.now());
    // Our heartbeats tell the mesh when we are cut off from the API server, so peers take our IPs (docs/liveness.md).
    options.liveness?.setApiStanding(() => this.apiContact.standing(this.now()));
    this.machine = new ElectionMachine({
      self: options.node,
      leaseDurationMs: options.leaseDurationMs,
      staggerMs: options.staggerMs,
      settleMs: options.settleMs,
    });
    this.membership = new Membership({
      node: options.node,
      store: options.store,
      machine: this.machine,
      liveness: options.liveness,
      interfaces: options.interfaces,
      logger: this.log,
      metrics: options.metrics,
      now: this.now,
      staleAfterMs: STALE_MEMBER_LEASE_DURATIONS * options.leaseDurationMs,
      onChange: () => this.kick(),
      onSpeakersChanged: options.onSpeakersChanged,
      onMeshState: (state) => {
        this.log.warn({ state }, MESH_STATE_MESSAGES[state]);
        options.onMeshState?.(state);
      },
    });
    this.heartbeat = new Heartbeat({
      store: options.store,
      leaseName: nodeLeaseName(options.node),
      node: options.node,
      intervalMs: options.heartbeatIntervalMs,
      leaseDurationMs: options.leaseDurationMs,
      annotations: () => ({}),
      pace: () => this.pace(),
      onWrite: () => options.metrics?.leaseWrites.inc({ kind: 'heartbeat' }),
      onLatency: (ms) => this.machine.observeWriteLatency(ms),
      onResult: (ok, error) => this.heartbeatResult(ok, error),
      scheduler: this.scheduler,
    });
    options.wire.onClaim((ip, mac) => this.wireClaim(ip, mac));
    options.wire.onLink((ifname, up) => this.linkChanged(ifname, up));
  }

  start(): void {
    this.watcher = this.options.store.watch({
      onUpsert: (lease) => this.leaseSeen(lease),
      onDelete: (name) => this.leaseGone(name),
      onSynced: () => {
        this.leasesSynced = true;
        this.markSyncedWhenReady();
      },
    });
    this.heartbeat.start();
    void this.membership.publish();
    // Evaluate at least every heartbeat interval, so a gap between runs reveals a stalled process.
    this.startTicker();
  }

  private startTicker(): void {
    this.ticker = this.scheduler.setTimer(this.options.heartbeatIntervalMs, () => {
      if (this.stopped) return;
      this.startTicker();
      void this.membership.publish();
      this.run();
    });
  }

  /** The IPs Services hold and who may hold them (from computeCandidates). */
  setCandidates(candidates: ReadonlyMap<string, IpCandidates>): void {
    for (const [ip, c] of candidates) {
      this.machine.setEligible(ip, c.eligible);
      this.services.set(ip, c.services);
      const name = ipLeaseName(ip);
      this.leaseNameToIp.set(name, ip);
      const early = this.unmapped.get(name);
      if (early !== undefined) {
        this.unmapped.delete(name);
        this.machine.observeLease(
          ip,
          { holder: early.holderIdentity, resourceVersion: early.resourceVersion },
          this.now(),
        );
      }
    }
    for (const ip of [...this.services.keys()]) {
      if (candidates.has(ip)) continue;
      this.machine.removeIp(ip);
      this.services.delete(ip);
    }
    this.candidatesKnown = true;
    this.markSyncedWhenReady();
    this.kick();
  }

  /**
   * Decisions wait for both the Leases and the first candidate sets: with
   * Leases alone every held IP would look unallocated and be deleted.
   */
  private markSyncedWhenReady(): void {
    if (!this.leasesSynced || !this.candidatesKnown) return;
    this.machine.markSynced(this.now());
    this.kick();
  }

  /** Both the Lease cache and the candidates have been loaded once. */
  isSynced(): boolean {
    return this.leasesSynced && this.candidatesKnown;
  }

  /** True while the node Lease is renewed and comes back through the watch. */
  isApiReachable(): boolean {
    return this.apiReachable(this.now());
  }

  speakers(): ReadonlyMap<string, readonly string[]> {
    return this.membership.speakers();
  }

  /** This node hears none of its peers while they hear each other: it takes nothing (not ready). */
  isSelfBlamed(): boolean {
    return this.membership.selfBlamed();
  }

  /** SIGTERM: silence, release every held IP, delete our node Lease. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopTimers();
    const intents = this.machine.shutdown();
    // Silent first, then the releases (peers take each IP the moment its
    // release reaches their watch), then the mesh hears we are gone. Leaving
    // the mesh first would make peers race our releases with compare-and-swap
    // writes on the old versions, and lose a retry.
    for (const intent of intents) if (intent.kind === 'withdraw') void this.execute(intent);
    await this.heartbeat.stop();
    await Promise.allSettled(
      intents.filter((intent) => intent.kind !== 'withdraw').map((intent) => this.execute(intent)),
    );
    this.options.liveness?.leave();
    await this.heartbeat
      .deleteLease()
      .catch((err: unknown) => this.log.warn({ err: String(err) }, 'could not delete the node lease'));
    await this.membership
      .deleteMemberLease()
      .catch((err: unknown) => this.log.warn({ err: String(err) }, 'could not delete the member lease'));
    this.options.liveness?.stop();
    await this.watcher?.stop();
  }

  /** Stops everything without a single API write or wire change: a crash, for tests. */
  async abandon(): Promise<void> {
    this.stopped = true;
    this.stopTimers();
    await this.heartbeat.stop();
    this.options.liveness?.stop();
    await this.watcher?.stop();
  }

  private leaseSeen(lease: LeaseRecord): void {
    const now = this.now();
    const member = nodeFromMemberLeaseName(lease.name);
    if (member !== undefined) {
      this.membership.memberSeen(member, lease);
      this.kick();
      return;
    }
    const ip = lease.annotations[IP_ANNOTATION] ?? this.leaseNameToIp.get(lease.name);
    if (ip === undefined || !namesLease(ip, lease.name)) {
      if (lease.name.startsWith(IP_LEASE_PREFIX)) this.unmapped.set(lease.name, lease);
      return;
    }
    this.leaseNameToIp.set(lease.name, ip);
    this.machine.observeLease(ip, { holder: lease.holderIdentity, resourceVersion: lease.resourceVersion }, now);
    this.kick();
  }

  private leaseGone(name: string): void {
    const now = this.now();
    const member = nodeFromMemberLeaseName(name);
    if (member !== undefined) {
      this.membership.memberGone(member);
    } else {
      this.unmapped.delete(name);
      const ip = this.leaseNameToIp.get(name);
      if (ip !== undefined) this.machine.observeLease(ip, undefined, now);
    }
    this.kick();
  }

  private heartbeatResult(ok: boolean, error?: Error): void {
    if (!ok && !this.heartbeatFailing)
      this.log.warn({ err: error?.message }, 'node lease renewal failed: keeping what we hold, acquiring nothing');
    if (ok && this.heartbeatFailing) this.log.info('node lease renewed again');
    this.heartbeatFailing = !ok;
    this.apiContact.result(ok, this.now());
    if (ok) {
      this.heartbeatWritten = true;
      void this.membership.pollHeartbeats(this.heartbeat.lastVersion).then(() => this.kick());
    }
    this.kick();
  }

  /**
   * Our view is fresh while our heartbeat renewals succeed and, while any
   * peer is judged by its heartbeat Lease, come back in our listings of them
   * about every heartbeat: when ours lag (a slow or overloaded API server),
   * peers' renewals lag too, and their silence proves nothing.
   */
  private apiReachable(now: number): boolean {
    if (this.heartbeatFailing || !this.heartbeatWritten) return false;
    if (!this.membership.usesHeartbeats()) return true;
    const seen = this.membership.lastOwnRenewalSeen();
    return seen !== undefined && now - seen < this.freshWithinMs();
  }

  private freshWithinMs(): number {
    const { intervalMs, leaseDurationMs } = this.pace();
    return Math.min(leaseDurationMs, 2 * intervalMs);
  }

  /**
   * The heartbeat's pace. With fewer than 3 live speakers the mesh has no
   * quorum and every peer judges us by this Lease: then renew at the old
   * fast pace (1 s / 3 s), which costs little at that size, so a 2-node
   * cluster still fails over in seconds.
   */
  private pace(): { intervalMs: number; leaseDurationMs: number } {
    const { heartbeatIntervalMs, leaseDurationMs, liveness } = this.options;
    if (liveness === undefined || liveness.quorumPossible())
      return { intervalMs: heartbeatIntervalMs, leaseDurationMs };
    return {
      intervalMs: Math.min(heartbeatIntervalMs, SMALL_CLUSTER_PACE.intervalMs),
      leaseDurationMs: Math.min(leaseDurationMs, SMALL_CLUSTER_PACE.leaseDurationMs),
    };
  }

  private wireClaim(ip: string, mac: string): void {
    if (this.stopped) return;
    const { effect, intents } = this.machine.observeWireClaim(ip, mac);
    if (effect === 'ignored') return;
    for (const intent of intents) void this.execute(intent);
    // A fence must silence us before the next frame: evaluate now, not later.
    if (effect === 'fenced') this.run();
  }

  private linkChanged(ifname: string, up: boolean): void {
    if (this.stopped) return;
    if (up) {
      this.log.info({ ifname }, 'link up: confirming the IPs held there before answering again');
      this.machine.linkUp(ifname);
      // Peers judge us by our renewals: the one lost while the link was down is due now.
      this.heartbeat.renewNow();
    } else {
      const ips = this.options.wire.ipsOn(ifname);
      this.log.warn({ ifname, ips }, 'link down: yielding the IPs held there until confirmed');
      this.machine.linkDown(ifname, ips, this.now());
    }
    // Withdraw before the link can carry another answer: evaluate now.
    this.run();
  }

  private kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      this.run();
    });
  }

  private run(): void {
    if (this.stopped) return;
    const now = this.now();
    // Timers run before pending I/O after a stall: the renewals that arrived
    // meanwhile are still unread, so judge nobody dead on this run.
    const { heartbeatIntervalMs, leaseDurationMs } = this.options;
    if (
      this.lastRunAt !== undefined &&
      now - this.lastRunAt > heartbeatIntervalMs + (leaseDurationMs - heartbeatIntervalMs) / 2
    ) {
      this.log.warn(
        { stalledMs: Math.round(now - this.lastRunAt) },
        'process stalled: giving every peer a fresh lease-duration',
      );
      this.machine.restartView(now);
    }
    this.lastRunAt = now;
    // Verdicts can change without an event (a quorum becoming impossible): read them each run.
    this.membership.syncVerdicts();
    // The cluster grew or shrank across 3 live speakers: renew at the new pace now, not at the old one's next beat.
    const paceMs = this.pace().intervalMs;
    if (this.lastPaceMs !== undefined && paceMs !== this.lastPaceMs) this.heartbeat.renewNow();
    this.lastPaceMs = paceMs;
    const reachable = this.apiReachable(now);
    this.machine.setApiReachable(reachable, now);
    this.options.metrics?.apiReachable.set(reachable ? 1 : 0);
    const { intents, wakeAt } = this.machine.evaluate(now);
    for (const intent of intents) void this.execute(intent);
    this.options.metrics?.ownedIPs.set(this.machine.heldIps().filter((ip) => this.machine.isAnnouncing(ip)).length);
    // Re-check reachability before our last renewal goes stale.
    const ownSeen = this.membership.usesHeartbeats() ? this.membership.lastOwnRenewalSeen() : undefined;
    const staleAt = ownSeen === undefined ? undefined : ownSeen + this.freshWithinMs();
    const next = [wakeAt, reachable ? staleAt : undefined].filter((t): t is number => t !== undefined);
    this.scheduleWake(next.length > 0 ? Math.min(...next) : undefined);
  }

  private scheduleWake(at: number | undefined): void {
    if (at === undefined || (this.wakeAt !== undefined && this.wakeAt <= at && this.wakeAt > this.now())) return;
    this.clearWake();
    this.wakeAt = at;
    this.wakeTimer = this.scheduler.setTimer(Math.max(0, at - this.now()) + 1, () => {
      this.wakeAt = undefined;
      this.wakeTimer = undefined;
      this.run();
    });
  }

  private stopTimers(): void {
    this.clearWake();
    this.ticker?.();
    this.ticker = undefined;
  }

  private clearWake(): void {
    this.wakeTimer?.();
    this.wakeTimer = undefined;
    this.wakeAt = undefined;
  }

  private decision(intent: Intent, message: string, extra: Record<string, unknown> = {}): void {
    const services = (this.services.get(intent.ip) ?? []).map((s) => `${s.namespace}/${s.name}`);
    this.log.info({ ip: intent.ip, services, decision: intent.kind, reason: intent.reason, ...extra }, message);
  }

  private emit(
    ip: string,
    type: 'Normal' | 'Warning',
    reason: 'Announcing' | 'Withdrawn' | 'IPConflict',
    message: string,
  ): void {
    for (const service of this.services.get(ip) ?? []) this.options.events?.emit(service, type, reason, message);
  }

  private async execute(intent: Intent): Promise<void> {
    const { ip } = intent;
    const self = this.options.node;
    const content = (holder: string, extra: Record<string, string> = {}) => ({
      holderIdentity: holder,
      annotations: { [IP_ANNOTATION]: ip, ...extra },
    });
    const name = ipLeaseName(ip);
    const store = this.options.store;
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
        this.options.wire.withdraw(ip);
        this.options.metrics?.ownershipChanges.inc({ change: 'withdrawn' });
        this.decision(intent, 'withdrawn');
        this.emit(ip, 'Normal', 'Withdrawn', `node ${self} stopped announcing ${ip}: ${intent.reason}`);
        return;
      case 'announce':
        return this.announce(intent);
      case 'reread':
        this.decision(intent, 'fenced: re-reading the lease');
        this.options.metrics?.conflicts.inc({ kind: 'speaker' });
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
    const read = this.options.store.get(ipLeaseName(ip)).then(
      (lease) => {
        readBack = true;
        this.machine.confirmRead(ip, id, lease === undefined ? undefined : viewOf(lease), this.now());
        this.kick();
        return true;
      },
      (err: unknown) => {
        this.log.info({ ip, err: String(err) }, 'confirmation: the lease could not be read');
        return false;
      },
    );
    const wire = this.options.wire.check(ip).then(
      ({ mac }) => {
        if (mac !== undefined) this.wireClaim(ip, mac);
        if (mac !== undefined && this.machine.isSpeakerMac(mac)) return false;
        if (!readBack) {
          this.decision(intent, 'confirmed by the wire: no other speaker answers', { mac });
          this.machine.confirmedByWire(ip, id);
          this.kick();
        }
        return true;
      },
      (err: unknown) => {
        this.log.info({ ip, err: String(err) }, 'confirmation: no wire check could be sent');
        return false;
      },
    );
    const [readOk, wireClear] = await Promise.all([read, wire]);
    if (!readOk && !wireClear) {
      this.machine.confirmFailed(ip, id, this.now());
      this.kick();
    }
  }

  private async announce(intent: Extract<Intent, { kind: 'announce' }>): Promise<void> {
    const { ip } = intent;
    this.options.metrics?.ownershipChanges.inc({ change: 'announced' });
    this.decision(intent, 'announcing');
    this.emit(ip, 'Normal', 'Announcing', `node ${this.options.node} announces ${ip}`);
    const result: { conflictMac?: string } = await this.options.wire
      .announce(ip, { probe: intent.probe })
      .catch((err: unknown) => {
        this.log.error({ ip, err: String(err) }, 'announcing failed on the wire');
        return {};
      });
    if (intent.ownerNeededSince !== undefined)
      this.options.metrics?.takeoverLatency.observe((this.now() - intent.ownerNeededSince) / 1000);
    if (result.conflictMac !== undefined)
      await this.conflict(ip, result.conflictMac, 'the conflict probe got an answer: nothing announced', intent);
  }

  private async conflict(ip: string, mac: string, reason: string, intent: Intent): Promise<void> {
    this.options.metrics?.conflicts.inc({ kind: 'host' });
    this.decision({ ...intent, reason }, 'IP conflict', { mac });
    this.emit(ip, 'Warning', 'IPConflict', `${ip} is also answered by ${mac} (${reason})`);
    // Recorded on the Lease so the controller can show it in the Announced condition.
    const lease = await this.options.store.get(ipLeaseName(ip)).catch(() => undefined);
    if (lease === undefined || lease.holderIdentity !== this.options.node) return;
    this.options.metrics?.leaseWrites.inc({ kind: 'conflict' });
    await this.options.store
      .update(lease.name, lease.resourceVersion, {
        holderIdentity: lease.holderIdentity,
        annotations: { ...lease.annotations, [CONFLICT_ANNOTATION]: `${mac}: ${reason}` },
      })
      .then((written) => this.machine.observeLeaseRead(ip, viewOf(written), this.now()))
      .catch((err: unknown) => this.log.warn({ ip, err: String(err) }, 'could not record the conflict on the lease'));
    this.kick();
  }

  private async write(
    ip: string,
    kind: 'acquire' | 'release' | 'delete',
    op: () => Promise<LeaseRecord | undefined>,
  ): Promise<void> {
    this.options.metrics?.leaseWrites.inc({ kind });
    const started = this.now();
    try {
      const written = await op();
      this.machine.observeWriteLatency(this.now() - started);
      this.machine.writeFinished(
        ip,
        { kind: 'ok', lease: written === undefined ? undefined : viewOf(written) },
        this.now(),
      );
      this.options.metrics?.ownershipChanges.inc({ change: kind === 'acquire' ? 'acquired' : 'released' });
      this.log.info({ ip, decision: kind, resourceVersion: written?.resourceVersion }, `${kind} written`);
    } catch (err) {
      const stale = err instanceof LeaseStoreError && err.kind !== 'unavailable';
      this.machine.writeFinished(ip, { kind: stale ? 'conflict' : 'failed' }, this.now());
      this.log.info(
        { ip, decision: kind, err: String(err) },
        stale ? `${kind} lost the race: re-reading` : `${kind} failed`,
      );
      if (stale) await this.reread(ip);
    }
    this.kick();
  }

  /** Reads the Lease from the API server until it works or the IP no longer needs it. */
  private async reread(ip: string): Promise<void> {
    if (this.rereads.has(ip)) return;
    this.rereads.add(ip);
    try {
      while (!this.stopped) {
        try {
          const lease = await this.options.store.get(ipLeaseName(ip));
          this.machine.observeLeaseRead(ip, lease === undefined ? undefined : viewOf(lease), this.now());
          return;
        } catch {
          await new Promise<void>((resolve) => this.scheduler.setTimer(this.options.heartbeatIntervalMs, resolve));
        }
      }
    } finally {
      this.rereads.delete(ip);
      this.kick();
    }
  }
}

/** Whether `name` is the ownership Lease of `ip` (a hand-edited annotation may hold anything). */
function namesLease(ip: string, name: string): boolean {
  try {
    return ipLeaseName(ip) === name;
  } catch {
    return false;
  }
}

function viewOf(lease: LeaseRecord): OwnershipView {
  return { holder: lease.holderIdentity, resourceVersion: lease.resourceVersion };
}
