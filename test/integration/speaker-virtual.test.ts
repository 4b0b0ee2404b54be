// Real SpeakerRuntimes and real failure detectors on one virtual clock: an
// in-memory Lease store with the API server's compare-and-swap rules, the
// simulated datagram network of test/sim between the detectors, and the fake
// layer-2 segment of the speaker harness. Nothing sleeps: minutes of cluster
// life run in milliseconds, the same way on every run (seeded).
import { afterEach, describe, expect, it } from 'vitest';
import type { Scheduler } from '../../src/clock/scheduler.js';
import { VirtualScheduler } from '../../src/clock/virtual.js';
import { formatEndpoint, ipLeaseName, NODE_LEASE_PREFIX } from '../../src/api/leases.js';
import {
  LeaseStoreError,
  type LeaseContent,
  type LeaseRecord,
  type LeaseStore,
  type LeaseWatchHandlers,
  type ApiStanding,
  type Liveness,
  type MeshPeer,
} from '../../src/election/boundaries.js';
import type { PeerVerdict } from '../../src/election/types.js';
import { SpeakerRuntime } from '../../src/election/runtime.js';
import { FailureDetector } from '../../src/liveness/detector.js';
import { SimNetwork, type SimEndpoint } from '../sim/network.js';
import { seededRandom } from '../kube/faults.js';
import { candidatesFor, FakeSegment, FakeWire, ipRange, macOf } from './speaker-harness.js';

/** The speaker's defaults (docs/election.md): 10 s heartbeat, 40 s lease, 150 ms stagger, 1.2 s settle. */
const TIMING = { heartbeatIntervalMs: 10_000, leaseDurationMs: 40_000, staggerMs: 150, settleMs: 1200 };
/**
 * Runs the virtual clock one timer at a time for `ms` (or until `done()`), and
 * lets the promise continuations each timer started run before the next one,
 * as the event loop would: the runtime awaits its store calls.
 */
async function run(scheduler: VirtualScheduler, ms: number, done: () => boolean = () => false): Promise<boolean> {
  const end = scheduler.now() + ms;
  for (;;) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (done()) return true;
    if (scheduler.now() >= end) return false;
    const fired = scheduler.fired;
    scheduler.runUntilDone(() => scheduler.fired > fired, end - scheduler.now());
  }
}

/** One API round trip on the virtual clock. */
const API_LATENCY_MS = 2;

/**
 * Leases in memory with the API server's rules: every update and precondition
 * delete compares the resourceVersion (409 'conflict' when stale), a create of
 * an existing name fails with 'exists', and watchers hear each change one
 * round trip later, in order, through the scheduler (never synchronously).
 */
class VirtualLeaseStore {
  private readonly leases = new Map<string, LeaseRecord>();
  private version = 1;
  private readonly watchers = new Set<LeaseWatchHandlers>();

  constructor(private readonly scheduler: Scheduler) {}

  /** A store as one speaker sees it: `dead()` true makes its calls hang up (a killed process hears nothing). */
  clientFor(dead: () => boolean): LeaseStore {
    const call = <T>(op: () => T): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        this.scheduler.setTimer(API_LATENCY_MS, () => {
          if (dead()) return; // the process is gone: nobody awaits this answer
          try {
            resolve(op());
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      });
    return {
      get: (name) => call(() => this.leases.get(name)),
      listHeartbeats: () => call(() => [...this.leases.values()].filter((l) => l.name.startsWith(NODE_LEASE_PREFIX))),
      create: (name, content) => call(() => this.create(name, content)),
      update: (name, rv, content) => call(() => this.update(name, rv, content)),
      delete: (name, rv) => call(() => this.delete(name, rv)),
      watch: (handlers) => {
        const gated: LeaseWatchHandlers = {
          onUpsert: (lease) => dead() || handlers.onUpsert(lease),
          onDelete: (name) => dead() || handlers.onDelete(name),
          onSynced: () => dead() || handlers.onSynced(),
        };
        this.scheduler.setTimer(API_LATENCY_MS, () => {
          for (const lease of this.leases.values()) if (!lease.name.startsWith(NODE_LEASE_PREFIX)) gated.onUpsert(lease);
          gated.onSynced();
          this.watchers.add(gated);
        });
        return { stop: () => void this.watchers.delete(gated) };
      },
    };
  }

  holder(name: string): string | undefined {
    return this.leases.get(name)?.holderIdentity;
  }

  private create(name: string, content: LeaseContent): LeaseRecord {
    if (this.leases.has(name)) throw new LeaseStoreError('exists', `leases "${name}" already exists`);
    return this.put(name, content);
  }

  private update(name: string, rv: string, content: LeaseContent): LeaseRecord {
    const current = this.leases.get(name);
    if (current === undefined) throw new LeaseStoreError('not-found', `leases "${name}" not found`);
    if (current.resourceVersion !== rv) throw new LeaseStoreError('conflict', `leases "${name}": the object has been modified`);
    return this.put(name, content);
  }

  private delete(name: string, rv: string | undefined): void {
    const current = this.leases.get(name);
    if (current === undefined) throw new LeaseStoreError('not-found', `leases "${name}" not found`);
    if (rv !== undefined && current.resourceVersion !== rv) throw new LeaseStoreError('conflict', `leases "${name}": precondition failed`);
    this.leases.delete(name);
    this.notify((w) => w.onDelete(name), name);
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
    this.notify((w) => w.onUpsert(lease), name);
    return lease;
  }

  private notify(deliver: (w: LeaseWatchHandlers) => void, name: string): void {
    if (name.startsWith(NODE_LEASE_PREFIX)) return; // heartbeats reach no watch
    const watchers = [...this.watchers];
    this.scheduler.setTimer(API_LATENCY_MS, () => {
      for (const w of watchers) if (this.watchers.has(w)) deliver(w);
    });
  }
}

/** The real detector as the runtime's Liveness, over a simulated endpoint (what src/liveness/mesh.ts does over UDP). */
class SimLiveness implements Liveness {
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

interface VirtualSpeaker {
  node: string;
  runtime: SpeakerRuntime;
  liveness: SimLiveness;
  life: { killed: boolean };
}

class VirtualCluster {
  readonly scheduler = new VirtualScheduler(0);
  readonly random: () => number;
  readonly network: SimNetwork;
  readonly store: VirtualLeaseStore;
  readonly segment = new FakeSegment();
  readonly speakers = new Map<string, VirtualSpeaker>();
  private readonly addresses = new Map<string, string>();

  constructor(seed: number) {
    this.random = seededRandom(seed);
    this.network = new SimNetwork({ scheduler: this.scheduler, random: this.random, latencyMs: 0.2, jitterMs: 0.3 });
    this.store = new VirtualLeaseStore(this.scheduler);
  }

  add(node: string): VirtualSpeaker {
    const index = this.speakers.size;
    const address = `192.0.2.${index + 11}`;
    this.addresses.set(address, node);
    const liveness = new SimLiveness(address, this.scheduler, this.network.endpoint(node), this.random, (a) => this.addresses.get(a) ?? a);
    const life = { killed: false };
    const runtime = new SpeakerRuntime({
      node,
      store: this.store.clientFor(() => life.killed),
      wire: new FakeWire(this.segment, node, macOf(index)),
      ...TIMING,
      interfaces: () => [{ ifname: 'eth0', mac: macOf(index) }],
      liveness,
      scheduler: this.scheduler,
    });
    const speaker: VirtualSpeaker = { node, runtime, liveness, life };
    runtime.start();
    this.speakers.set(node, speaker);
    return speaker;
  }

  /** kill -9: the process stops mid-flight (no goodbye, no API write); its answers stop with it. */
  kill(node: string): void {
    const speaker = this.speakers.get(node);
    if (speaker === undefined) throw new Error(`no speaker ${node}`);
    speaker.life.killed = true;
    void speaker.runtime.abandon();
    speaker.liveness.stop(); // abandon() stops it only after the renewal in flight, which a dead process never sees
    for (const [ip, nodes] of this.segment.answering) if (nodes.has(node)) this.segment.stop(node, ip);
  }

  /** Places `ips` on `nodes` after the speakers have seen each other, and runs until each IP is answered. */
  async place(nodes: readonly string[], ips: readonly string[]): Promise<void> {
    for (const node of nodes) this.add(node);
    await run(this.scheduler, 2 * TIMING.heartbeatIntervalMs);
    for (const s of this.speakers.values()) s.runtime.setCandidates(candidatesFor(ips, nodes));
    const answered = await run(this.scheduler, 10_000, () => ips.every((ip) => this.segment.ownerOf(ip) !== undefined));
    if (!answered) throw new Error('not every IP was answered within 10 virtual seconds');
  }

  owners(ips: readonly string[]): (string | undefined)[] {
    return ips.map((ip) => this.segment.ownerOf(ip));
  }

  /** Every IP answered by exactly one live node, and never by two at once so far. */
  exactlyOneEach(ips: readonly string[]): boolean {
    return ips.every((ip) => {
      const owner = this.segment.ownerOf(ip);
      return owner !== undefined && !this.speakers.get(owner)?.life.killed && (this.segment.maxAnswering.get(ip) ?? 0) <= 1;
    });
  }

  stopAll(): void {
    for (const s of this.speakers.values()) {
      s.life.killed = true;
      void s.runtime.abandon();
    }
  }
}

const NODES = ['node-a', 'node-b', 'node-c', 'node-d'];
const IPS = ipRange(8);

describe('speakers on a virtual clock (real runtime, real detector, simulated network)', () => {
  let cluster: VirtualCluster | undefined;
  afterEach(() => {
    cluster?.stopAll();
    cluster = undefined;
  });

  it('kill -9 of an owner: the others take its IPs within a virtual second, one answer per IP', async () => {
    const c = (cluster = new VirtualCluster(7));
    await c.place(NODES, IPS);
    await run(c.scheduler, 5000);
    const victim = 'node-b';
    const lost = IPS.filter((ip) => c.segment.ownerOf(ip) === victim);
    expect(lost.length).toBeGreaterThan(0);
    const killedAt = c.scheduler.now();
    c.kill(victim);
    const replaced = await run(c.scheduler, 5000, () => lost.every((ip) => c.segment.ownerOf(ip) !== undefined));
    expect(replaced).toBe(true);
    expect(c.scheduler.now() - killedAt).toBeLessThan(1000);
    await run(c.scheduler, 60_000);
    expect(c.exactlyOneEach(IPS)).toBe(true);
    for (const ip of IPS) expect(c.store.holder(ipLeaseName(ip))).toBe(c.segment.ownerOf(ip));
  });

  it('UDP blocked between two nodes, API fine: nothing moves', async () => {
    const c = (cluster = new VirtualCluster(11));
    await c.place(NODES, IPS);
    await run(c.scheduler, 5000);
    const before = c.owners(IPS);
    c.network.blockPair('node-a', 'node-b');
    for (let minute = 0; minute < 5; minute++) {
      await run(c.scheduler, 60_000);
      expect(c.owners(IPS)).toEqual(before);
    }
    // The block held: node-a and node-b each suspect the other, and neither is dead to anyone.
    expect(c.network.lost).toBeGreaterThan(0);
    expect(c.speakers.get('node-a')?.liveness.verdict('node-b')).not.toBe('dead');
    expect(c.speakers.get('node-c')?.liveness.verdict('node-a')).toBe('alive');
    expect(c.exactlyOneEach(IPS)).toBe(true);
  });

  it('1% datagram loss for 10 virtual minutes: no ownership change', async () => {
    const c = (cluster = new VirtualCluster(23));
    await c.place(NODES, IPS);
    await run(c.scheduler, 5000);
    const before = c.owners(IPS);
    c.network.loss = 0.01;
    for (let minute = 0; minute < 10; minute++) {
      await run(c.scheduler, 60_000);
      expect(c.owners(IPS)).toEqual(before);
    }
    expect(c.network.lost).toBeGreaterThan(0);
    expect(c.exactlyOneEach(IPS)).toBe(true);
  });
});
