// What the speaker runtime needs from the outside world. src/kube implements
// the lease store, the layer-2 module the wire, src/liveness the mesh; tests
// hand in doubles.
import type { PeerVerdict } from './types.js';

/** A Lease as the election sees it. */
export interface LeaseRecord {
  name: string;
  holderIdentity: string;
  resourceVersion: string;
  annotations: Readonly<Record<string, string>>;
  /** Heartbeat Leases: how long their writer promises to renew within. */
  leaseDurationSeconds?: number;
}

/** The whole desired content of a Lease written by the speaker. */
export interface LeaseContent {
  holderIdentity: string;
  /** Set on heartbeat Leases only. */
  leaseDurationSeconds?: number;
  annotations: Readonly<Record<string, string>>;
  /** Stamp renewTime (heartbeats) — acquireTime is stamped whenever the holder changes. */
  renew?: boolean;
}

export type LeaseStoreErrorKind =
  /** 409 on update/delete: the resourceVersion moved on. */
  | 'conflict'
  /** 409 on create: someone created it first. */
  | 'exists'
  | 'not-found'
  /** Anything else: 429, 5xx, timeouts, connection refused. */
  | 'unavailable';

export class LeaseStoreError extends Error {
  constructor(
    readonly kind: LeaseStoreErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'LeaseStoreError';
  }
}

export interface LeaseWatchHandlers {
  onUpsert(lease: LeaseRecord): void;
  onDelete(name: string): void;
  /** After the first full list has been delivered. */
  onSynced(): void;
}

/** Leases of the ironlb namespace. Every write is a compare-and-swap; errors are LeaseStoreError. */
export interface LeaseStore {
  /** Straight from the API server (not a cache); undefined when absent. */
  get(name: string): Promise<LeaseRecord | undefined>;
  /** Every speaker's heartbeat Lease (`ironlb-node-*`), straight from the API server. */
  listHeartbeats(): Promise<LeaseRecord[]>;
  create(name: string, content: LeaseContent): Promise<LeaseRecord>;
  update(name: string, expectedResourceVersion: string, content: LeaseContent): Promise<LeaseRecord>;
  /** With a resourceVersion precondition when one is given. */
  delete(name: string, expectedResourceVersion?: string): Promise<void>;
  /**
   * Ownership (`ironlb-ip-*`) and member (`ironlb-member-*`) Leases; never the heartbeats, which change every interval.
   */
  watch(handlers: LeaseWatchHandlers): { stop(): Promise<void> | void };
}

/** A speaker on the mesh, as its member Lease announces it. */
export interface MeshPeer {
  node: string;
  address: string;
  port: number;
}

/**
 * How this node stands with the API server, as the election knows it from its
 * heartbeat renewals (src/election/api-contact.ts).
 * - cutOff: no renewal succeeded for a lease-duration;
 * - steady: renewals succeed, and have for a lease-duration since the last cut-off
 *   (after an outage of the whole API server every node waits that long, so the
 *   others' flags clear before anyone acts on them).
 */
export interface ApiStanding {
  cutOff: boolean;
  steady: boolean;
}

/**
 * Direct liveness between speakers (src/liveness, docs/liveness.md): the
 * failure detector as the election sees it.
 */
export interface Liveness {
  /** `address:port` where this speaker's detector listens, published in its member Lease. */
  endpoint(): string;
  /** Every speaker on the mesh (from the member Leases), this one included or not. */
  setMembers(members: readonly MeshPeer[]): void;
  /** 'unknown': no quorum possible, or this node hears no one: ask the heartbeat Leases. */
  verdict(node: string): PeerVerdict;
  /** This node hears no heartbeat and no probe answer from anyone. */
  isolated(): boolean;
  /** Enough live members for a quorum of monitors (3 or more): without it every verdict is 'unknown'. */
  quorumPossible(): boolean;
  /** Any verdict or the isolation changed. */
  onChange(listener: () => void): void;
  /** Where to read this node's standing with the API server (its heartbeats carry the cut-off flag). */
  setApiStanding(standing: () => ApiStanding): void;
  /** SIGTERM: tell every peer at once that this node is going. */
  leave(): void;
  stop(): void;
}

/** The layer-2 side: probe, announce, answer, and report claims seen on the wire. */
export interface Wire {
  /**
   * Start answering for `ip`: with `probe`, an RFC 5227 conflict probe first
   * (skipped when this process already announced the IP), then the gratuitous
   * rounds. Resolves with the MAC of another host when the probe found one:
   * nothing was announced then.
   */
  announce(ip: string, options: { probe: boolean }): Promise<{ conflictMac?: string }>;
  /** Stop answering for `ip` at once (synchronous on purpose: no await between decision and silence). */
  withdraw(ip: string): void;
  /** ARP / NA frames not sent by this host that claim an IP, with the claimed MAC. */
  onClaim(listener: (ip: string, mac: string) => void): void;
  /**
   * Asks the wire who answers for `ip` (a probe that teaches no neighbour
   * cache anything) and resolves with the first answering MAC not ours, or
   * none after a short wait. Rejects when no probe could be sent.
   */
  check(ip: string): Promise<{ mac?: string }>;
  /** A link this node announces on went down (false) or came back (true). */
  onLink(listener: (ifname: string, up: boolean) => void): void;
  /** The IPs this node answers for on `ifname` now. */
  ipsOn(ifname: string): string[];
}

export type SpeakerEventReason = 'Announcing' | 'Withdrawn' | 'IPConflict';

export interface ServiceRef {
  namespace: string;
  name: string;
}

/** Kubernetes Events on Services; best effort, never awaited by decisions. */
export interface ServiceEventSink {
  emit(service: ServiceRef, type: 'Normal' | 'Warning', reason: SpeakerEventReason, message: string): void;
}
