import { realScheduler, type CancelTimer, type Scheduler } from '../clock/scheduler.js';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import type { SpeakerMetrics } from '../metrics/metrics.js';
import type { IpCandidates } from './candidates.js';
import { ApiContact } from './api-contact.js';
import { Heartbeat } from './heartbeat.js';
import { IntentExecutor } from './intents.js';
import { ElectionMachine } from './machine.js';
import { Membership, type MeshHealth } from './membership.js';
import {
  IP_ANNOTATION,
  IP_LEASE_PREFIX,
  ipLeaseName,
  nodeFromMemberLeaseName,
  nodeLeaseName,
  type PublishedInterface,
} from '../api/leases.js';
import type { LeaseRecord, LeaseStore, Liveness, ServiceEventSink, ServiceRef, Wire } from './boundaries.js';

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
  private readonly intents: IntentExecutor;
  private readonly services = new Map<string, ServiceRef[]>();
  private readonly leaseNameToIp = new Map<string, string>();
  /** Ownership Leases seen before we knew which IP their name stands for. */
  private readonly unmapped = new Map<string, LeaseRecord>();
  private readonly membership: Membership;
  private watcher: { stop(): Promise<void> | void } | undefined;
  private scheduled = false;
  private wakeTimer: CancelTimer | undefined;
  private wakeAt: number | undefined;
  private readonly apiContact: ApiContact;
  private lastPaceMs: number | undefined;
  private stopped = false;
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
    this.intents = new IntentExecutor({
      node: options.node,
      store: options.store,
      wire: options.wire,
      machine: this.machine,
      log: this.log,
      metrics: options.metrics,
      events: options.events,
      services: this.services,
      scheduler: this.scheduler,
      now: this.now,
      kick: () => this.kick(),
      wireClaim: (ip, mac) => this.wireClaim(ip, mac),
      stopped: () => this.stopped,
      retryMs: options.heartbeatIntervalMs,
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
    for (const intent of intents) if (intent.kind === 'withdraw') void this.intents.execute(intent);
    await this.heartbeat.stop();
    await Promise.allSettled(
      intents.filter((intent) => intent.kind !== 'withdraw').map((intent) => this.intents.execute(intent)),
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
    const wasFailing = this.apiContact.failingNow;
    if (!ok && !wasFailing)
      this.log.warn({ err: error?.message }, 'node lease renewal failed: keeping what we hold, acquiring nothing');
    if (ok && wasFailing) this.log.info('node lease renewed again');
    this.apiContact.result(ok, this.now());
    if (ok) {
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
    if (!this.apiContact.renewing) return false;
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
    for (const intent of intents) void this.intents.execute(intent);
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
    for (const intent of intents) void this.intents.execute(intent);
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
}

/** Whether `name` is the ownership Lease of `ip` (a hand-edited annotation may hold anything). */
function namesLease(ip: string, name: string): boolean {
  try {
    return ipLeaseName(ip) === name;
  } catch {
    return false;
  }
}
