import type { Scheduler } from '../../src/clock/scheduler.js';
import type { ApiStanding } from '../../src/election/boundaries.js';
import { VirtualScheduler } from '../../src/clock/virtual.js';
import { FailureDetector, type FailureDetectorOptions, type LivenessEvent } from '../../src/liveness/detector.js';
import type { KeyRing } from '../../src/liveness/keyring.js';
import type { Peer, Verdict } from '../../src/liveness/types.js';
import { SimNetwork, type SimEndpoint } from './network.js';
import { seededRandom } from '../kube/faults.js';

// Speakers' failure detectors on one simulated network and virtual clock:
// start them, kill or restart one, and watch what each concludes.

export interface SimClusterOptions {
  nodes: string[];
  seed?: number;
  loss?: number;
  latencyMs?: number;
  jitterMs?: number;
  /** Each node's key ring (datagrams then go through the real codec and MAC). */
  keys?: (node: string) => KeyRing;
  detector?: Partial<
    Pick<
      FailureDetectorOptions,
      'intervalMs' | 'detectMultiplier' | 'monitors' | 'quorum' | 'assignmentGraceMs' | 'relayRounds'
    >
  >;
  onEvent?: (observer: string, event: LivenessEvent) => void;
}

export class SimCluster {
  readonly scheduler = new VirtualScheduler(0);
  readonly random: () => number;
  readonly network: SimNetwork;
  readonly detectors = new Map<string, FailureDetector>();
  readonly endpoints = new Map<string, SimEndpoint>();
  /** Nodes whose detector runs. */
  readonly running = new Set<string>();
  members: string[];
  /** Incidents where a quorum declared a running node dead: "node@incarnation". */
  readonly falseDeaths = new Set<string>();
  /** Each node's standing with the API server (default: steady); change it at any time. */
  readonly apiStanding = new Map<string, ApiStanding>();

  constructor(private readonly options: SimClusterOptions) {
    this.random = seededRandom(options.seed ?? 1);
    this.network = new SimNetwork({
      scheduler: this.scheduler,
      random: this.random,
      loss: options.loss ?? 0,
      latencyMs: options.latencyMs ?? 0.2,
      jitterMs: options.jitterMs ?? 0,
    });
    this.members = [...options.nodes];
    for (const node of options.nodes) this.create(node);
  }

  private create(node: string, incarnation?: number): FailureDetector {
    const keys = this.options.keys?.(node);
    const endpoint = this.network.endpoint(
      node,
      keys ? { keys, isMember: (n) => this.members.includes(n) } : undefined,
    );
    // The node's own view of the clock: its timers wait while its process is stalled.
    const inner = this.scheduler;
    const gate = (fn: () => void) => {
      const wait = endpoint.pausedUntil - inner.now();
      if (wait > 0) inner.setTimer(wait, () => gate(fn));
      else fn();
    };
    const scheduler: Scheduler = { now: () => inner.now(), setTimer: (ms, fn) => inner.setTimer(ms, () => gate(fn)) };
    const detector = new FailureDetector({
      ...this.options.detector,
      self: node,
      scheduler,
      transport: endpoint,
      // Later runs of a node get higher incarnations, as Date.now() gives a real one.
      incarnation: incarnation ?? 1000 + Math.floor(this.scheduler.now()),
      random: this.random,
      apiStanding: () => this.apiStanding.get(node) ?? { cutOff: false, steady: true },
      onChange: (event) => {
        if (
          event.type === 'verdict' &&
          event.verdict === 'dead' &&
          event.reason === 'confirmed' &&
          this.running.has(event.node)
        ) {
          const victim = this.detectors.get(event.node);
          this.falseDeaths.add(`${event.node}@${victim?.incarnation ?? '?'}`);
        }
        this.options.onEvent?.(node, event);
      },
    });
    detector.setMembers(this.peerList());
    this.detectors.set(node, detector);
    this.endpoints.set(node, endpoint);
    return detector;
  }

  detector(node: string): FailureDetector {
    const d = this.detectors.get(node);
    if (d === undefined) throw new Error(`no node ${node}`);
    return d;
  }

  startAll(): void {
    for (const node of this.members) this.start(node);
  }

  start(node: string): void {
    this.detector(node).start();
    this.running.add(node);
  }

  /** The process dies: no more datagrams in or out, no goodbye. */
  kill(node: string): void {
    this.detector(node).stop();
    this.endpoints.get(node)?.close();
    this.running.delete(node);
  }

  /** The node's process stops running for `ms` (a long GC pause, a CPU-starved event loop), then goes on. */
  stall(node: string, ms: number): void {
    const endpoint = this.endpoints.get(node);
    if (endpoint) endpoint.pausedUntil = this.scheduler.now() + ms;
  }

  /** SIGTERM: the node says goodbye, then stops. */
  leave(node: string): void {
    this.detector(node).leave();
    this.endpoints.get(node)?.close();
    this.running.delete(node);
  }

  /** A new process for a node (a new incarnation). */
  /** A new process for `node`; `incarnation` below its last life's models a wall clock that went backwards. */
  restart(node: string, incarnation?: number): FailureDetector {
    if (this.running.has(node)) this.kill(node);
    const detector = this.create(node, incarnation);
    this.start(node);
    return detector;
  }

  /** Feeds a new member list to every running detector (as node Lease watches would). */
  setMembers(nodes: string[]): void {
    this.members = [...nodes];
    for (const node of nodes) if (!this.detectors.has(node)) this.create(node);
    for (const node of this.running) this.detector(node).setMembers(this.peerList());
  }

  /** Feeds one node its own view of the members (creating its detector if new). */
  setMembersOf(node: string, nodes: string[]): void {
    if (!this.detectors.has(node)) this.create(node);
    this.detector(node).setMembers(nodes.map((n) => Object.freeze(SimNetwork.peer(n))));
  }

  /** One shared, frozen member list (as one Lease watch result would be). */
  private peerList(): Readonly<Peer>[] {
    if (this.peersCache?.members !== this.members)
      this.peersCache = { members: this.members, peers: this.members.map((n) => Object.freeze(SimNetwork.peer(n))) };
    return this.peersCache.peers;
  }
  private peersCache: { members: string[]; peers: Readonly<Peer>[] } | undefined;

  /** What every running node other than `node` says about it. */
  verdictsOn(node: string): Map<string, Verdict> {
    const out = new Map<string, Verdict>();
    for (const observer of this.running)
      if (observer !== node) out.set(observer, this.detector(observer).verdict(node));
    return out;
  }

  /** Whether every running node other than `node` says `verdict` about it. */
  allSay(node: string, verdict: Verdict): boolean {
    for (const v of this.verdictsOn(node).values()) if (v !== verdict) return false;
    return true;
  }

  /** Nodes some running peer holds dead although they run. */
  wronglyDead(): string[] {
    const out = new Set<string>();
    for (const observer of this.running)
      for (const node of this.running)
        if (node !== observer && this.detector(observer).verdict(node) === 'dead') out.add(node);
    return [...out];
  }
}
