import type { VirtualScheduler } from '../../src/clock/virtual.js';
import { AuthenticatedChannel } from '../../src/liveness/channel.js';
import type { KeyRing } from '../../src/liveness/keyring.js';
import type { LivenessTransport, Message, Peer } from '../../src/liveness/types.js';

// A simulated datagram network on the virtual clock: each datagram is lost
// with probability `loss`, else delivered after latency + uniform jitter
// (so datagrams can overtake each other). Links can be blocked one way or
// both, per pair, per node or all at once; a block applies to what is sent
// while it holds. With `authenticated`, datagrams go through the real codec,
// MAC and replay window (as over UDP); without, message objects pass as they
// are (the benchmark's fast path, same detector code).

export interface SimNetworkOptions {
  scheduler: VirtualScheduler;
  random: () => number;
  loss?: number;
  latencyMs?: number;
  jitterMs?: number;
}

export interface Datagram {
  from: string;
  to: Readonly<Peer>;
  message: Message;
  bytes: Buffer | undefined;
}

export class SimNetwork {
  loss: number;
  latencyMs: number;
  jitterMs: number;
  private readonly endpoints = new Map<string, SimEndpoint>();
  private readonly blocked = new Set<string>();
  private blockEverything = false;
  /** Datagrams sent by a node (lost ones included). */
  sentBy(node: string): number {
    return this.sentCells.get(node)?.count ?? 0;
  }
  private readonly sentCells = new Map<string, { count: number }>();
  delivered = 0;
  lost = 0;
  /** Sees every datagram put on the wire (for replay tests). */
  tap: ((d: Datagram) => void) | undefined;

  constructor(private readonly options: SimNetworkOptions) {
    this.loss = options.loss ?? 0;
    this.latencyMs = options.latencyMs ?? 0.2;
    this.jitterMs = options.jitterMs ?? 0;
  }

  /** The member entry a node publishes (address = its name in the simulation). */
  static peer(node: string): Peer {
    return { node, address: node, port: 7947 };
  }

  /** An endpoint for `node`; with keys, datagrams are sealed and opened by the real channel. */
  endpoint(node: string, auth?: { keys: KeyRing; isMember: (n: string) => boolean }): SimEndpoint {
    const channel = auth ? new AuthenticatedChannel({ keys: auth.keys, isMember: auth.isMember }) : undefined;
    let cell = this.sentCells.get(node);
    if (cell === undefined) {
      cell = { count: 0 };
      this.sentCells.set(node, cell);
    }
    const endpoint = new SimEndpoint(this, node, channel, cell);
    this.endpoints.set(node, endpoint);
    return endpoint;
  }

  /** Blocks datagrams from `from` to `to` (one way). */
  blockOneWay(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }
  /** Blocks both directions between a and b. */
  blockPair(a: string, b: string): void {
    this.blockOneWay(a, b);
    this.blockOneWay(b, a);
  }
  blockInbound(node: string): void {
    this.blocked.add(`*>${node}`);
  }
  blockOutbound(node: string): void {
    this.blocked.add(`${node}>*`);
  }
  blockAll(): void {
    this.blockEverything = true;
  }
  heal(): void {
    this.blocked.clear();
    this.blockEverything = false;
  }

  /** Puts raw bytes on the wire to `to` (a forged or replayed datagram). */
  inject(to: string, bytes: Buffer): void {
    this.options.scheduler.setTimer(this.latencyMs, () => this.endpoints.get(to)?.deliverBytes(bytes));
  }

  private isBlocked(from: string, to: string): boolean {
    if (this.blocked.size === 0) return this.blockEverything;
    return (
      this.blockEverything ||
      this.blocked.has(`${from}>${to}`) ||
      this.blocked.has(`*>${to}`) ||
      this.blocked.has(`${from}>*`)
    );
  }

  /** @internal */
  transmit(from: SimEndpoint, to: Readonly<Peer>, message: Message): void {
    from.sent.count++;
    const bytes = from.channel?.seal(message);
    this.tap?.({ from: from.node, to, message, bytes });
    const { random } = this.options;
    if (this.isBlocked(from.node, to.node) || (this.loss > 0 && random() < this.loss)) {
      this.lost++;
      return;
    }
    const target = this.endpoints.get(to.address);
    const delay = this.latencyMs + (this.jitterMs > 0 ? random() * this.jitterMs : 0);
    this.options.scheduler.setTimer(delay, () => this.arrive(target, message, bytes));
  }

  private arrive(target: SimEndpoint | undefined, message: Message, bytes: Buffer | undefined): void {
    if (target === undefined || target.closed) return;
    const now = this.options.scheduler.now();
    if (now < target.pausedUntil) {
      // The process is stalled: its socket queues the datagram; it is read after the stall, after the timers.
      this.options.scheduler.setTimer(target.pausedUntil - now + 0.001, () => this.arrive(target, message, bytes));
      return;
    }
    this.delivered++;
    if (bytes === undefined) target.deliver(message);
    else target.deliverBytes(bytes);
  }
}

export class SimEndpoint implements LivenessTransport {
  closed = false;
  /** Until this virtual time the node's process is stalled (see SimCluster.stall). */
  pausedUntil = Number.NEGATIVE_INFINITY;
  private handler: ((m: Message) => void) | undefined;

  constructor(
    private readonly network: SimNetwork,
    readonly node: string,
    readonly channel: AuthenticatedChannel | undefined,
    /** This node's datagram count, shared by its successive endpoints. */
    readonly sent: { count: number },
  ) {}

  send(to: Readonly<Peer>, message: Message): void {
    if (!this.closed) this.network.transmit(this, to, message);
  }

  onMessage(handler: (message: Message) => void): void {
    this.handler = handler;
  }

  close(): void {
    this.closed = true;
  }

  /** @internal */
  deliver(message: Message): void {
    this.handler?.(message);
  }

  /** @internal */
  deliverBytes(bytes: Buffer): void {
    if (this.closed || this.channel === undefined) return;
    const message = this.channel.open(bytes);
    if (message !== undefined) this.handler?.(message);
  }
}
