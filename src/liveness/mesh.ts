import type { ApiStanding, Liveness, MeshPeer } from '../election/boundaries.js';
import type { PeerVerdict } from '../election/types.js';
import { formatEndpoint } from '../api/leases.js';
import { realScheduler, type Scheduler } from '../clock/scheduler.js';
import { AuthenticatedChannel } from './channel.js';
import type { DropReason } from './codec.js';
import { FailureDetector } from './detector.js';
import { KeyRing } from './keyring.js';
import { UdpTransport } from './udp.js';

// The failure detector as the election sees it (Liveness, src/election/boundaries.ts): the
// UDP transport, the authenticated channel and the detector, started once the
// cluster key is known. Until then, and after stop, every peer is 'unknown'
// (judged by its heartbeat Lease).

export interface MeshOptions {
  self: string;
  /** The address peers reach this node on (the node's InternalIP). */
  address: string;
  port: number;
  intervalMs?: number;
  detectMultiplier?: number;
  scheduler?: Scheduler;
  onDrop?: (reason: DropReason) => void;
  onError?: (error: Error) => void;
}

export class MeshLiveness implements Liveness {
  private detector: FailureDetector | undefined;
  private transport: UdpTransport | undefined;
  private keys: KeyRing | undefined;
  private members: readonly MeshPeer[] = [];
  private readonly memberNames = new Set<string>();
  private readonly listeners: (() => void)[] = [];
  private stopped = false;
  private apiStanding: (() => ApiStanding) | undefined;

  constructor(private readonly options: MeshOptions) {}

  /** Opens the port and starts the detector with the cluster keys (newest first). Throws PortInUseError. */
  async start(keys: readonly Buffer[]): Promise<void> {
    if (this.detector !== undefined || this.stopped) return;
    this.keys = new KeyRing(keys);
    const channel = new AuthenticatedChannel({
      keys: this.keys,
      isMember: (node) => this.memberNames.has(node),
      onDrop: this.options.onDrop,
    });
    this.transport = await UdpTransport.open({ port: this.options.port, channel, onError: this.options.onError });
    this.detector = new FailureDetector({
      self: this.options.self,
      scheduler: this.options.scheduler ?? realScheduler(),
      transport: this.transport,
      intervalMs: this.options.intervalMs,
      detectMultiplier: this.options.detectMultiplier,
      // Read at every use, so a standing set after the start still counts.
      apiStanding: () => this.apiStanding?.() ?? { cutOff: false, steady: false },
      onChange: () => this.changed(),
    });
    this.detector.setMembers(this.members);
    this.detector.start();
    this.changed();
  }

  /** A rotated Secret: verify with every key, sign with the newest once adopted. */
  setKeys(keys: readonly Buffer[]): void {
    this.keys?.set([...keys]);
  }

  get started(): boolean {
    return this.detector !== undefined;
  }

  endpoint(): string {
    return formatEndpoint(this.options.address, this.options.port);
  }

  setMembers(members: readonly MeshPeer[]): void {
    this.members = members;
    this.memberNames.clear();
    for (const m of members) this.memberNames.add(m.node);
    try {
      this.detector?.setMembers(members);
    } catch (err) {
      this.options.onError?.(err instanceof Error ? err : new Error(String(err)));
    }
  }

  setApiStanding(standing: () => ApiStanding): void {
    this.apiStanding = standing;
  }

  verdict(node: string): PeerVerdict {
    return this.detector?.verdict(node) ?? 'unknown';
  }

  isolated(): boolean {
    return this.detector?.isolated() ?? false;
  }

  quorumPossible(): boolean {
    return this.detector?.status().quorumPossible ?? false;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Datagrams sent and received so far (for the metrics). */
  datagrams(): { sent: number; received: number } {
    return { sent: this.transport?.counters.sent ?? 0, received: this.transport?.counters.received ?? 0 };
  }

  leave(): void {
    this.detector?.leave();
  }

  stop(): void {
    this.stopped = true;
    this.detector?.stop();
    this.transport?.close();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
