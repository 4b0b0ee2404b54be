import type { CancelTimer, Scheduler } from '../clock/scheduler.js';
import { isNodeName, MAX_DATAGRAM_BYTES, messageOverheadBytes } from './codec.js';
import { newPeer, rawVerdict, type PeerState, type Watched } from './peer-state.js';
import { Ring } from './ring.js';
import { Outbox } from './outbox.js';
import { RumorQueue } from './rumors.js';
import { SelfBlame } from './self-blame.js';
import { newCounters, resolveSettings, type FailureDetectorOptions, type LivenessCounters } from './settings.js';
import type { ApiStanding } from '../election/boundaries.js';
import type { LivenessTransport, Message, NodeRecord, Peer, Verdict } from './types.js';

export type { FailureDetectorOptions, LivenessCounters, LivenessEvent } from './settings.js';

// The failure detector between speakers (docs/liveness.md has the protocol).
//
// BFD-style heartbeats on a hash ring, with a quorum of monitors:
// - every `intervalMs` each node sends a heartbeat to its `monitors` (K) live
//   ring successors, so it sends K and receives K per interval at any size;
// - a monitor that hears nothing from a predecessor for `detectMultiplier`
//   intervals suspects it and tells the suspect's other monitors (and the
//   suspect, which refutes with a higher incarnation if alive);
// - a suspecting monitor that learns of `quorum` (2) suspicions in all
//   declares the node dead and sends that to every member; each node relays
//   new verdicts on its next heartbeats;
// - `leave()` tells every member at once;
// - a node that hears no heartbeat at all, and no answer to its probes, is
//   `isolated()`: it suspects nobody and reports `unknown` for every peer;
// - a node cut off from the API server says so in its heartbeats, and does not
//   refute a suspicion while it is: monitors that reach the API steadily do
//   not count those heartbeats, so it is declared dead and its IPs move.
//
// Usage:
//   const fd = new FailureDetector({ self, scheduler, transport, onChange });
//   fd.setMembers(peersFromNodeLeases);  fd.start();
//   fd.verdict('node-b');  // 'alive' | 'suspect' | 'dead' | 'unknown'
//   fd.isolated();  fd.status();  fd.counters;
//   await-free shutdown: fd.leave() on SIGTERM, fd.stop() otherwise.
// The caller owns the transport (closes it after stop()).

export class FailureDetector {
  readonly self: string;
  readonly intervalMs: number;
  readonly detectMs: number;
  private readonly k: number;
  private readonly quorum: number;
  private readonly graceMs: number;
  private readonly subscriptionMs: number;
  private readonly random: () => number;
  private readonly scheduler: Scheduler;
  private readonly transport: LivenessTransport;
  private incarnationValue: number;
  private peers = new Map<string, PeerState>();
  private peerList: PeerState[] = [];
  private livePeers = 0;
  private ring = new Ring([]);
  private successors: string[] = [];
  private readonly watched = new Map<string, Watched>();
  private readonly subscribers = new Map<string, number>();
  /** Peers with suspicions to expire or count (the tick looks at these only). */
  private readonly attention = new Set<string>();
  private readonly rumorBudget: number;
  private readonly rumors: RumorQueue;
  private cancelTick: CancelTimer | undefined;
  private running = false;
  private lastTickAt: number | undefined;
  private resumedAt = 0;
  private readonly blame: SelfBlame;
  private readonly out: Outbox;
  private readonly apiStanding: () => ApiStanding;
  /** The highest claim against this node left unrefuted while cut off from the API server. */
  private unrefutedClaim: number | undefined;
  readonly counters: LivenessCounters = newCounters();

  constructor(private readonly options: FailureDetectorOptions) {
    const settings = resolveSettings(options);
    this.self = options.self;
    this.intervalMs = settings.intervalMs;
    this.detectMs = settings.detectMs;
    this.k = settings.monitors;
    this.quorum = settings.quorum;
    this.graceMs = settings.assignmentGraceMs;
    this.subscriptionMs = settings.subscriptionMs;
    this.incarnationValue = settings.incarnation;
    this.random = options.random ?? Math.random;
    this.apiStanding = options.apiStanding ?? (() => ({ cutOff: false, steady: true }));
    this.scheduler = options.scheduler;
    this.transport = options.transport;
    this.rumors = new RumorQueue(settings.relayRounds);
    this.rumorBudget = MAX_DATAGRAM_BYTES - messageOverheadBytes(this.self);
    this.blame = new SelfBlame(this.detectMs, this.intervalMs);
    this.out = new Outbox({
      self: this.self,
      transport: this.transport,
      counters: this.counters,
      incarnation: () => this.incarnationValue,
      random: this.random,
      fanout: settings.gossipFanout,
    });
    this.transport.onMessage((m) => this.receive(m));
  }

  get incarnation(): number {
    return this.incarnationValue;
  }

  /** The members (from the node Leases, this node included or not). Throws on a bad entry and keeps the old list. */
  setMembers(members: readonly Readonly<Peer>[]): void {
    for (const m of members) {
      if (!isNodeName(m.node))
        throw new Error(`liveness: member name ${JSON.stringify(m.node)} is not a valid node name`);
      if (!Number.isInteger(m.port) || m.port < 1 || m.port > 65535)
        throw new Error(`liveness: member ${m.node} has port ${m.port}, expected 1-65535`);
      if (typeof m.address !== 'string' || m.address.length === 0)
        throw new Error(`liveness: member ${m.node} has no address`);
    }
    const next = new Map<string, PeerState>();
    for (const m of members) {
      if (m.node === this.self) continue;
      const old = this.peers.get(m.node);
      if (old) old.peer = m;
      next.set(m.node, old ?? newPeer(m));
    }
    this.peers = next;
    this.peerList = [...next.values()];
    for (const node of this.subscribers.keys()) if (!next.has(node)) this.subscribers.delete(node);
    this.ring = new Ring([this.self, ...next.keys()]);
    this.rearrange();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const now = this.scheduler.now();
    this.resumedAt = now;
    this.blame.started(now);
    this.lastTickAt = undefined;
    // A restart (new incarnation) revives this node wherever it was dead.
    this.out.broadcast(this.peers.values(), { kind: 'alive', node: this.self, incarnation: this.incarnationValue });
    this.cancelTick = this.scheduler.setTimer(this.random() * this.intervalMs, () => this.tick());
  }

  /** Graceful shutdown: every member learns at once, then heartbeats stop. */
  leave(): void {
    if (!this.running) return;
    const record: NodeRecord = { kind: 'left', node: this.self, incarnation: this.incarnationValue };
    // Twice: a member misses it only if both copies are lost.
    this.out.broadcast(this.peers.values(), record);
    this.out.broadcast(this.peers.values(), record);
    this.stop();
  }

  stop(): void {
    this.running = false;
    this.cancelTick?.();
    this.cancelTick = undefined;
  }

  verdict(node: string): Verdict {
    if (node === this.self) return 'alive';
    const p = this.peers.get(node);
    if (p === undefined) return 'unknown';
    if (p.status !== 'alive') return 'dead';
    // A member never heard on the mesh (no incarnation learnt: it has not
    // joined, or crashed before it did) has no one to vouch for it or to
    // declare it dead: the Leases judge it.
    if (p.incarnation === 0) return 'unknown';
    if (this.blame.isolated || !this.quorumPossible()) return 'unknown';
    return rawVerdict(p);
  }

  /** Why a dead verdict holds: a quorum of monitors, or the node's own leave. */
  reason(node: string): 'confirmed' | 'left' | undefined {
    const status = this.peers.get(node)?.status;
    return status === 'dead' ? 'confirmed' : status === 'left' ? 'left' : undefined;
  }

  /** True while no heartbeat and no probe answer arrived for the detection time: the fault is here. */
  isolated(): boolean {
    return this.blame.isolated;
  }

  /** What the caller needs to tell "I hear no one" from "my peers are dead". */
  status(): {
    isolated: boolean;
    quorumPossible: boolean;
    msSinceHeartbeat: number;
    msSinceProbeAnswer: number;
    monitoring: string[];
    monitoredBy: string[];
    livePeers: number;
    deadPeers: number;
  } {
    const now = this.scheduler.now();
    return {
      isolated: this.blame.isolated,
      quorumPossible: this.quorumPossible(),
      msSinceHeartbeat: this.blame.msSinceHeartbeat(now),
      msSinceProbeAnswer: this.blame.msSinceAck(now),
      monitoring: [...this.watched.keys()],
      monitoredBy: [...this.successors],
      livePeers: this.livePeers,
      deadPeers: this.peers.size - this.livePeers,
    };
  }

  // ---- timing

  private tick(): void {
    if (!this.running) return;
    const now = this.scheduler.now();
    // A late timer means this process stalled: silence it measured is its own.
    if (this.lastTickAt !== undefined && now - this.lastTickAt > 2 * this.intervalMs) this.resumedAt = now;
    this.lastTickAt = now;
    for (const [node, until] of this.subscribers) if (until <= now) this.subscribers.delete(node);
    this.checkIsolation(now);
    if (this.unrefutedClaim !== undefined && !this.apiStanding().cutOff) {
      const claim = this.unrefutedClaim;
      this.unrefutedClaim = undefined;
      this.refute(claim, undefined);
    }
    for (const [node, w] of this.watched) this.checkPredecessor(node, w, now);
    for (const node of this.attention) {
      const p = this.peers.get(node);
      if (p === undefined) {
        this.attention.delete(node);
        continue;
      }
      const suspicions = p.suspicions;
      if (suspicions)
        for (const [from, s] of suspicions)
          if (now - s.at > this.detectMs || s.incarnation < p.incarnation) suspicions.delete(from);
      if (p.status === 'alive' && p.suspectedSince !== undefined) this.checkQuorum(node, p);
      this.report(node, p);
      if ((p.suspicions?.size ?? 0) === 0 && p.suspectedSince === undefined) {
        p.suspicions = undefined;
        this.attention.delete(node);
      }
    }
    this.sendHeartbeats();
    this.cancelTick = this.scheduler.setTimer(this.intervalMs, () => this.tick());
  }

  private checkIsolation(now: number): void {
    const expecting = this.watched.size > 0;
    const nonce = this.blame.probeDue(now, this.resumedAt, expecting);
    if (nonce !== undefined) this.probe(nonce);
    if (!this.blame.update(now, this.resumedAt, expecting)) return;
    const isolated = this.blame.isolated;
    if (isolated) {
      this.counters.isolations++;
      for (const p of this.peers.values()) p.suspectedSince = undefined;
    } else {
      // What was measured while cut off says nothing about the peers.
      this.resumedAt = now;
    }
    this.options.onChange?.({ type: 'isolated', isolated });
  }

  /** "Is it me?": ask a few live members that are not predecessors for an answer. */
  private probe(nonce: number): void {
    const candidates = this.peerList.filter((p) => p.status === 'alive' && !this.watched.has(p.peer.node));
    for (let i = 0; i < 3 && candidates.length > 0; i++) {
      const [p] = candidates.splice(Math.floor(this.random() * candidates.length), 1);
      if (p) this.out.notice(p.peer, [{ kind: 'ping', node: p.peer.node, incarnation: nonce }]);
    }
  }

  private checkPredecessor(node: string, w: Watched, now: number): void {
    const p = this.peers.get(node);
    if (p === undefined || p.status !== 'alive') return;
    const since = Math.max(
      p.lastHeard ?? Number.NEGATIVE_INFINITY,
      w.assignedAt + this.graceMs,
      this.resumedAt,
      p.refutedAt,
    );
    const heardLately = p.lastHeard !== undefined && now - p.lastHeard <= 2 * this.intervalMs;
    // Ask for heartbeats when they do not come (the predecessor's ring may differ), and renew a subscription.
    const renew = w.subscribed && now - w.lastWatchAt > this.subscriptionMs / 3;
    if ((!heardLately && now - w.lastWatchAt >= 2 * this.intervalMs) || renew) {
      w.lastWatchAt = now;
      this.out.notice(p.peer, [{ kind: 'watch', node, incarnation: p.incarnation }]);
    }
    if (this.blame.isolated || now - since <= this.detectMs) return;
    if (p.suspectedSince === undefined) {
      p.suspectedSince = now;
      // Firsthand only if this node heard it since it became its monitor; else a doubt.
      p.ownFirsthand = p.lastHeard !== undefined && p.lastHeard >= w.assignedAt;
      this.counters.suspicions++;
      this.attention.add(node);
    }
    // Repeated every interval while it lasts, so one lost datagram does not stop a quorum.
    const record: NodeRecord = { kind: p.ownFirsthand ? 'suspect' : 'doubt', node, incarnation: p.incarnation };
    for (const m of this.monitorsOf(node)) this.out.notice(this.peers.get(m)?.peer, [record]);
    this.out.notice(p.peer, [record]);
  }

  private checkQuorum(node: string, p: PeerState): void {
    if (this.blame.isolated || p.suspectedSince === undefined) return;
    let agreeing = 1;
    let firsthand = p.ownFirsthand;
    if (p.suspicions) {
      for (const s of p.suspicions.values()) {
        if (s.incarnation < p.incarnation) continue;
        agreeing++;
        firsthand ||= s.firsthand;
      }
    }
    // Monitors that never heard the node (new ring assignments, views not yet in step) cannot kill it alone.
    if (agreeing < this.quorum || !firsthand) return;
    this.markGone(node, p, 'dead', p.incarnation);
  }

  private sendHeartbeats(): void {
    const records = this.rumors.takeRound(this.rumorBudget);
    // One message object for all ring successors: transports must not change what they are given.
    const ring: Message = { ...this.heartbeatHeader(false), records };
    for (const node of this.successors) this.heartbeat(node, ring);
    if (this.subscribers.size === 0) return;
    const asked: Message = { ...ring, subscribed: true };
    for (const node of this.subscribers.keys()) if (!this.successors.includes(node)) this.heartbeat(node, asked);
  }

  private heartbeatHeader(subscribed: boolean): Omit<Message, 'records'> {
    const apiCutOff = this.apiStanding().cutOff;
    return { type: 'heartbeat', sender: this.self, incarnation: this.incarnationValue, subscribed, apiCutOff };
  }

  private heartbeat(node: string, message: Message): void {
    const p = this.peers.get(node);
    if (p !== undefined) this.out.heartbeat(p.peer, message);
  }

  // ---- receiving

  private receive(m: Message): void {
    if (!this.running || m.sender === this.self) return;
    const now = this.scheduler.now();
    const p = this.peers.get(m.sender);
    if (p === undefined || m.incarnation < p.incarnation) {
      this.counters.ignored++;
      // A restart whose clock is behind its last life's (the incarnation comes
      // from it): tell it what we hold, so it refutes above and is heard again.
      if (p !== undefined && p.status !== 'alive') this.tellGone(m.sender, p, now);
      return;
    }
    if (m.type === 'heartbeat') this.counters.received.heartbeat++;
    else this.counters.received.notice++;
    if (m.incarnation > p.incarnation) this.learnAlive(m.sender, p, m.incarnation, now);
    if (p.status === 'alive') {
      if (m.type === 'heartbeat') {
        this.blame.heartbeat(now);
        p.apiCutOff = m.apiCutOff;
        const w = this.watched.get(m.sender);
        if (w) w.subscribed = m.subscribed;
      }
      // A sender cut off from the API server cannot see Service changes: its
      // IPs should move. Only a monitor that itself reaches the API steadily
      // stops letting it vouch for itself (after an outage of the whole API
      // server nobody does, until every flag had time to clear).
      if (p.apiCutOff && this.apiStanding().steady) {
        if (m.type === 'heartbeat') this.counters.cutOffHeartbeats++;
      } else {
        p.lastHeard = now;
        if (p.suspectedSince !== undefined) p.suspectedSince = undefined;
      }
      if (this.blame.isolated && m.type === 'heartbeat') this.checkIsolation(now);
    } else {
      // It talks as if alive in the incarnation we hold dead: tell it, so it refutes.
      this.tellGone(m.sender, p, now);
    }
    for (const r of m.records) this.apply(m.sender, p, r, now);
    this.report(m.sender, p);
  }

  private apply(sender: string, from: PeerState, r: NodeRecord, now: number): void {
    if (r.node === this.self) {
      if (r.kind === 'watch') this.subscribe(sender, from, now);
      else if (r.kind === 'ping')
        this.out.notice(from.peer, [{ kind: 'ack', node: sender, incarnation: r.incarnation }]);
      else if (r.kind === 'ack') this.blame.ack(now);
      else if (r.kind !== 'alive' && r.incarnation >= this.incarnationValue) this.claimedGone(r, from);
      return;
    }
    const p = this.peers.get(r.node);
    if (p === undefined || r.kind === 'watch' || r.kind === 'ping' || r.kind === 'ack') return;
    if (r.kind === 'alive') {
      if (r.incarnation > p.incarnation) this.learnAlive(r.node, p, r.incarnation, now);
    } else if (r.kind === 'suspect' || r.kind === 'doubt') {
      if (r.incarnation < p.incarnation || p.status !== 'alive') return;
      p.incarnation = r.incarnation;
      p.suspicions ??= new Map();
      p.suspicions.set(sender, { incarnation: r.incarnation, at: now, firsthand: r.kind === 'suspect' });
      this.attention.add(r.node);
      // A monitor that still hears the suspect tells it, so it refutes and the stale suspicion dies.
      const hearing = p.lastHeard !== undefined && now - p.lastHeard <= 2 * this.intervalMs;
      if (
        hearing &&
        p.suspectedSince === undefined &&
        this.watched.has(r.node) &&
        p.forwardedIncarnation < r.incarnation
      ) {
        p.forwardedIncarnation = r.incarnation;
        this.out.notice(p.peer, [r]);
      }
      this.checkQuorum(r.node, p);
    } else if (r.incarnation >= p.incarnation && p.status === 'alive') {
      // A confirming monitor repeats the verdict to everyone too (redundancy under loss).
      const confirming = p.suspectedSince !== undefined && !this.blame.isolated;
      this.markGone(r.node, p, r.kind, r.incarnation, confirming);
    }
    this.report(r.node, p);
  }

  /** At most once an interval: "I hold you dead (or gone) at this incarnation". */
  private tellGone(node: string, p: PeerState, now: number): void {
    if (p.status === 'alive' || now - p.toldDeadAt < this.intervalMs) return;
    p.toldDeadAt = now;
    this.out.notice(p.peer, [{ kind: p.status, node, incarnation: p.incarnation }]);
  }

  private subscribe(sender: string, from: PeerState, now: number): void {
    const fresh = !this.subscribers.has(sender);
    this.subscribers.set(sender, now + this.subscriptionMs);
    // Answer at once so the new monitor's session starts now.
    if (fresh && !this.successors.includes(sender)) {
      this.out.heartbeat(from.peer, { ...this.heartbeatHeader(true), records: [] });
    }
  }

  /** Suspected or declared dead while alive: refute, unless cut off from the API server (then the IPs should move). */
  private claimedGone(r: NodeRecord, from: PeerState): void {
    if (this.apiStanding().cutOff) {
      this.counters.unrefuted++;
      this.unrefutedClaim = Math.max(this.unrefutedClaim ?? 0, r.incarnation);
      return;
    }
    this.refute(r.incarnation, r.kind === 'suspect' || r.kind === 'doubt' ? from : undefined);
  }

  /** Suspected or declared dead while alive: a higher incarnation overrides it. */
  private refute(claimed: number, suspecter: PeerState | undefined): void {
    if (!this.running) return;
    // Above whatever the claim names, even if it is above our own (a previous life with a clock ahead).
    this.incarnationValue = Math.max(this.incarnationValue, claimed) + 1;
    this.counters.refutations++;
    const record: NodeRecord = { kind: 'alive', node: this.self, incarnation: this.incarnationValue };
    this.rumors.add(record);
    if (suspecter === undefined) {
      this.out.broadcast(this.peers.values(), record);
      return;
    }
    const to = new Set([...this.successors, suspecter.peer.node]);
    for (const node of to) this.out.notice(this.peers.get(node)?.peer, [record]);
  }

  private learnAlive(node: string, p: PeerState, incarnation: number, now: number): void {
    // A first join is news too: a member nobody vouched for is judged by the Leases (verdict()).
    const wasGone = p.status !== 'alive' || p.incarnation === 0;
    p.incarnation = incarnation;
    p.status = 'alive';
    p.declared = false;
    p.refutedAt = now;
    p.suspectedSince = undefined;
    const suspicions = p.suspicions;
    if (suspicions) for (const [from, s] of suspicions) if (s.incarnation < incarnation) suspicions.delete(from);
    if (!wasGone) return;
    // A join or a revival (restart, refuted death) is news for everyone; a refuted suspicion is not.
    this.spread({ kind: 'alive', node, incarnation });
    // And the newcomer learns of us: otherwise it would know only its ring neighbours.
    this.out.notice(p.peer, [{ kind: 'alive', node: this.self, incarnation: this.incarnationValue }]);
    this.rearrange();
  }

  private markGone(node: string, p: PeerState, kind: 'dead' | 'left', incarnation: number, confirming = true): void {
    p.status = kind;
    p.incarnation = incarnation;
    p.suspicions = undefined;
    const record: NodeRecord = { kind, node, incarnation };
    if (kind === 'left') this.counters.leavesLearned++;
    else if (!confirming) this.counters.deathsLearned++;
    if (kind === 'dead' && confirming && !p.declared) {
      p.declared = true;
      this.counters.deathsDeclared++;
      this.rumors.add(record);
      this.out.broadcast(this.peers.values(), record);
    } else {
      this.spread(record);
    }
    p.suspectedSince = undefined;
    this.report(node, p);
    this.rearrange();
  }

  // ---- helpers

  private readonly isLive = (node: string): boolean => node === this.self || this.peers.get(node)?.status === 'alive';

  /** Recomputes whom this node heartbeats and whom it watches after the ring or a status changed. */
  private rearrange(): void {
    let live = 0;
    for (const p of this.peerList) if (p.status === 'alive') live++;
    this.livePeers = live;
    this.successors = this.ring.successors(this.self, this.k, this.isLive);
    const now = this.scheduler.now();
    const preds = new Set(this.ring.predecessors(this.self, this.k, this.isLive));
    for (const node of this.watched.keys()) {
      if (preds.has(node)) continue;
      this.watched.delete(node);
      const p = this.peers.get(node);
      if (p) p.suspectedSince = undefined;
    }
    for (const node of preds)
      if (!this.watched.has(node))
        this.watched.set(node, { assignedAt: now, lastWatchAt: Number.NEGATIVE_INFINITY, subscribed: false });
  }

  private monitorsOf(node: string): string[] {
    return this.ring.successors(node, this.k, this.isLive).filter((m) => m !== this.self);
  }

  /** Two monitors (a quorum) can exist only with quorum + 1 live members. */
  private quorumPossible(): boolean {
    return this.livePeers + 1 > this.quorum;
  }

  private report(node: string, p: PeerState): void {
    const v = rawVerdict(p);
    if (v === p.reported) return;
    p.reported = v;
    const reason = p.status === 'dead' ? 'confirmed' : p.status === 'left' ? 'left' : undefined;
    this.options.onChange?.(
      reason ? { type: 'verdict', node, verdict: v, reason } : { type: 'verdict', node, verdict: v },
    );
  }

  /** News this node just learned: on its next heartbeats, and at once to a few random members. */
  private spread(record: NodeRecord): void {
    this.rumors.add(record);
    this.out.relay(this.peerList, record);
  }
}
