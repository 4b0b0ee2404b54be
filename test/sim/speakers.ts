// Real SpeakerRuntimes on one virtual clock: an in-memory Lease store with the
// API server's compare-and-swap rules and its faults (outage, 429/500 answers,
// Leases edited by hand), the fake layer-2 segment of ./segment.ts, and, when
// the mesh is on, the real failure detector over the simulated datagram
// network of ./network.ts. Nothing sleeps: minutes of cluster life run in
// milliseconds, the same way on every run (seeded).
import type { Scheduler } from '../../src/clock/scheduler.js';
import { VirtualScheduler } from '../../src/clock/virtual.js';
import { formatEndpoint, IP_ANNOTATION, NODE_LEASE_PREFIX } from '../../src/api/leases.js';
import {
  LeaseStoreError,
  type ApiStanding,
  type LeaseContent,
  type LeaseRecord,
  type LeaseStore,
  type LeaseWatchHandlers,
  type Liveness,
  type MeshPeer,
} from '../../src/election/boundaries.js';
import type { IpCandidates } from '../../src/election/candidates.js';
import type { PeerVerdict } from '../../src/election/types.js';
import { SpeakerRuntime } from '../../src/election/runtime.js';
import { PROMPT_BACKOFF } from '../../src/kube/informer.js';
import { FailureDetector } from '../../src/liveness/detector.js';
import { seededRandom } from '../kube/faults.js';
import { SimNetwork, type SimEndpoint } from './network.js';
import { candidatesFor, FakeSegment, FakeWire, macOf, SeverableStore } from './segment.js';

/**
 * Runs the virtual clock one timer at a time for `ms` (or until `done()`), and
 * lets the promise continuations each timer started run before the next one,
 * as the event loop would: the runtime awaits its store calls. Returns whether
 * `done()` held.
 */
export async function run(
  scheduler: VirtualScheduler,
  ms: number,
  done: () => boolean = () => false,
): Promise<boolean> {
  const end = scheduler.now() + ms;
  for (;;) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (done()) return true;
    if (scheduler.now() >= end) return false;
    const fired = scheduler.fired;
    scheduler.runUntilDone(() => scheduler.fired > fired, end - scheduler.now());
  }
}

/** One API round trip on the virtual clock (requests and answers add up to 1.5 ms of jitter each way). */
export const API_LATENCY_MS = 2;

/** An ownership Lease state, as a watch of every Lease would show it. */
export interface LeaseHistoryEntry {
  ip: string;
  holder: string;
  resourceVersion: string;
  deleted: boolean;
}

interface Watcher {
  handlers: LeaseWatchHandlers;
  /** The resourceVersion of each Lease this watch has delivered (what its informer's cache holds). */
  seen: Map<string, string>;
  /** False while an outage has cut its connection; it lists again after the outage. */
  connected: boolean;
}

type Verb = 'get' | 'list' | 'create' | 'update' | 'delete';

/**
 * Leases in memory with the API server's rules, as the speaker's store
 * (src/kube/speaker-leases.ts) presents them: every update and precondition
 * delete compares the resourceVersion (409 'conflict' when stale), a create of
 * an existing name fails with 'exists', and watchers hear each change one
 * round trip later, in order, never synchronously; heartbeat Leases reach no
 * watch. Faults as the API server double injects them (test/kube/faults.ts):
 * an outage refuses every request and cuts every watch, which lists again
 * (seeing only the latest state) after the informer's backoff once the server
 * is back; 429/500 answers refuse requests before they change anything, and
 * hit the watches' re-lists too; a person may delete a Lease or blank its holder.
 */
export class VirtualLeaseStore {
  private readonly leases = new Map<string, LeaseRecord>();
  private version = 1;
  private readonly watchers = new Set<Watcher>();
  private down = false;
  private failures = 0;
  private rate = 0;
  /** Requests that reached the server, by verb (refused ones included, as the double counts them). */
  readonly requests = new Map<Verb, number>();
  /** Requests refused by an outage or an injected error. */
  refusals = 0;
  /** Every ownership Lease state, in order. */
  readonly history: LeaseHistoryEntry[] = [];

  constructor(
    private readonly scheduler: Scheduler,
    private readonly random: () => number,
  ) {}

  /** A store as one speaker sees it: `dead()` true makes its calls hang up (a killed process hears nothing). */
  clientFor(dead: () => boolean): LeaseStore {
    // The server acts when the request arrives, whatever becomes of its sender; the answer
    // comes back later, concurrent calls' answers in any order, and a dead process hears none.
    const call = <T>(verb: Verb, op: () => T): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        if (dead()) return; // a killed process sends nothing
        this.scheduler.setTimer(API_LATENCY_MS / 2 + this.random(), () => {
          let answer: () => void;
          try {
            this.admit(verb);
            const result = op();
            answer = () => resolve(result);
          } catch (err) {
            answer = () => reject(err instanceof Error ? err : new Error(String(err)));
          }
          this.scheduler.setTimer(API_LATENCY_MS / 2 + 2 * this.random(), () => dead() || answer());
        });
      });
    return {
      get: (name) => call('get', () => this.leases.get(name)),
      listHeartbeats: () =>
        call('list', () => [...this.leases.values()].filter((l) => l.name.startsWith(NODE_LEASE_PREFIX))),
      create: (name, content) => call('create', () => this.create(name, content)),
      update: (name, rv, content) => call('update', () => this.update(name, rv, content)),
      delete: (name, rv) => call('delete', () => this.delete(name, rv)),
      watch: (handlers) => {
        const watcher: Watcher = {
          handlers: {
            onUpsert: (lease) => dead() || handlers.onUpsert(lease),
            onDelete: (name) => dead() || handlers.onDelete(name),
            onSynced: () => dead() || handlers.onSynced(),
          },
          seen: new Map(),
          connected: false,
        };
        this.watchers.add(watcher);
        this.relist(watcher, true);
        return { stop: () => void this.watchers.delete(watcher) };
      },
    };
  }

  /** Outage on: every request is refused and every watch cut; off: the watches list again after their backoff. */
  outage(on: boolean): void {
    if (on === this.down) return;
    this.down = on;
    if (on) for (const w of this.watchers) w.connected = false;
    else for (const w of this.watchers) this.relist(w, false);
  }

  /** The next `n` requests are answered 429 or 5xx. */
  failNext(n: number): void {
    this.failures += n;
  }

  /** Each request is answered 5xx with probability `fraction` (0 turns it off). */
  errorRate(fraction: number): void {
    this.rate = fraction;
  }

  count(verb: Verb): number {
    return this.requests.get(verb) ?? 0;
  }

  holder(name: string): string | undefined {
    return this.leases.get(name)?.holderIdentity;
  }

  lease(name: string): LeaseRecord | undefined {
    return this.leases.get(name);
  }

  /** The holder of each ownership Lease, by IP. */
  holders(): Map<string, string> {
    const out = new Map<string, string>();
    for (const lease of this.leases.values()) {
      const ip = lease.annotations[IP_ANNOTATION];
      if (ip !== undefined) out.set(ip, lease.holderIdentity);
    }
    return out;
  }

  /** A person runs `kubectl delete lease`. */
  deleteByHand(name: string): void {
    this.delete(name, undefined);
  }

  /** A person edits the Lease and empties its holder. */
  blankHolderByHand(name: string): void {
    const current = this.leases.get(name);
    if (current === undefined) throw new Error(`no lease ${name}`);
    const { annotations, leaseDurationSeconds } = current;
    this.put(name, { holderIdentity: '', annotations, leaseDurationSeconds });
  }

  /** Throws what the server answers a request it refuses. */
  private admit(verb: Verb): void {
    if (this.down) {
      this.refusals++;
      throw new LeaseStoreError('unavailable', 'connect ECONNREFUSED (API server outage)');
    }
    this.requests.set(verb, this.count(verb) + 1);
    if (this.injectedFailure()) throw new LeaseStoreError('unavailable', 'the server answered 500 (injected)');
  }

  /** Whether a 429/5xx is due now (consumes a failNext slot); counts it. */
  private injectedFailure(): boolean {
    if (this.failures > 0) this.failures--;
    else if (!(this.rate > 0 && this.random() < this.rate)) return false;
    this.refusals++;
    return true;
  }

  /**
   * The watch lists (first `PROMPT_BACKOFF` later when reconnecting, as the
   * informer retries) and delivers what changed since its cache: an upsert per
   * new or changed Lease, a delete per vanished one. A refused list retries.
   */
  private relist(watcher: Watcher, first: boolean): void {
    const { initialMs, maxMs } = PROMPT_BACKOFF;
    const delay = first ? API_LATENCY_MS : initialMs + this.random() * (maxMs - initialMs);
    this.scheduler.setTimer(delay, () => {
      if (!this.watchers.has(watcher) || this.down) return; // outage: the next one's end lists again
      this.requests.set('list', this.count('list') + 1);
      if (this.injectedFailure()) return this.relist(watcher, false);
      for (const lease of this.leases.values()) {
        if (lease.name.startsWith(NODE_LEASE_PREFIX)) continue;
        if (watcher.seen.get(lease.name) === lease.resourceVersion) continue;
        watcher.seen.set(lease.name, lease.resourceVersion);
        watcher.handlers.onUpsert(lease);
      }
      for (const name of [...watcher.seen.keys()]) {
        if (this.leases.has(name)) continue;
        watcher.seen.delete(name);
        watcher.handlers.onDelete(name);
      }
      watcher.connected = true;
      if (first) watcher.handlers.onSynced();
    });
  }

  private create(name: string, content: LeaseContent): LeaseRecord {
    if (this.leases.has(name)) throw new LeaseStoreError('exists', `leases "${name}" already exists`);
    return this.put(name, content);
  }

  private update(name: string, rv: string, content: LeaseContent): LeaseRecord {
    const current = this.leases.get(name);
    if (current === undefined) throw new LeaseStoreError('not-found', `leases "${name}" not found`);
    if (current.resourceVersion !== rv) {
      throw new LeaseStoreError('conflict', `leases "${name}": the object has been modified`);
    }
    return this.put(name, content);
  }

  private delete(name: string, rv: string | undefined): void {
    const current = this.leases.get(name);
    if (current === undefined) throw new LeaseStoreError('not-found', `leases "${name}" not found`);
    if (rv !== undefined && current.resourceVersion !== rv) {
      throw new LeaseStoreError('conflict', `leases "${name}": precondition failed`);
    }
    this.leases.delete(name);
    this.record(current, true);
    this.notify(name, (w) => {
      w.seen.delete(name);
      w.handlers.onDelete(name);
    });
  }

  private put(name: string, content: LeaseContent): LeaseRecord {
    const lease: LeaseRecord = {
      name,
      holderIdentity: content.holderIdentity,
      resourceVersion: String(this.version++),
      annotations: { ...content.annotations },
      ...(content.leaseDurationSeconds === undefined ? {} : { leaseDurationSeconds: content.leaseDurationSeconds }),
    };
    this.leases.set(name, lease);
    this.record(lease, false);
    this.notify(name, (w) => {
      w.seen.set(name, lease.resourceVersion);
      w.handlers.onUpsert(lease);
    });
    return lease;
  }

  private record(lease: LeaseRecord, deleted: boolean): void {
    const ip = lease.annotations[IP_ANNOTATION];
    if (ip === undefined) return;
    this.history.push({ ip, holder: lease.holderIdentity, resourceVersion: lease.resourceVersion, deleted });
  }

  private notify(name: string, deliver: (w: Watcher) => void): void {
    if (name.startsWith(NODE_LEASE_PREFIX)) return; // heartbeats reach no watch
    const watchers = [...this.watchers].filter((w) => w.connected);
    this.scheduler.setTimer(API_LATENCY_MS, () => {
      // A watch cut meanwhile never hears this; its re-list will.
      for (const w of watchers) if (this.watchers.has(w) && w.connected) deliver(w);
    });
  }
}

/** The real detector as the runtime's Liveness, over a simulated endpoint (what src/liveness/mesh.ts does over UDP). */
export class SimLiveness implements Liveness {
  private readonly listeners: (() => void)[] = [];
  private standing: (() => ApiStanding) | undefined;
  readonly detector: FailureDetector;

  constructor(
    private readonly address: string,
    scheduler: Scheduler,
    private readonly endpointOf: SimEndpoint,
    random: () => number,
    private readonly nodeAt: (address: string) => string,
  ) {
    this.detector = new FailureDetector({
      self: endpointOf.node,
      scheduler,
      transport: endpointOf,
      incarnation: 1000,
      random,
      apiStanding: () => this.standing?.() ?? { cutOff: false, steady: false },
      onChange: () => {
        for (const listener of this.listeners) listener();
      },
    });
    this.detector.start();
  }
  endpoint(): string {
    return formatEndpoint(this.address, 7947);
  }
  setMembers(members: readonly MeshPeer[]): void {
    // The simulated network delivers by node name.
    this.detector.setMembers(members.map((m) => ({ node: m.node, address: this.nodeAt(m.address), port: m.port })));
  }
  verdict(node: string): PeerVerdict {
    return this.detector.verdict(node);
  }
  isolated(): boolean {
    return this.detector.isolated();
  }
  quorumPossible(): boolean {
    return this.detector.status().quorumPossible;
  }
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
  setApiStanding(standing: () => ApiStanding): void {
    this.standing = standing;
  }
  leave(): void {
    this.detector.leave();
  }
  stop(): void {
    this.detector.stop();
    this.endpointOf.close();
  }
}

/**
 * The speaker's durations scaled down from 1 s / 3 s / 150 ms, as the tests
 * on the API server double run them (room for event-loop stalls of a loaded
 * machine); the tests moved from there to the virtual clock keep them.
 */
export const SCALED_TIMING = { heartbeatIntervalMs: 400, leaseDurationMs: 2000, staggerMs: 200 };

export interface VirtualTiming {
  heartbeatIntervalMs: number;
  leaseDurationMs: number;
  staggerMs: number;
  settleMs?: number;
}

export interface VirtualClusterOptions {
  seed: number;
  timing: VirtualTiming;
  /** The real failure detector on the simulated network judges the peers; without it, their heartbeat Leases do. */
  mesh: boolean;
  /** Instead: each speaker's liveness as the test sets it (a stand-in whose verdicts the test chooses). */
  liveness?: (node: string) => Liveness;
}

export interface VirtualSpeaker {
  node: string;
  runtime: SpeakerRuntime;
  wire: FakeWire;
  /** The speaker's own connection to the API (cut it with `severed`). */
  store: SeverableStore;
  liveness: Liveness | undefined;
  life: { killed: boolean };
  events: { reason: string; service: string; message: string }[];
}

export class VirtualCluster {
  readonly scheduler = new VirtualScheduler(0);
  readonly random: () => number;
  readonly network: SimNetwork;
  readonly store: VirtualLeaseStore;
  readonly segment = new FakeSegment();
  readonly speakers = new Map<string, VirtualSpeaker>();
  private readonly addresses = new Map<string, string>();

  constructor(private readonly options: VirtualClusterOptions) {
    this.random = seededRandom(options.seed);
    this.network = new SimNetwork({ scheduler: this.scheduler, random: this.random, latencyMs: 0.2, jitterMs: 0.3 });
    this.store = new VirtualLeaseStore(this.scheduler, this.random);
  }

  private nodeAt(address: string): string {
    return this.addresses.get(address) ?? address;
  }

  get timing(): VirtualTiming {
    return this.options.timing;
  }

  /** Runs the cluster for `ms` virtual milliseconds, or until `done()` holds; returns whether it held. */
  run(ms: number, done?: () => boolean): Promise<boolean> {
    return run(this.scheduler, ms, done);
  }

  /** Runs until `condition` holds; fails naming it when `limitMs` of virtual time pass first. */
  async until(what: string, condition: () => boolean, limitMs = 30_000): Promise<void> {
    if (!(await this.run(limitMs, condition))) throw new Error(`not within ${limitMs} virtual ms: ${what}`);
  }

  speaker(node: string): VirtualSpeaker {
    const speaker = this.speakers.get(node);
    if (speaker === undefined) throw new Error(`no speaker ${node}`);
    return speaker;
  }

  add(node: string): VirtualSpeaker {
    const index = this.speakers.size;
    const address = `192.0.2.${index + 11}`;
    this.addresses.set(address, node);
    const liveness = this.options.mesh
      ? new SimLiveness(address, this.scheduler, this.network.endpoint(node), this.random, (a) => this.nodeAt(a))
      : this.options.liveness?.(node);
    const life = { killed: false };
    const store = new SeverableStore(this.store.clientFor(() => life.killed));
    const wire = new FakeWire(this.segment, node, macOf(index));
    const events: VirtualSpeaker['events'] = [];
    const runtime = new SpeakerRuntime({
      node,
      store,
      wire,
      ...this.options.timing,
      interfaces: () => [{ ifname: 'eth0', mac: macOf(index) }],
      events: {
        emit: (service, _type, reason, message) =>
          events.push({ reason, service: `${service.namespace}/${service.name}`, message }),
      },
      liveness,
      scheduler: this.scheduler,
    });
    const speaker: VirtualSpeaker = { node, runtime, wire, store, liveness, life, events };
    runtime.start();
    this.speakers.set(node, speaker);
    return speaker;
  }

  /** kill -9: the process stops mid-flight (no goodbye, no API write); its answers stop with it. */
  kill(node: string): void {
    const speaker = this.speaker(node);
    speaker.life.killed = true;
    void speaker.runtime.abandon();
    speaker.liveness?.stop(); // abandon() stops it only after the renewal in flight, which a dead process never sees
    for (const [ip, nodes] of this.segment.answering) if (nodes.has(node)) this.segment.stop(node, ip);
  }

  /** Until every speaker sees every other live, then a lease duration and a heartbeat more (views complete). */
  async settle(): Promise<void> {
    const all = [...this.speakers.values()];
    const sees = (s: VirtualSpeaker, o: VirtualSpeaker) =>
      s.runtime.machine.isLive(o.node, this.scheduler.now()) && s.runtime.speakers().has(o.node);
    await this.until('the speakers to see each other', () => all.every((s) => all.every((o) => sees(s, o))), 10_000);
    await this.run(this.timing.leaseDurationMs + this.timing.heartbeatIntervalMs);
  }

  setCandidates(candidates: ReadonlyMap<string, IpCandidates>): void {
    for (const s of this.speakers.values()) s.runtime.setCandidates(candidates);
  }

  /**
   * As in a cluster: the speakers run (and see each other) before the
   * Services get their IPs; runs until each IP is answered.
   */
  async place(nodes: readonly string[], ips: readonly string[]): Promise<void> {
    for (const node of nodes) this.add(node);
    await this.settle();
    this.setCandidates(candidatesFor(ips, nodes));
    await this.until('every IP answered', () => ips.every((ip) => this.segment.ownerOf(ip) !== undefined));
  }

  owners(ips: readonly string[]): (string | undefined)[] {
    return ips.map((ip) => this.segment.ownerOf(ip));
  }

  /** Every IP answered by exactly one live node, and never by two at once so far. */
  exactlyOneEach(ips: readonly string[]): boolean {
    return ips.every((ip) => {
      const owner = this.segment.ownerOf(ip);
      if (owner === undefined || this.speakers.get(owner)?.life.killed === true) return false;
      return (this.segment.maxAnswering.get(ip) ?? 0) <= 1;
    });
  }

  /** Every IP answered by exactly one node, the one its Lease names. */
  consistent(ips: readonly string[]): boolean {
    const holders = this.store.holders();
    return ips.every((ip) => {
      const owner = this.segment.ownerOf(ip);
      return owner !== undefined && holders.get(ip) === owner;
    });
  }

  stopAll(): void {
    for (const s of this.speakers.values()) {
      s.life.killed = true;
      void s.runtime.abandon();
    }
  }
}
