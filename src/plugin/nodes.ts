// `kubectl ironlb nodes`: per speaker, live or not, the IPs it holds, its
// interfaces. Liveness is judged from each node Lease's own renewTime plus
// its own leaseDurationSeconds, so it follows whatever timing the speakers run with.
import type { V1Lease } from '@kubernetes/client-node';
import {
  CONFLICT_ANNOTATION,
  IP_ANNOTATION,
  MACS_ANNOTATION,
  nodeFromLeaseName,
  nodeFromMemberLeaseName,
  parseMacsAnnotation,
  type PublishedInterface,
} from '../api/leases.js';
import { timeOf, type ClusterState } from './state.js';
import { BGP_STATUS_ANNOTATION, bgpStatusLeaseName, type BgpNodeStatus } from '../bgp/status.js';

export interface NodeLiveness {
  live: boolean;
  /** ms since the last renewal, by this machine's clock; undefined without renewTime. */
  renewedAgoMs?: number;
  leaseDurationSeconds?: number;
}

export interface NodeRow {
  node: string;
  /** Has a heartbeat Lease (a speaker runs there, or ran and did not stop cleanly). */
  speaker: boolean;
  live: boolean;
  renewedAgoMs?: number;
  leaseDurationSeconds?: number;
  ips: string[];
  interfaces: PublishedInterface[];
  /** A malformed `ironlb.io/macs` annotation, said rather than hidden. */
  problem?: string;
  /** BGP mode: the node's status Lease (`ironlb-bgp-<node>`), when it has one. */
  bgp?: BgpNodeStatus;
}

/** The BGP status a node's speaker published, or a problem; undefined without the Lease (no BGP mode). */
export function bgpStatusOf(
  leases: readonly V1Lease[],
  node: string,
): { status?: BgpNodeStatus; problem?: string } | undefined {
  const lease = leases.find((l) => l.metadata?.name === bgpStatusLeaseName(node));
  const raw = lease?.metadata?.annotations?.[BGP_STATUS_ANNOTATION];
  if (raw === undefined) return undefined;
  try {
    const status = JSON.parse(raw) as BgpNodeStatus;
    if (!Array.isArray(status.peers) || typeof status.frr !== 'string') throw new Error('no peers or frr field');
    return { status };
  } catch (err) {
    const where = `annotation ${BGP_STATUS_ANNOTATION} of Lease ${bgpStatusLeaseName(node)}`;
    return { problem: `${where} is malformed: ${(err as Error).message}` };
  }
}

/** A heartbeat Lease is live while now < renewTime + leaseDurationSeconds (both from the Lease itself). */
export function leaseLiveness(lease: V1Lease, now: number): NodeLiveness {
  const renewed = timeOf(lease.spec?.renewTime as Date | string | undefined);
  const duration = lease.spec?.leaseDurationSeconds;
  if (renewed === undefined || duration === undefined || duration <= 0) {
    return {
      live: false,
      renewedAgoMs: renewed !== undefined ? now - renewed : undefined,
      leaseDurationSeconds: duration,
    };
  }
  return { live: now - renewed < duration * 1000, renewedAgoMs: now - renewed, leaseDurationSeconds: duration };
}

export interface SpeakerLease {
  node: string;
  lease: V1Lease;
  interfaces: PublishedInterface[];
  problem?: string;
}

/** Node heartbeat Leases by node name, with the interfaces their member Leases publish. */
export function speakerLeases(leases: readonly V1Lease[]): Map<string, SpeakerLease> {
  const members = new Map<string, V1Lease>();
  for (const lease of leases) {
    const node = nodeFromMemberLeaseName(lease.metadata?.name ?? '');
    if (node !== undefined) members.set(node, lease);
  }
  const result = new Map<string, SpeakerLease>();
  for (const lease of leases) {
    const node = nodeFromLeaseName(lease.metadata?.name ?? '');
    if (node === undefined) continue;
    const raw = members.get(node)?.metadata?.annotations?.[MACS_ANNOTATION] ?? '';
    try {
      result.set(node, { node, lease, interfaces: parseMacsAnnotation(raw) });
    } catch (err) {
      result.set(node, { node, lease, interfaces: [], problem: (err as Error).message });
    }
  }
  return result;
}

/** Ownership Leases: IP -> holder node ('' when released). */
export function ipHolders(leases: readonly V1Lease[]): Map<string, { holder: string; conflict?: string }> {
  const result = new Map<string, { holder: string; conflict?: string }>();
  for (const lease of leases) {
    const ip = lease.metadata?.annotations?.[IP_ANNOTATION];
    const name = lease.metadata?.name ?? '';
    if (ip === undefined || nodeFromLeaseName(name) !== undefined || nodeFromMemberLeaseName(name) !== undefined)
      continue;
    const conflict = lease.metadata?.annotations?.[CONFLICT_ANNOTATION];
    result.set(ip, { holder: lease.spec?.holderIdentity ?? '', conflict: conflict || undefined });
  }
  return result;
}

export function nodeRows(state: ClusterState, now: number): NodeRow[] {
  const speakers = speakerLeases(state.leases);
  const held = new Map<string, string[]>();
  for (const [ip, { holder }] of ipHolders(state.leases)) {
    if (holder !== '') held.set(holder, [...(held.get(holder) ?? []), ip]);
  }
  const names = new Set([...state.nodes.map((n) => n.metadata?.name ?? ''), ...speakers.keys(), ...held.keys()]);
  names.delete('');
  return [...names].sort().map((node) => {
    const speaker = speakers.get(node);
    const liveness = speaker ? leaseLiveness(speaker.lease, now) : { live: false };
    const bgp = bgpStatusOf(state.leases, node);
    const problem = [speaker?.problem, bgp?.problem].filter((p) => p !== undefined).join('; ');
    return {
      node,
      speaker: speaker !== undefined,
      ...liveness,
      ips: (held.get(node) ?? []).sort(),
      interfaces: speaker?.interfaces ?? [],
      problem: problem || undefined,
      bgp: bgp?.status || undefined,
    };
  });
}
