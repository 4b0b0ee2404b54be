// Several speaker runtimes in one process against the API server double, on
// the fake layer-2 segment of test/sim/segment.ts. The speaker tests that need
// no HTTP run on the virtual clock instead (test/sim/speakers.ts).
import type { V1Lease } from '@kubernetes/client-node';
import type { IpCandidates } from '../../src/election/candidates.js';
import { IP_ANNOTATION } from '../../src/api/leases.js';
import type { ApiStanding, Liveness, MeshPeer } from '../../src/election/boundaries.js';
import type { PeerVerdict } from '../../src/election/types.js';
import { SpeakerRuntime } from '../../src/election/runtime.js';
import { createKubeClient } from '../../src/kube/client.js';
import { createInformer } from '../../src/kube/informer.js';
import { leasesKind } from '../../src/kube/resources.js';
import { KubeSpeakerLeaseStore } from '../../src/kube/speaker-leases.js';
import { silentLogger } from '../../src/log/logger.js';
import { SpeakerView } from '../../src/kube/speaker-view.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { candidatesFor, FakeSegment, FakeWire, macOf, SeverableStore } from '../sim/segment.js';
import { SCALED_TIMING } from '../sim/speakers.js';
import { waitFor } from '../wait.js';

export { candidatesFor, FakeSegment, FakeWire, ipRange, macOf, SeverableStore } from '../sim/segment.js';
export const NS = 'ironlb-system';
/** The speaker's durations scaled down for the wall clock (test/sim/speakers.ts says why). */
export const TIMING = SCALED_TIMING;

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
    const informer = createInformer(createKubeClient({ kubeConfig: server.kubeConfig }), leasesKind(NS), {
      backoff: { initialMs: 20, maxMs: 100 },
    });
    const record = (deleted: boolean) => (lease: V1Lease) => {
      const ip = lease.metadata?.annotations?.[IP_ANNOTATION];
      if (ip === undefined) return;
      cluster.leaseHistory.push({
        ip,
        holder: lease.spec?.holderIdentity ?? '',
        resourceVersion: lease.metadata?.resourceVersion ?? '',
        deleted,
      });
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
      events: {
        emit: (service, _type, reason, message) =>
          events.push({ reason, service: `${service.namespace}/${service.name}`, message }),
      },
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

  /**
   * Until every speaker sees every other live and as a speaker, and sees its
   * own heartbeat come back from the API server: their views are complete.
   */
  async settled(): Promise<void> {
    const all = [...this.speakers.values()];
    const sees = (s: TestSpeaker, o: TestSpeaker) =>
      s.runtime.machine.isLive(o.node, performance.now()) && s.runtime.speakers().has(o.node);
    const complete = () => all.every((s) => s.runtime.isApiReachable() && all.every((o) => sees(s, o)));
    await until(complete, 10_000, 'speakers to see each other');
  }

  setCandidates(candidates: ReadonlyMap<string, IpCandidates>): void {
    for (const s of this.speakers.values()) s.runtime.setCandidates(candidates);
  }

  /**
   * As in a cluster: the speakers run (and see each other) before the Services get their IPs; waits until every IP is
   * answered.
   */
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

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes (generous: behaviour, not speed). */
export function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  return waitFor(what, condition, timeoutMs, 20);
}
