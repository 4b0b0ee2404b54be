// The failure detector's vocabulary, shared by the detector, the codec and the
// transports. docs/liveness.md describes the protocol these make up.

/** A member as the caller learns it from node Leases. */
export interface Peer {
  node: string;
  address: string;
  port: number;
}

export type Verdict = 'alive' | 'suspect' | 'dead' | 'unknown';

/**
 * What a record says about `node` at `incarnation`:
 * - alive: a refutation or a (re)join, relayed like a rumour;
 * - suspect: the sender, a monitor of `node`, heard its heartbeats and then missed them;
 * - doubt: the sender became a monitor of `node` and never heard it (counts
 *   toward a quorum, but a quorum needs at least one `suspect`);
 * - dead: monitors of `node` agreed (quorum) that it is gone;
 * - left: `node` said it is shutting down;
 * - watch: the sender asks `node` (the receiver) for heartbeats;
 * - ping / ack: "is it me?" probe of an isolated-looking node and its answer
 *   (`incarnation` carries the probe's nonce).
 */
export type RecordKind = 'alive' | 'suspect' | 'dead' | 'left' | 'watch' | 'ping' | 'ack' | 'doubt';

export interface NodeRecord {
  kind: RecordKind;
  node: string;
  incarnation: number;
}

/**
 * One datagram's content. A heartbeat proves the sender alive to a monitor and
 * carries piggybacked rumours; a notice carries records only.
 */
export interface Message {
  type: 'heartbeat' | 'notice';
  sender: string;
  /** The sender's incarnation: raised to refute a suspicion or death, and at every start. */
  incarnation: number;
  /** Heartbeat only: sent because the receiver asked (watch), not because it is a ring successor. */
  subscribed: boolean;
  /**
   * Heartbeat only: the sender has not reached the API server for a
   * lease-duration. Monitors that reach it steadily do not count such a
   * heartbeat, so the mesh declares the sender dead and its IPs move (it
   * cannot see Service changes; docs/liveness.md).
   */
  apiCutOff: boolean;
  records: readonly NodeRecord[];
}

/** How the detector sends and receives messages: UDP with the authenticated codec, or the simulated network. */
export interface LivenessTransport {
  send(to: Readonly<Peer>, message: Message): void;
  /** Sets the one handler for accepted messages (rejected datagrams never reach it). */
  onMessage(handler: (message: Message) => void): void;
  close(): void;
}
