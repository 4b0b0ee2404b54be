// The election machine's vocabulary: its inputs (views of Leases), its
// outputs (intents) and its per-IP / per-node state.

export interface ElectionConfig {
  /** This speaker's node name. */
  self: string;
  leaseDurationMs: number;
  staggerMs: number;
  /** Pause before retrying a Lease write that failed (not a 409). */
  retryBackoffMs?: number;
  /**
   * How long a fresh view (start, end of an outage) listens before it takes
   * any IP (default leaseDurationMs: long enough to hear every heartbeat
   * Lease; with the mesh's verdicts a second or so is enough).
   */
  settleMs?: number;
}

/** The failure detector's word on a peer; 'unknown' means "ask the heartbeat Leases". */
export type PeerVerdict = 'alive' | 'suspect' | 'dead' | 'unknown';

/** An ownership Lease as the speaker last saw it. `holder` '' = released. */
export interface OwnershipView {
  holder: string;
  resourceVersion: string;
}

export interface HeartbeatView {
  resourceVersion: string;
  /** The duration the node's Lease promises (default: the configured lease-duration). */
  leaseDurationMs?: number;
  /** MACs the node published in `ironlb.io/macs`. */
  macs: readonly string[];
}

export type Intent =
  /** Take the IP: create its Lease (no expected version) or update it by CAS. */
  | { kind: 'acquire'; ip: string; expectedResourceVersion?: string; reason: string }
  /** Set holder to '' by CAS. */
  | { kind: 'release'; ip: string; expectedResourceVersion: string; reason: string }
  /** Delete our Lease of an IP no longer allocated. */
  | { kind: 'delete'; ip: string; expectedResourceVersion: string; reason: string }
  /**
   * Start answering for the IP. `probe`: the IP had no ownership Lease before
   * this node took it (newly assigned), so check the wire for another user first.
   * A takeover from another speaker skips the probe: the IP was just announced
   * by one of us, and the probe would only delay the failover.
   */
  | { kind: 'announce'; ip: string; reason: string; probe: boolean; ownerNeededSince?: number }
  /** Stop answering for the IP at once. */
  | { kind: 'withdraw'; ip: string; reason: string }
  /** Read the Lease from the API server (not the cache) and report it back. */
  | { kind: 'reread'; ip: string; reason: string }
  /**
   * We may have missed a takeover (our link was down, or our heartbeat unseen
   * for a lease-duration): read the Lease straight from the API server and ask
   * the wire who answers for the IP; report both back (confirmRead,
   * observeWireClaim, confirmedByWire, confirmFailed).
   */
  | { kind: 'confirm'; ip: string; id: number; reason: string }
  /** Another host answers for an IP we own. */
  | { kind: 'conflict'; ip: string; mac: string; reason: string };

export interface Evaluation {
  intents: Intent[];
  /** Monotonic time of the next evaluation this view needs, if any. */
  wakeAt?: number;
}

export type WriteOutcome = { kind: 'ok'; lease: OwnershipView | undefined } | { kind: 'conflict' } | { kind: 'failed' };

export interface IpState {
  lease: OwnershipView | undefined;
  /** Nodes that may hold the IP, before liveness; undefined = IP not allocated. */
  eligible: ReadonlySet<string> | undefined;
  /** Watch events are ignored until this version shows up (it is newer than the stream). */
  awaitingVersion?: string;
  awaitingSince?: number;
  /** The last versions applied: a read returning one of them is already known or superseded. */
  recentVersions: string[];
  holderIneligibleSince?: number;
  ownerNeededSince?: number;
  /** Our rank in the takeover plan for this IP, and since when. */
  rank?: number;
  rankSince?: number;
  writeInFlight: boolean;
  retryAt?: number;
  announcing: boolean;
  /** The last acquire created the Lease (no speaker held the IP before). */
  acquiredNew?: boolean;
  fence?: { mac: string; rereadRequested: boolean };
  /**
   * Held, but a takeover may have been missed: to be confirmed by a fresh
   * read of the Lease (or, when it cannot be read, by the wire). `silent`:
   * not answering meanwhile (after a link went down). `link`: waiting for
   * that interface to come back before asking, down `since`.
   */
  confirm?: {
    id: number;
    reason: string;
    silent: boolean;
    link?: string;
    since: number;
    requested: boolean;
    retryAt?: number;
  };
  /** A fenced IP whose re-read still named us: report the other speaker once we resume. */
  resumedOverMac?: string;
  reportedConflicts: Set<string>;
}

export interface NodeState {
  resourceVersion: string;
  leaseDurationMs?: number;
  seenChangeAt: number;
  macs: readonly string[];
}
