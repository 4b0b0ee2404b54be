// The layer-2 side of several speakers in one process, shared by the harness
// on the API server double (test/integration/speaker-harness.ts) and the one
// on the virtual clock (./speakers.ts): a fake segment that records who
// answers for which IP at every instant and delivers each announcement to the
// other speakers' wire fences; a lease store that can be cut off from the API;
// candidates for a range of IPs.
import type { IpCandidates } from '../../src/election/candidates.js';
import {
  LeaseStoreError,
  type LeaseContent,
  type LeaseRecord,
  type LeaseStore,
  type LeaseWatchHandlers,
  type Wire,
} from '../../src/election/boundaries.js';

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

/** Candidates for `ips`, each eligible on `nodes`, owned by one Service per IP. */
export function candidatesFor(ips: readonly string[], nodes: readonly string[]): Map<string, IpCandidates> {
  const service = (i: number) => ({ namespace: 'default', name: `svc-${i}` });
  return new Map(ips.map((ip, i) => [ip, { eligible: new Set(nodes), services: [service(i)], pool: 'pool' }]));
}

export function ipRange(count: number, prefix = '198.51.100.'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
}
