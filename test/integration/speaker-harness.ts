// Several speaker runtimes in one process against the API server double, on
// a fake layer-2 segment that records who answers for which IP at every
// instant and delivers each announcement to the other speakers' wire fences.
import type { V1Lease } from '@kubernetes/client-node';
import type { IpCandidates } from '../../src/election/candidates.js';
import { IP_ANNOTATION } from '../../src/api/leases.js';
import {
  LeaseStoreError,
  type ApiStanding,
  type LeaseContent,
  type LeaseRecord,
  type LeaseStore,
  type LeaseWatchHandlers,
  type Liveness,
  type MeshPeer,
  type Wire,
} from '../../src/election/boundaries.js';
import type { PeerVerdict } from '../../src/election/types.js';
import { SpeakerRuntime } from '../../src/election/runtime.js';
import { createKubeClient } from '../../src/kube/client.js';
import { createInformer } from '../../src/kube/informer.js';
import { leasesKind } from '../../src/kube/resources.js';
import { KubeSpeakerLeaseStore } from '../../src/kube/speaker-leases.js';
import { silentLogger } from '../../src/log/logger.js';
import { SpeakerView } from '../../src/kube/speaker-view.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { sleep, waitFor } from '../wait.js';

export const NS = 'ironlb-system';
/**
 * Durations scaled down from 1 s / 3 s / 150 ms, yet with room for a loaded CI
 * machine (event-loop stalls of a few hundred ms must not look like deaths).
 */
export const TIMING = { heartbeatIntervalMs: 400, leaseDurationMs: 2000, staggerMs: 200 };

export function macOf(index: number): string {
  return `02:00:5e:00:53:${(index + 1).toString(16).padStart(2, '0')}`;
}

/**
 * The shared segment: who answers for each IP now, and the worst overlap ever
 * heard. A node whose link is down answers nobody; it counts again the moment
 * its link is back (its responder never stopped unless the speaker withdrew).
 */
export class FakeSegment {
  readonly answering = new Map<string, Set<string>>();
  readonly maxAnswering = new Map<string, number>();
  readonly log: { node: string; ip: string; on: boolean }[] = [];
  private readonly wires: FakeWire[] = [];

  attach(wire: FakeWire): void {
    this.wires.push(wire);
  }

  start(node: string, ip: string, mac: string, from: FakeWire): void {
    const set = this.answering.get(ip) ?? new Set();
    set.add(node);
    this.answering.set(ip, set);
    this.log.push({ node, ip, on: true });
    this.recount(ip);
    // The gratuitous announcement reaches every other host on the segment.
    for (const wire of this.wires) if (wire !== from && wire.linkUp) wire.hear(ip, mac);
  }

  stop(node: string, ip: string): void {
    if (this.answering.get(ip)?.delete(node)) this.log.push({ node, ip, on: false });
  }

  /** A host that is no speaker claims `ip` on the segment (gratuitous ARP from `mac`). */
  inject(ip: string, mac: string): void {
    for (const wire of this.wires) if (wire.linkUp) wire.hear(ip, mac);
  }

  /** The MAC of a node other than `asker` whose answer for `ip` reaches the segment. */
  answerFor(ip: string, asker: FakeWire): string | undefined {
    return this.audible(ip).find((w) => w !== asker)?.mac;
  }

  /** A wire's link changed: its answers reach the segment again, or stop reaching it. */
  linkChanged(): void {
    for (const ip of this.answering.keys()) this.recount(ip);
  }

  ownerOf(ip: string): string | undefined {
    const heard = this.audible(ip);
    return heard.length === 1 ? heard[0]?.node : undefined;
  }

  /** Every IP answered by exactly one node: node -> count. */
  spread(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const ip of this.answering.keys()) {
      const owner = this.ownerOf(ip);
      if (owner !== undefined) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    return counts;
  }

  private audible(ip: string): FakeWire[] {
    const nodes = this.answering.get(ip) ?? new Set();
    return this.wires.filter((w) => w.linkUp && nodes.has(w.node));
  }

  private recount(ip: string): void {
    this.maxAnswering.set(ip, Math.max(this.maxAnswering.get(ip) ?? 0, this.audible(ip).length));
  }
}

export class FakeWire implements Wire {
  private up = true;
  private listener: ((ip: string, mac: string) => void) | undefined;
  private linkListener: ((ifname: string, up: boolean) => void) | undefined;
  private readonly mine = new Set<string>();

  constructor(
    private readonly segment: FakeSegment,
    readonly node: string,
    readonly mac: string,
  ) {
    segment.attach(this);
  }

  get linkUp(): boolean {
    return this.up;
  }

  /** Takes the node's link down or up, as the speaker's link poll would report it. */
  setLink(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    this.segment.linkChanged();
    this.linkListener?.('eth0', up);
  }

  announce(ip: string): Promise<{ conflictMac?: string }> {
    this.mine.add(ip);
    this.segment.start(this.node, ip, this.mac, this);
    return Promise.resolve({});
  }

  withdraw(ip: string): void {
    this.mine.delete(ip);
    this.segment.stop(this.node, ip);
  }

  onClaim(listener: (ip: string, mac: string) => void): void {
    this.listener = listener;
  }

  check(ip: string): Promise<{ mac?: string }> {
    if (!this.up) return Promise.reject(new Error('link down: no probe sent'));
    const mac = this.segment.answerFor(ip, this);
    return Promise.resolve(mac === undefined ? {} : { mac });
  }

  onLink(listener: (ifname: string, up: boolean) => void): void {
    this.linkListener = listener;
  }

  ipsOn(): string[] {
    return [...this.mine];
  }

  hear(ip: string, mac: string): void {
    this.listener?.(ip, mac);
  }
}

/**
 * A lease store that can be cut off from the API server: every call fails and
 * the watch goes silent; reconnected, the watch catches up on what it missed
 * (as an informer resuming from its last resourceVersion does).
 */
export class SeverableStore implements LeaseStore {
  private cut = false;
  private readonly missed: (() => void)[] = [];
  constructor(private readonly inner: LeaseStore) {}
  get severed(): boolean {
    return this.cut;
  }
  set severed(value: boolean) {
    this.cut = value;
    if (!value) for (const deliver of this.missed.splice(0)) deliver();
  }
  private check(): void {
    if (this.severed) throw new LeaseStoreError('unavailable', 'connection refused (severed by the test)');
  }
  async get(name: string) {
    this.check();
    return this.inner.get(name);
  }
  async listHeartbeats() {
    this.check();
    return this.inner.listHeartbeats();
  }
  async create(name: string, content: LeaseContent) {
    this.check();
    return this.inner.create(name, content);
  }
  async update(name: string, rv: string, content: LeaseContent) {
    this.check();
    return this.inner.update(name, rv, content);
  }
  async delete(name: string, rv?: string) {
    this.check();
    return this.inner.delete(name, rv);
  }
  watch(handlers: LeaseWatchHandlers) {
    const gate = (deliver: () => void) => (this.cut ? this.missed.push(deliver) : deliver());
    return this.inner.watch({
      onUpsert: (lease: LeaseRecord) => gate(() => handlers.onUpsert(lease)),
      onDelete: (name) => gate(() => handlers.onDelete(name)),
      onSynced: handlers.onSynced,
    });
  }
}

export interface TestSpeaker {
  node: string;
  runtime: SpeakerRuntime;
  wire: FakeWire;
  store: SeverableStore;
  events: { reason: string; service: string; message: string }[];
}

export class Cluster {
  readonly segment = new FakeSegment();
  readonly speakers = new Map<string, TestSpeaker>();
  /** Every ownership Lease state the double ever showed through a watch, in order. */
  readonly leaseHistory: { ip: string; holder: string; resourceVersion: string; deleted: boolean }[] = [];
  private stopRecorder: (() => Promise<void>) | undefined;
  private readonly views: SpeakerView[] = [];

  private constructor(
    readonly server: ApiServer,
    readonly timing: typeof TIMING,
  ) {}

  static async start(timing: Partial<typeof TIMING> = {}): Promise<Cluster> {
    const server = await startApiServer({ namespaces: [NS] });
    const cluster = new Cluster(server, { ...TIMING, ...timing });
    const informer = createInformer(createKubeClient({ kubeConfig: server.kubeConfig }), leasesKind(NS), { backoff: { initialMs: 20, maxMs: 100 } });
    const record = (deleted: boolean) => (lease: V1Lease) => {
      const ip = lease.metadata?.annotations?.[IP_ANNOTATION];
      if (ip === undefined) return;
      cluster.leaseHistory.push({ ip, holder: lease.spec?.holderIdentity ?? '', resourceVersion: lease.metadata?.resourceVersion ?? '', deleted });
    };
    informer.on({ onAdd: record(false), onUpdate: record(false), onDelete: record(true) });
    informer.start();
    await informer.waitForSync();
    cluster.stopRecorder = () => informer.stop();
    return cluster;
  }

  /**
   * A speaker whose candidates come from its own caches of Services, Nodes,
   * pools, L2Advertisements and EndpointSlices (the real wiring of speaker/).
   */
  async addSpeakerWithView(node: string): Promise<TestSpeaker> {
    let view: SpeakerView | undefined;
    const speaker = this.addSpeaker(node, undefined, (published) => view?.setSpeakerInterfaces(published));
    view = new SpeakerView({
      client: createKubeClient({ kubeConfig: this.server.kubeConfig }),
      namespace: NS,
      logger: silentLogger(),
      informerOptions: { backoff: { initialMs: 20, maxMs: 100 } },
      onCandidates: (candidates) => speaker.runtime.setCandidates(candidates),
    });
    view.setSpeakerInterfaces(speaker.runtime.speakers());
    await view.start();
    this.views.push(view);
    return speaker;
  }

  addSpeaker(
    node: string,
    candidates?: ReadonlyMap<string, IpCandidates>,
    onSpeakersChanged?: (published: ReadonlyMap<string, readonly string[]>) => void,
    liveness?: Liveness,
  ): TestSpeaker {
    const index = this.speakers.size;
    const client = createKubeClient({ kubeConfig: this.server.kubeConfig, requestTimeoutMs: 2000 });
    const store = new SeverableStore(new KubeSpeakerLeaseStore(client, NS, { backoff: { initialMs: 20, maxMs: 100 } }));
    const wire = new FakeWire(this.segment, node, macOf(index));
    const events: TestSpeaker['events'] = [];
    const runtime = new SpeakerRuntime({
      node,
      store,
      wire,
      ...this.timing,
      interfaces: () => [{ ifname: 'eth0', mac: macOf(index) }],
      events: { emit: (service, _type, reason, message) => events.push({ reason, service: `${service.namespace}/${service.name}`, message }) },
      onSpeakersChanged,
      liveness,
      settleMs: liveness === undefined ? undefined : 500,
    });
    if (candidates !== undefined) runtime.setCandidates(candidates);
    runtime.start();
    const speaker = { node, runtime, wire, store, events };
    this.speakers.set(node, speaker);
    return speaker;
  }

  /** Until every speaker sees every other live, then one lease-duration more (their views are complete). */
  async settled(): Promise<void> {
    const all = [...this.speakers.values()];
    await until(() => all.every((s) => all.every((o) => s.runtime.machine.isLive(o.node, performance.now()) && s.runtime.speakers().has(o.node))), 10_000, 'speakers to see each other');
    await sleep(this.timing.leaseDurationMs + this.timing.heartbeatIntervalMs);
  }

  setCandidates(candidates: ReadonlyMap<string, IpCandidates>): void {
    for (const s of this.speakers.values()) s.runtime.setCandidates(candidates);
  }

  /** As in a cluster: the speakers run (and see each other) before the Services get their IPs; waits until every IP is answered. */
  async place(nodes: readonly string[], ips: readonly string[]): Promise<void> {
    for (const node of nodes) this.addSpeaker(node);
    await this.settled();
    this.setCandidates(candidatesFor(ips, nodes));
    await until(() => ips.every((ip) => this.segment.ownerOf(ip) !== undefined), 30_000, 'every IP answered');
  }

  /** The holder of each ownership Lease, straight from the double. */
  async holders(): Promise<Map<string, string>> {
    const client = createKubeClient({ kubeConfig: this.server.kubeConfig });
    const list = await client.coordination.listNamespacedLease({ namespace: NS });
    const result = new Map<string, string>();
    for (const lease of list.items) {
      const ip = lease.metadata?.annotations?.[IP_ANNOTATION];
      if (ip !== undefined) result.set(ip, lease.spec?.holderIdentity ?? '');
    }
    return result;
  }

  async close(): Promise<void> {
    for (const s of this.speakers.values()) await s.runtime.abandon();
    for (const v of this.views) await v.stop();
    await this.stopRecorder?.();
    await this.server.faults.reset();
    await this.server.close();
  }
}

/**
 * The mesh as one speaker sees it, set by the test: per-peer verdicts (default
 * 'alive' for every member), whether this node is isolated, whether a quorum
 * is possible. The real detector is tested on its own (test/unit/liveness).
 */
export class FakeMesh implements Liveness {
  readonly verdicts = new Map<string, PeerVerdict>();
  members: readonly MeshPeer[] = [];
  isolatedNow = false;
  quorum = true;
  left = false;
  /** What the runtime says of its standing with the API server (the real mesh puts it in its heartbeats). */
  apiStanding: (() => ApiStanding) | undefined;
  private readonly listeners: (() => void)[] = [];

  constructor(readonly node: string) {}
  endpoint(): string {
    return '192.0.2.1:7947';
  }
  setMembers(members: readonly MeshPeer[]): void {
    this.members = members;
  }
  verdict(node: string): PeerVerdict {
    if (this.isolatedNow || !this.quorum) return 'unknown';
    return this.verdicts.get(node) ?? 'alive';
  }
  isolated(): boolean {
    return this.isolatedNow;
  }
  quorumPossible(): boolean {
    return this.quorum;
  }
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
  setApiStanding(standing: () => ApiStanding): void {
    this.apiStanding = standing;
  }
  leave(): void {
    this.left = true;
  }
  stop(): void {}
  /** Changes what this speaker's mesh says, and tells the speaker. */
  set(change: { verdicts?: Record<string, PeerVerdict>; isolated?: boolean }): void {
    for (const [node, verdict] of Object.entries(change.verdicts ?? {})) this.verdicts.set(node, verdict);
    if (change.isolated !== undefined) this.isolatedNow = change.isolated;
    for (const listener of this.listeners) listener();
  }
}

/** Candidates for `ips`, each eligible on `nodes`, owned by one Service per IP. */
export function candidatesFor(ips: readonly string[], nodes: readonly string[]): Map<string, IpCandidates> {
  return new Map(ips.map((ip, i) => [ip, { eligible: new Set(nodes), services: [{ namespace: 'default', name: `svc-${i}` }], pool: 'pool' }]));
}

export function ipRange(count: number, prefix = '198.51.100.'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes (generous: behaviour, not speed). */
export function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  return waitFor(what, condition, timeoutMs, 20);
}

export { sleep };
