// The BGP side of one node as people read it: per peer the session as FRR
// reports it, whether FRR runs the configuration the speaker wants, and the
// configuration errors. Pure: built from the plan and what FRR said; the
// runtime publishes it (metrics, Events, a Lease annotation).
import type { BfdPeerState, BgpSessionState } from './frr-state.js';
import type { ConfigError, NodeBgpPlan } from './plan.js';

/** Lease `ironlb-bgp-<node>` in ironlb's namespace holds the node's BgpNodeStatus as JSON in this annotation. */
export const BGP_STATUS_LEASE_PREFIX = 'ironlb-bgp-';
export const BGP_STATUS_ANNOTATION = 'ironlb.io/bgp-status';
export const bgpStatusLeaseName = (node: string) => `${BGP_STATUS_LEASE_PREFIX}${node}`;

export interface PeerStatus {
  readonly name: string;
  readonly address: string;
  /** FRR's BGP state, or `Unknown` while FRR does not answer. */
  readonly state: string;
  readonly established: boolean;
  readonly prefixesSent: number;
  /** Prefixes the plan sends this peer (what prefixesSent should reach once established). */
  readonly prefixesPlanned: number;
  readonly lastError?: string;
  /** BFD: up, down, init; absent without a bfdProfile. */
  readonly bfd?: string;
}

export interface BgpNodeStatus {
  /**
   * `applied`: FRR runs the wanted configuration; `failed`: it could not be
   * applied (see `frrError`); `pending`: not yet.
   */
  readonly frr: 'applied' | 'failed' | 'pending';
  readonly frrError?: string;
  /** True after SIGTERM: every announcement withdrawn. */
  readonly withdrawn: boolean;
  readonly peers: readonly PeerStatus[];
  readonly errors: readonly ConfigError[];
}

export interface SessionView {
  readonly sessions?: ReadonlyMap<string, BgpSessionState>;
  readonly bfd?: readonly BfdPeerState[];
}

/** Peer statuses of the plan's sessions, matched to FRR's by address (FRR prints IPv6 in its own case). */
export function peerStatuses(plan: NodeBgpPlan, view: SessionView): PeerStatus[] {
  const sessions = [...(view.sessions ?? new Map<string, BgpSessionState>())];
  const byAddress = new Map(sessions.map(([a, s]) => [a.toLowerCase(), s]));
  const bfdByAddress = new Map((view.bfd ?? []).map((b) => [b.peer.toLowerCase(), b]));
  return plan.sessions.map(({ peer }) => {
    const address = peer.peerAddress.text;
    const session = byAddress.get(address.toLowerCase());
    const bfdStatus = () => bfdByAddress.get(address.toLowerCase())?.status ?? (view.bfd ? 'none' : 'unknown');
    const bfd = peer.bfdProfile === undefined ? undefined : bfdStatus();
    const lastError = session?.lastError;
    return {
      name: peer.name,
      address,
      state: session?.state ?? (view.sessions ? 'NotConfigured' : 'Unknown'),
      established: session?.established ?? false,
      prefixesSent: session?.prefixesSent ?? 0,
      prefixesPlanned: plan.prefixes.get(peer.name)?.size ?? 0,
      lastError,
      bfd,
    };
  });
}

export interface SessionChange {
  readonly peer: string;
  readonly up: boolean;
  readonly message: string;
}

/** Sessions that came up or went down between two readings (a first reading reports only sessions up). */
export function sessionChanges(
  node: string,
  before: readonly PeerStatus[] | undefined,
  after: readonly PeerStatus[],
): SessionChange[] {
  const was = new Map((before ?? []).map((p) => [p.name, p.established]));
  const changes: SessionChange[] = [];
  for (const p of after) {
    const previous = was.get(p.name) ?? false;
    if (p.established && !previous) {
      changes.push({ peer: p.name, up: true, message: `node ${node}: BGP session with ${p.address} established` });
    }
    if (!p.established && previous) {
      const why = p.lastError ? `: ${p.lastError}` : '';
      const message = `node ${node}: BGP session with ${p.address} is ${p.state}${why}`;
      changes.push({ peer: p.name, up: false, message });
    }
  }
  return changes;
}

/** Whether FRR's neighbors are exactly the plan's: if not, FRR lost its configuration (a restart). */
export function frrHasPlannedPeers(plan: NodeBgpPlan, sessions: ReadonlyMap<string, BgpSessionState>): boolean {
  const planned = new Set(plan.sessions.map((s) => s.peer.peerAddress.text.toLowerCase()));
  const running = new Set([...sessions.keys()].map((a) => a.toLowerCase()));
  return planned.size === running.size && [...planned].every((a) => running.has(a));
}

/** The plan with every prefix taken away: the sessions stay, their route-maps let nothing out. */
export function withdrawnPlan(plan: NodeBgpPlan): NodeBgpPlan {
  return { ...plan, prefixes: new Map(plan.sessions.map((s) => [s.peer.name, new Map()])) };
}
