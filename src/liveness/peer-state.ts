import type { Peer } from './types.js';

// What a detector knows about one peer, and about a predecessor it watches.

export interface PeerState {
  peer: Readonly<Peer>;
  incarnation: number;
  status: 'alive' | 'dead' | 'left';
  lastHeard: number | undefined;
  /** When an alive record with a newer incarnation last arrived (a fresh start for silence). */
  refutedAt: number;
  /** Other monitors' suspicions: sender -> incarnation, arrival time, firsthand ('suspect') or not ('doubt'). */
  suspicions: Map<string, { incarnation: number; at: number; firsthand: boolean }> | undefined;
  /** This node, as a monitor, suspects the peer. */
  suspectedSince: number | undefined;
  /** This node's suspicion rests on heartbeats it heard and then missed. */
  ownFirsthand: boolean;
  /** This node sent the peer's death (as a confirming monitor). */
  declared: boolean;
  /** Highest incarnation whose suspicion this node passed on to the peer (once each). */
  forwardedIncarnation: number;
  /** Last time this node told the peer it holds it dead (at most once an interval). */
  toldDeadAt: number;
  /** Its last heartbeat said it is cut off from the API server. */
  apiCutOff: boolean;
  /** The verdict last reported through onChange. */
  reported: 'alive' | 'suspect' | 'dead';
}

/** A predecessor this node monitors. */
export interface Watched {
  /** When it became this node's predecessor (new assignments get a grace). */
  assignedAt: number;
  lastWatchAt: number;
  /** Its last heartbeat came on a watch request, not because of its own ring. */
  subscribed: boolean;
}

export function newPeer(peer: Readonly<Peer>): PeerState {
  return {
    peer,
    incarnation: 0,
    status: 'alive',
    lastHeard: undefined,
    refutedAt: Number.NEGATIVE_INFINITY,
    suspicions: undefined,
    suspectedSince: undefined,
    ownFirsthand: false,
    declared: false,
    forwardedIncarnation: -1,
    toldDeadAt: Number.NEGATIVE_INFINITY,
    apiCutOff: false,
    reported: 'alive',
  };
}

/** The peer's state as this node sees it, before isolation and quorum masking. */
export function rawVerdict(p: PeerState): 'alive' | 'suspect' | 'dead' {
  if (p.status !== 'alive') return 'dead';
  if (p.suspectedSince !== undefined) return 'suspect';
  if (p.suspicions) for (const s of p.suspicions.values()) if (s.incarnation >= p.incarnation) return 'suspect';
  return 'alive';
}
