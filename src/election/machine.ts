import { compareStrings, planTakeovers, type OrphanedIp } from './plan.js';
import type {
  ElectionConfig,
  Evaluation,
  HeartbeatView,
  Intent,
  IpState,
  NodeState,
  OwnershipView,
  PeerVerdict,
  WriteOutcome,
} from './types.js';

// The per-IP election of one speaker as a pure state machine (docs/election.md).
// Inputs are observations stamped with the observer's monotonic clock; the
// output of evaluate() is a list of intents for the runtime to carry out plus
// the time at which the machine wants to be evaluated again. Level-triggered:
// evaluate() derives everything from the current view, so calling it more
// often never changes the outcome.

export type {
  ElectionConfig,
  Evaluation,
  HeartbeatView,
  Intent,
  OwnershipView,
  PeerVerdict,
  WriteOutcome,
} from './types.js';

const RECENT_VERSIONS = 8;

export class ElectionMachine {
  private readonly ips = new Map<string, IpState>();
  /** Heartbeat Lease observations: the liveness of last resort. */
  private readonly nodes = new Map<string, NodeState>();
  /** Speakers by their member Leases, with the MACs they publish. */
  private readonly members = new Map<string, readonly string[]>();
  /** The failure detector's verdicts; a peer without one is judged by its heartbeat Lease. */
  private readonly verdicts = new Map<string, PeerVerdict>();
  /** This speaker hears no peer while its peers hear each other: the fault is ours, take nothing. */
  private selfBlame = false;
  private synced = false;
  private apiReachable = true;
  /** Liveness counts from here at the earliest: startup, the end of an outage and a stall restart every clock. */
  private livenessFrom = 0;
  /** When the view last became fresh (start, end of an outage): acquisitions wait a lease-duration from here. */
  private viewFreshSince = 0;
  private unreachableSince: number | undefined;
  private shuttingDown = false;
  private readonly retryBackoffMs: number;
  /** Smoothed duration of our Lease writes: a planned owner needs at least that long to act. */
  private writeLatencyMs = 0;
  /** The held IPs were put to confirmation for the current stretch of unreachability. */
  private gapConfirmed = false;
  private nextConfirmId = 1;

  constructor(private readonly config: ElectionConfig) {
    if (config.self === '') throw new Error('election: node name is empty');
    if (!(config.leaseDurationMs > 0))
      throw new Error(`election: lease duration must be > 0, got ${config.leaseDurationMs}`);
    if (!(config.staggerMs >= 0)) throw new Error(`election: stagger must be >= 0, got ${config.staggerMs}`);
    this.retryBackoffMs = config.retryBackoffMs ?? Math.max(config.staggerMs, 100);
  }

  get self(): string {
    return this.config.self;
  }

  /** Every cache has been listed once: from now on an absent Lease means absent. */
  markSynced(now: number): void {
    if (!this.synced) this.viewFreshSince = this.livenessFrom = now;
    this.synced = true;
  }

  /** False while our heartbeat cannot be written or the Lease watch is down. */
  setApiReachable(reachable: boolean, now: number): void {
    if (!reachable && this.apiReachable) this.unreachableSince = now;
    if (reachable && !this.apiReachable) {
      // Back from an outage, every peer gets a fresh lease-duration: their
      // renewals during the outage could not reach us.
      this.livenessFrom = now;
      // After a long one our view may miss whole peers: listen before acting.
      if (now - (this.unreachableSince ?? now) >= this.config.leaseDurationMs) this.viewFreshSince = now;
    }
    if (reachable) this.gapConfirmed = false;
    this.apiReachable = reachable;
  }

  /**
   * Our link `ifname` went down: while it is down we cannot hear another
   * speaker take over the IPs we answer for there, so yield them now and
   * confirm each once the link is back (docs/election.md, "Yield first").
   */
  linkDown(ifname: string, ips: Iterable<string>, now: number): void {
    for (const ip of ips) this.requireConfirmation(ip, `link ${ifname} went down`, { silent: true, link: ifname }, now);
  }

  /** The link is back: the IPs that waited for it are confirmed now. */
  linkUp(ifname: string): void {
    for (const state of this.ips.values()) if (state.confirm?.link === ifname) state.confirm.link = undefined;
  }

  /** The Lease as a confirmation read it, straight from the API server. */
  confirmRead(ip: string, id: number, lease: OwnershipView | undefined, now: number): void {
    this.observeLeaseRead(ip, lease, now);
    const state = this.ips.get(ip);
    if (state?.confirm?.id === id && state.lease?.holder === this.config.self) state.confirm = undefined;
  }

  /**
   * The confirmation's wire check heard no other speaker answer for the IP
   * while the Lease read had not come back: resume (an API outage must not
   * silence what we hold; the read, when it comes, still overrides).
   */
  confirmedByWire(ip: string, id: number): void {
    const state = this.ips.get(ip);
    if (state?.confirm?.id === id) state.confirm = undefined;
  }

  /** Neither the read nor the wire could settle the confirmation: ask again later. */
  confirmFailed(ip: string, id: number, now: number): void {
    const state = this.ips.get(ip);
    if (state?.confirm?.id !== id) return;
    state.confirm.requested = false;
    state.confirm.retryAt = now + this.retryBackoffMs;
  }

  /** Whether the IP waits for a confirmation before we answer for it again. */
  isConfirming(ip: string): boolean {
    return this.ips.get(ip)?.confirm !== undefined;
  }

  private requireConfirmation(ip: string, reason: string, how: { silent: boolean; link?: string }, now: number): void {
    const state = this.ips.get(ip);
    if (state?.lease?.holder !== this.config.self) return;
    // A pending silent confirmation stays silent (and keeps waiting for its link).
    const pending = state.confirm;
    const silent = how.silent || (pending?.silent ?? false);
    const link = how.link ?? pending?.link;
    const since = pending?.link !== undefined ? pending.since : now;
    state.confirm = {
      id: this.nextConfirmId++,
      reason: pending?.silent === true ? pending.reason : reason,
      requested: false,
      silent,
      link,
      since,
    };
  }

  /** Duration of one of our Lease writes (heartbeats included), for the stagger. */
  observeWriteLatency(ms: number): void {
    if (!(ms >= 0)) return;
    this.writeLatencyMs = this.writeLatencyMs === 0 ? ms : 0.7 * this.writeLatencyMs + 0.3 * ms;
  }

  /** The configured stagger, stretched to twice the write latency when the API server is slow. */
  effectiveStaggerMs(): number {
    return Math.max(this.config.staggerMs, 2 * this.writeLatencyMs);
  }

  /**
   * Our view was blind for a while (the process stalled): renewals we could
   * not process must not look like deaths. Same grace as after an outage.
   */
  restartView(now: number): void {
    this.livenessFrom = Math.max(this.livenessFrom, now);
  }

  observeHeartbeat(node: string, view: HeartbeatView | undefined, now: number): void {
    if (view === undefined) {
      this.nodes.delete(node);
      return;
    }
    const known = this.nodes.get(node);
    if (known === undefined || known.resourceVersion !== view.resourceVersion) {
      this.nodes.set(node, {
        resourceVersion: view.resourceVersion,
        leaseDurationMs: view.leaseDurationMs,
        seenChangeAt: now,
        macs: view.macs,
      });
    }
  }

  /** A speaker's member Lease (undefined: gone): membership and the MACs it publishes. */
  observeMember(node: string, macs: readonly string[] | undefined): void {
    if (macs === undefined) this.members.delete(node);
    else
      this.members.set(
        node,
        macs.map((m) => m.toLowerCase()),
      );
  }

  /** The failure detector's word on `node` (undefined: forget it). */
  observeVerdict(node: string, verdict: PeerVerdict | undefined): void {
    if (verdict === undefined) this.verdicts.delete(node);
    else this.verdicts.set(node, verdict);
  }

  /** While true, no IP is acquired (this node hears none of its peers, who hear each other). */
  setSelfBlame(blamed: boolean): void {
    this.selfBlame = blamed;
  }

  /** Peers the mesh has no verdict on: their liveness comes from their heartbeat Leases. */
  needsHeartbeats(): boolean {
    for (const node of this.members.keys()) {
      if (node === this.config.self) continue;
      const verdict = this.verdicts.get(node);
      if (verdict === undefined || verdict === 'unknown') return true;
    }
    return false;
  }

  /** The IP's Lease from the watch (undefined = no Lease). */
  observeLease(ip: string, lease: OwnershipView | undefined, now: number): void {
    const state = this.state(ip);
    if (state.awaitingVersion !== undefined) {
      const expired = state.awaitingSince !== undefined && now - state.awaitingSince >= 2 * this.config.leaseDurationMs;
      if (lease?.resourceVersion !== state.awaitingVersion && !expired) return;
      state.awaitingVersion = undefined;
      state.awaitingSince = undefined;
    }
    this.applyLease(state, lease);
  }

  /** A Lease read straight from the API server: newer than anything the watch still has queued. */
  observeLeaseRead(ip: string, lease: OwnershipView | undefined, now: number): void {
    const state = this.state(ip);
    // The watch can deliver a write before its response arrives: then the
    // cached state is this version or newer, and is kept.
    const delivered = lease !== undefined && state.recentVersions.includes(lease.resourceVersion);
    const current = delivered ? state.lease : lease;
    if (state.fence !== undefined) {
      // The Lease still naming us means the other speaker's view is stale.
      if (current?.holder === this.config.self) state.resumedOverMac = state.fence.mac;
      state.fence = undefined;
    }
    if (delivered) return;
    state.awaitingVersion = lease?.resourceVersion;
    state.awaitingSince = lease === undefined ? undefined : now;
    this.applyLease(state, lease);
  }

  /** Nodes that may hold the IP by configuration (L2Advertisement, endpoints, ...), before liveness. */
  setEligible(ip: string, nodes: ReadonlySet<string>): void {
    this.state(ip).eligible = nodes;
  }

  /** The IP is no longer allocated to any Service. */
  removeIp(ip: string): void {
    const state = this.ips.get(ip);
    if (state !== undefined) state.eligible = undefined;
  }

  /** Result of an acquire/release/delete intent. */
  writeFinished(ip: string, outcome: WriteOutcome, now: number): void {
    const state = this.state(ip);
    state.writeInFlight = false;
    if (outcome.kind === 'ok') {
      state.retryAt = undefined;
      this.observeLeaseRead(ip, outcome.lease, now);
    } else {
      // A 409 is followed by a re-read; either way wait before trying again.
      state.retryAt = now + this.retryBackoffMs;
    }
  }

  /**
   * A frame on the wire (not sent by us) claims `ip` for `mac`. Another
   * speaker's MAC fences the IP: evaluate() then withdraws and asks for a
   * re-read, so call it right after. A MAC no speaker publishes is another
   * host: we keep announcing and report it once per (IP, MAC) while we hold it.
   */
  observeWireClaim(ip: string, mac: string): { effect: 'ignored' | 'fenced' | 'conflict'; intents: Intent[] } {
    const state = this.ips.get(ip);
    const claimant = mac.toLowerCase();
    if (state === undefined || state.lease?.holder !== this.config.self) return { effect: 'ignored', intents: [] };
    const owner = this.nodeOfMac(claimant);
    if (owner === this.config.self) return { effect: 'ignored', intents: [] };
    if (owner !== undefined) {
      if (state.fence === undefined) state.fence = { mac: claimant, rereadRequested: false };
      return { effect: 'fenced', intents: [] };
    }
    if (state.reportedConflicts.has(claimant)) return { effect: 'conflict', intents: [] };
    state.reportedConflicts.add(claimant);
    return {
      effect: 'conflict',
      intents: [{ kind: 'conflict', ip, mac: claimant, reason: 'a host that is no speaker answers for this IP' }],
    };
  }

  /** A MAC some speaker publishes in its heartbeat Lease (this one included). */
  isSpeakerMac(mac: string): boolean {
    return this.nodeOfMac(mac.toLowerCase()) !== undefined;
  }

  isLive(node: string, now: number): boolean {
    if (node === this.config.self) return true;
    const verdict = this.verdicts.get(node);
    if (verdict === 'alive' || verdict === 'suspect') return this.members.has(node) || this.nodes.has(node);
    if (verdict === 'dead') return false;
    const seen = this.nodes.get(node);
    if (seen === undefined) return false;
    return now - Math.max(seen.seenChangeAt, this.livenessFrom) < (seen.leaseDurationMs ?? this.config.leaseDurationMs);
  }

  /** Nodes with a heartbeat Lease observation. */
  heartbeatNodes(): string[] {
    return [...this.nodes.keys()];
  }

  /** IPs whose Lease names us (the runtime's view of what it may announce). */
  heldIps(): string[] {
    return [...this.ips].filter(([, s]) => s.lease?.holder === this.config.self).map(([ip]) => ip);
  }

  isAnnouncing(ip: string): boolean {
    return this.ips.get(ip)?.announcing ?? false;
  }

  /** SIGTERM: withdraw everything, then release every held IP. Later evaluations do nothing. */
  shutdown(): Intent[] {
    this.shuttingDown = true;
    const intents: Intent[] = [];
    for (const [ip, state] of this.sortedIps()) {
      if (state.announcing) {
        state.announcing = false;
        intents.push({ kind: 'withdraw', ip, reason: 'speaker shutting down' });
      }
    }
    for (const [ip, state] of this.sortedIps()) {
      if (state.lease?.holder === this.config.self) {
        intents.push({
          kind: 'release',
          ip,
          expectedResourceVersion: state.lease.resourceVersion,
          reason: 'speaker shutting down',
        });
      }
    }
    return intents;
  }

  evaluate(now: number): Evaluation {
    const intents: Intent[] = [];
    let wakeAt: number | undefined;
    const wake = (t: number) => {
      if (wakeAt === undefined || t < wakeAt) wakeAt = t;
    };
    if (this.shuttingDown || !this.synced) return { intents };
    const self = this.config.self;
    const orphaned: OrphanedIp[] = [];
    const holdings = new Map<string, number>();

    // Our heartbeat unseen for a lease-duration: peers may have taken over
    // what we hold, and the frames announcing it may have been lost. Confirm,
    // still answering: our link was up, so the wire fence was listening, and
    // an outage of the whole API must not silence anyone.
    if (!this.apiReachable && this.unreachableSince !== undefined && !this.gapConfirmed) {
      const gapAt = this.unreachableSince + this.config.leaseDurationMs;
      if (now >= gapAt) {
        this.gapConfirmed = true;
        for (const ip of this.heldIps())
          this.requireConfirmation(ip, 'own heartbeat unseen for a lease-duration', { silent: false }, now);
      } else {
        wake(gapAt);
      }
    }
    const live = this.liveNodes(now);
    for (const [ip, state] of [...this.ips]) {
      if (state.awaitingSince !== undefined) wake(state.awaitingSince + 2 * this.config.leaseDurationMs);
      const holder = state.lease?.holder ?? '';
      const candidates = state.eligible === undefined ? [] : [...state.eligible].filter((node) => live.has(node));
      if (holder === self) {
        state.ownerNeededSince = state.announcing ? undefined : state.ownerNeededSince;
        holdings.set(self, (holdings.get(self) ?? 0) + 1);
        this.evaluateHeld(ip, state, candidates, intents, now, wake);
        continue;
      }
      if (state.announcing) {
        state.announcing = false;
        intents.push({ kind: 'withdraw', ip, reason: holder === '' ? 'lease released' : `lease moved to ${holder}` });
      }
      state.fence = undefined;
      state.confirm = undefined;
      state.resumedOverMac = undefined;
      state.reportedConflicts.clear();
      if (state.eligible === undefined) {
        // Forget IPs that are gone and whose Lease we have no business with.
        if (state.lease === undefined && !state.writeInFlight && state.awaitingVersion === undefined)
          this.ips.delete(ip);
        continue;
      }
      const reason = this.needsOwner(state, holder, candidates, now, wake);
      if (reason === undefined) {
        state.ownerNeededSince = undefined;
        state.rank = state.rankSince = undefined;
        holdings.set(holder, (holdings.get(holder) ?? 0) + 1);
        continue;
      }
      state.ownerNeededSince ??= now;
      if (candidates.length > 0) orphaned.push({ ip, candidates });
    }

    if (orphaned.length === 0 || !this.apiReachable || this.selfBlame) return { intents, wakeAt };
    // A view that just became fresh (start, end of an outage) has not heard
    // every live peer yet: listen before taking IPs.
    const viewComplete = this.viewFreshSince + (this.config.settleMs ?? this.config.leaseDurationMs);
    if (now < viewComplete) {
      wake(viewComplete);
      return { intents, wakeAt };
    }
    const plan = planTakeovers(orphaned, holdings);
    for (const { ip } of orphaned) {
      const state = this.state(ip);
      const rank = plan.get(ip)?.indexOf(self) ?? -1;
      if (rank < 0 || state.writeInFlight || state.ownerNeededSince === undefined) continue;
      // The wait counts from when this view could first act on the IP, and
      // starts again whenever our rank changes (other takeovers landed and
      // re-planned it): the planned owner always gets a full stagger to act.
      if (state.rank !== rank) {
        state.rankSince = state.rank === undefined ? Math.max(state.ownerNeededSince, viewComplete) : now;
        state.rank = rank;
      }
      const due = Math.max((state.rankSince ?? now) + rank * this.effectiveStaggerMs(), state.retryAt ?? 0);
      if (now < due) {
        wake(due);
        continue;
      }
      state.writeInFlight = true;
      state.acquiredNew = state.lease === undefined;
      const holder = state.lease?.holder ?? '';
      intents.push({
        kind: 'acquire',
        ip,
        expectedResourceVersion: state.lease?.resourceVersion,
        reason: `${this.orphanReason(state, holder, now)}; rank ${rank}`,
      });
    }
    return { intents, wakeAt };
  }

  private evaluateHeld(
    ip: string,
    state: IpState,
    candidates: readonly string[],
    intents: Intent[],
    now: number,
    wake: (t: number) => void,
  ): void {
    const lease = state.lease;
    if (lease === undefined) return;
    const stopAnswering = (reason: string) => {
      if (!state.announcing) return;
      state.announcing = false;
      intents.push({ kind: 'withdraw', ip, reason });
    };
    // A link down for 2 x lease-duration is no blip: the IP cannot be served
    // here, so hand it over rather than hold it silently.
    const deadLink = state.confirm?.link !== undefined && now - state.confirm.since >= 2 * this.config.leaseDurationMs;
    if (state.confirm?.link !== undefined && !deadLink) wake(state.confirm.since + 2 * this.config.leaseDurationMs);
    if (state.eligible === undefined || !candidates.includes(this.config.self) || deadLink) {
      const gone = state.eligible === undefined;
      const reason = gone
        ? 'IP no longer allocated'
        : deadLink
          ? `link ${state.confirm?.link} down for 2 x lease-duration`
          : 'this node is no longer a candidate';
      stopAnswering(reason);
      if (state.writeInFlight) return;
      if (state.retryAt !== undefined && now < state.retryAt) {
        wake(state.retryAt);
        return;
      }
      state.writeInFlight = true;
      intents.push({ kind: gone ? 'delete' : 'release', ip, expectedResourceVersion: lease.resourceVersion, reason });
      return;
    }
    if (state.fence !== undefined) {
      stopAnswering(`another speaker (${state.fence.mac}) announces it`);
      if (!state.fence.rereadRequested) {
        state.fence.rereadRequested = true;
        intents.push({ kind: 'reread', ip, reason: `another speaker (${state.fence.mac}) announces it` });
      }
      return;
    }
    const confirm = state.confirm;
    if (confirm !== undefined) {
      if (confirm.silent) stopAnswering(`confirming ownership: ${confirm.reason}`);
      if (
        confirm.link === undefined &&
        !confirm.requested &&
        (confirm.retryAt === undefined || now >= confirm.retryAt)
      ) {
        confirm.requested = true;
        intents.push({ kind: 'confirm', ip, id: confirm.id, reason: confirm.reason });
      } else if (confirm.retryAt !== undefined && !confirm.requested && confirm.link === undefined) {
        wake(confirm.retryAt);
      }
      if (confirm.silent) return;
    }
    if (!state.announcing) {
      state.announcing = true;
      intents.push({
        kind: 'announce',
        ip,
        reason: 'lease names this node',
        probe: state.acquiredNew === true,
        ownerNeededSince: state.ownerNeededSince,
      });
      state.ownerNeededSince = undefined;
      state.acquiredNew = false;
    }
    if (state.resumedOverMac !== undefined) {
      const mac = state.resumedOverMac;
      state.resumedOverMac = undefined;
      intents.push({
        kind: 'conflict',
        ip,
        mac,
        reason: `speaker with ${mac} announces it but the lease still names this node`,
      });
    }
  }

  /** Why the IP needs a new owner, or undefined when its holder is fine. */
  private needsOwner(
    state: IpState,
    holder: string,
    candidates: readonly string[],
    now: number,
    wake: (t: number) => void,
  ): string | undefined {
    if (holder === '' || !this.isLive(holder, now)) {
      state.holderIneligibleSince = undefined;
      return this.orphanReason(state, holder, now);
    }
    const liveUntil = this.liveUntil(holder);
    if (liveUntil !== undefined) wake(liveUntil);
    if (candidates.includes(holder)) {
      state.holderIneligibleSince = undefined;
      return undefined;
    }
    // The holder should release it itself; step in only if it does not.
    state.holderIneligibleSince ??= now;
    const graceEnd = state.holderIneligibleSince + 2 * this.config.leaseDurationMs;
    if (now < graceEnd) {
      wake(graceEnd);
      return undefined;
    }
    return this.orphanReason(state, holder, now);
  }

  private orphanReason(state: IpState, holder: string, now: number): string {
    if (state.lease === undefined) return 'no lease';
    if (holder === '') return 'lease released';
    if (!this.isLive(holder, now)) return `holder ${holder} is not live`;
    return `holder ${holder} not a candidate for 2 x lease-duration`;
  }

  /** When a peer judged by its heartbeat Lease stops being live (undefined: the mesh judges it). */
  private liveUntil(node: string): number | undefined {
    if (node === this.config.self) return undefined;
    const verdict = this.verdicts.get(node);
    if (verdict !== undefined && verdict !== 'unknown') return undefined;
    const seen = this.nodes.get(node);
    return seen === undefined
      ? undefined
      : Math.max(seen.seenChangeAt, this.livenessFrom) + (seen.leaseDurationMs ?? this.config.leaseDurationMs);
  }

  /** Every node live now, this one included (computed once per evaluation). */
  private liveNodes(now: number): Set<string> {
    const live = new Set([this.config.self]);
    for (const node of this.nodes.keys()) if (this.isLive(node, now)) live.add(node);
    for (const node of this.members.keys()) if (this.isLive(node, now)) live.add(node);
    return live;
  }

  private nodeOfMac(mac: string): string | undefined {
    for (const [node, macs] of this.members) if (macs.includes(mac)) return node;
    for (const [node, seen] of this.nodes) if (seen.macs.includes(mac)) return node;
    return undefined;
  }

  private applyLease(state: IpState, lease: OwnershipView | undefined): void {
    if (lease !== undefined) {
      state.recentVersions.push(lease.resourceVersion);
      if (state.recentVersions.length > RECENT_VERSIONS) state.recentVersions.shift();
    }
    const before = state.lease?.holder;
    state.lease = lease;
    if (lease?.holder !== before) {
      state.holderIneligibleSince = undefined;
      state.reportedConflicts.clear();
    }
  }

  private state(ip: string): IpState {
    let state = this.ips.get(ip);
    if (state === undefined) {
      state = {
        lease: undefined,
        eligible: undefined,
        writeInFlight: false,
        announcing: false,
        reportedConflicts: new Set(),
        recentVersions: [],
      };
      this.ips.set(ip, state);
    }
    return state;
  }

  private sortedIps(): [string, IpState][] {
    return [...this.ips].sort((a, b) => compareStrings(a[0], b[0]));
  }
}
