import type { Logger } from '../log/logger.js';
import type { SpeakerMetrics } from '../metrics/metrics.js';
import type { ElectionMachine } from './machine.js';
import {
  LIVENESS_ANNOTATION,
  MACS_ANNOTATION,
  MESH_ANNOTATION,
  formatMacsAnnotation,
  memberLeaseName,
  nodeFromLeaseName,
  nodeLeaseName,
  parseEndpoint,
  parseMacsAnnotation,
  type PublishedInterface,
} from '../api/leases.js';
import { LeaseStoreError, type LeaseRecord, type LeaseStore, type Liveness, type MeshPeer } from './boundaries.js';

// Who the speakers are and how this one judges them alive (docs/election.md,
// "Objects" and "Liveness"):
// - each speaker publishes a member Lease `ironlb-member-<node>` (its MACs,
//   where its failure detector listens, whether it hears the mesh), written
//   only when that changes, and watched by every speaker;
// - the mesh's failure detector gives a verdict on each member;
// - where it has none ('unknown': no quorum possible, this node hears no one,
//   the mesh is firewalled), the heartbeat Leases decide, listed after each
//   renewal of our own while any peer needs them: never watched, so a
//   renewal reaches no other speaker at steady state;
// - a member not live whose heartbeat Lease those listings show unrenewed
//   (or absent) for `staleAfterMs` is gone for good (its Node deleted, its
//   speaker removed): its Leases are deleted, so nobody keeps judging it.

export interface MembershipOptions {
  node: string;
  store: LeaseStore;
  machine: ElectionMachine;
  liveness?: Liveness;
  /** This speaker's interfaces and MACs. */
  interfaces: () => readonly PublishedInterface[];
  logger: Logger;
  metrics?: SpeakerMetrics;
  now: () => number;
  /** How long a member not live may show no heartbeat renewal before its Leases are deleted. */
  staleAfterMs: number;
  /** Something that decides ownership changed: evaluate. */
  onChange: () => void;
  onSpeakersChanged?: (interfaces: ReadonlyMap<string, readonly string[]>) => void;
  /** The mesh state changed (an event for the operator). */
  onMeshState?: (state: MeshHealth) => void;
}

export type MeshState = 'ok' | 'isolated';
/**
 * ok: the mesh judges the peers. self-blamed: this node hears no peer while
 * they hear each other (it takes nothing). fallback: no peer hears another
 * (a firewalled mesh): the heartbeat Leases judge everyone.
 */
export type MeshHealth = 'ok' | 'self-blamed' | 'fallback';

export class Membership {
  private readonly speakerInterfaces = new Map<string, string[]>();
  private readonly peers = new Map<string, MeshPeer>();
  private readonly meshStates = new Map<string, MeshState>();
  private published: { resourceVersion: string; annotations: string } | undefined;
  private publishing = false;
  private lastOwnRenewalSeenAt: number | undefined;
  private health: MeshHealth = 'ok';
  /** Member Leases' resourceVersions, for deletes that lose to a member that came back. */
  private readonly memberVersions = new Map<string, string>();
  /** Per member: its heartbeat Lease's version in our listings ('' when absent) and since when it has not changed. */
  private readonly heartbeatSilence = new Map<string, { version: string; since: number }>();
  private lastPollAt: number | undefined;
  private polling = false;

  constructor(private readonly options: MembershipOptions) {
    options.liveness?.onChange(() => {
      this.syncVerdicts();
      options.onChange();
    });
  }

  speakers(): ReadonlyMap<string, readonly string[]> {
    return this.speakerInterfaces;
  }

  /** Our own renewal came back through a listing of the heartbeats at this time (undefined: never). */
  lastOwnRenewalSeen(): number | undefined {
    return this.lastOwnRenewalSeenAt;
  }

  /** Whether liveness comes from the heartbeat Leases for some peer (no mesh, or no verdict on it). */
  usesHeartbeats(): boolean {
    return (
      this.options.liveness === undefined || this.options.liveness.isolated() || this.options.machine.needsHeartbeats()
    );
  }

  /** This node hears none of its peers while they hear each other. */
  selfBlamed(): boolean {
    return this.health === 'self-blamed';
  }

  /** A member Lease arrived or changed. */
  memberSeen(node: string, lease: LeaseRecord): void {
    this.memberVersions.set(node, lease.resourceVersion);
    let published: PublishedInterface[] = [];
    try {
      published = parseMacsAnnotation(lease.annotations[MACS_ANNOTATION] ?? '');
    } catch (err) {
      this.options.logger.warn({ lease: lease.name, err: String(err) }, 'ignoring malformed MAC annotation');
    }
    this.options.machine.observeMember(
      node,
      published.map((p) => p.mac),
    );
    const endpoint = lease.annotations[LIVENESS_ANNOTATION];
    let peer: MeshPeer | undefined;
    if (endpoint !== undefined) {
      try {
        peer = { node, ...parseEndpoint(endpoint) };
      } catch (err) {
        this.options.logger.warn({ lease: lease.name, err: String(err) }, 'ignoring malformed liveness endpoint');
      }
    }
    this.meshStates.set(node, lease.annotations[MESH_ANNOTATION] === 'isolated' ? 'isolated' : 'ok');
    this.setPeer(node, peer);
    const names = published.map((p) => p.ifname).sort();
    const before = this.speakerInterfaces.get(node);
    if (before === undefined || before.join(',') !== names.join(',')) {
      this.speakerInterfaces.set(node, names);
      this.options.onSpeakersChanged?.(this.speakerInterfaces);
    }
    this.syncVerdicts();
  }

  memberGone(node: string): void {
    this.memberVersions.delete(node);
    this.heartbeatSilence.delete(node);
    if (node === this.options.node) {
      // Deleted by a peer that judged us gone (we were cut off for long): say we are here again.
      this.published = undefined;
      void this.publish();
    }
    this.options.machine.observeMember(node, undefined);
    this.options.machine.observeVerdict(node, undefined);
    this.meshStates.delete(node);
    this.setPeer(node, undefined);
    if (this.speakerInterfaces.delete(node)) this.options.onSpeakersChanged?.(this.speakerInterfaces);
    this.syncVerdicts();
  }

  /** The mesh's verdicts into the election, and whether we blame ourselves. */
  syncVerdicts(): void {
    const { liveness, machine, node: self } = this.options;
    if (liveness === undefined) return;
    for (const node of this.speakerInterfaces.keys())
      if (node !== self) machine.observeVerdict(node, liveness.verdict(node));
    const isolated = liveness.isolated();
    // Hearing no one while a peer says it hears the mesh: the fault is ours.
    // When every peer is isolated too, the mesh is down (a firewall): the
    // heartbeat Leases decide, and acquiring by them is safe.
    const othersHear = [...this.meshStates].some(([node, state]) => node !== self && state === 'ok');
    const health: MeshHealth = !isolated ? 'ok' : othersHear ? 'self-blamed' : 'fallback';
    machine.setSelfBlame(health === 'self-blamed');
    this.options.metrics?.meshIsolated.set(isolated ? 1 : 0);
    this.options.metrics?.leaseLiveness.set(this.usesHeartbeats() ? 1 : 0);
    if (health !== this.health) {
      this.health = health;
      this.options.onMeshState?.(health);
      void this.publish(); // peers tell (b) from (c) by what we publish
    }
  }

  /** Writes our member Lease when what it should say changed (cheap to call often). */
  async publish(): Promise<void> {
    if (this.publishing) return;
    const { store, node, liveness } = this.options;
    const annotations: Record<string, string> = { [MACS_ANNOTATION]: formatMacsAnnotation(this.options.interfaces()) };
    if (liveness !== undefined) {
      annotations[LIVENESS_ANNOTATION] = liveness.endpoint();
      annotations[MESH_ANNOTATION] = liveness.isolated() ? 'isolated' : 'ok';
    }
    const text = JSON.stringify(annotations);
    if (this.published?.annotations === text) return;
    this.publishing = true;
    const name = memberLeaseName(node);
    const content = { holderIdentity: node, annotations };
    this.options.metrics?.leaseWrites.inc({ kind: 'member' });
    try {
      const written =
        this.published === undefined
          ? await store
              .get(name)
              .then((existing) =>
                existing === undefined
                  ? store.create(name, content)
                  : store.update(name, existing.resourceVersion, content),
              )
          : await store.update(name, this.published.resourceVersion, content);
      this.published = { resourceVersion: written.resourceVersion, annotations: text };
    } catch (err) {
      // Stale version or no API: read it again at the next attempt.
      if (err instanceof LeaseStoreError && err.kind !== 'unavailable') this.published = undefined;
      this.options.logger.info({ err: String(err) }, 'member lease not written; retrying');
    } finally {
      this.publishing = false;
    }
  }

  async deleteMemberLease(): Promise<void> {
    await this.options.store.delete(memberLeaseName(this.options.node)).catch((err: unknown) => {
      if (!(err instanceof LeaseStoreError && err.kind === 'not-found')) throw err;
    });
  }

  /**
   * After each renewal of our own heartbeat, while any peer is judged by its
   * heartbeat Lease: list them all. Seeing our own latest renewal proves the
   * API answers reads with fresh data (the guard of docs/election.md).
   */
  async pollHeartbeats(ownVersion: string | undefined): Promise<void> {
    if (this.polling || !(this.usesHeartbeats() || this.staleCheckDue())) return;
    this.polling = true;
    this.lastPollAt = this.options.now();
    try {
      const leases = await this.options.store.listHeartbeats();
      const now = this.options.now();
      const seen = new Set<string>();
      for (const lease of leases) {
        const node = nodeFromLeaseName(lease.name);
        if (node === undefined) continue;
        seen.add(node);
        const wasLive = this.options.machine.isLive(node, now);
        const leaseDurationMs =
          lease.leaseDurationSeconds === undefined ? undefined : lease.leaseDurationSeconds * 1000;
        this.options.machine.observeHeartbeat(
          node,
          { resourceVersion: lease.resourceVersion, leaseDurationMs, macs: [] },
          now,
        );
        if (node === this.options.node && lease.resourceVersion === ownVersion) this.lastOwnRenewalSeenAt = now;
        if (!wasLive) this.options.onChange();
      }
      for (const node of this.options.machine.heartbeatNodes()) {
        if (!seen.has(node)) this.options.machine.observeHeartbeat(node, undefined, now);
      }
      await this.deleteStaleMembers(leases, now);
    } catch (err) {
      this.options.logger.info({ err: String(err) }, 'listing heartbeat leases failed');
    } finally {
      this.polling = false;
    }
  }

  /**
   * With the mesh judging everyone no listing is needed, but a member it holds
   * dead may be gone for good: list a few times per staleAfterMs to find out.
   */
  private staleCheckDue(): boolean {
    const now = this.options.now();
    if (this.lastPollAt !== undefined && now - this.lastPollAt < this.options.staleAfterMs / 4) return false;
    for (const node of this.memberVersions.keys()) if (!this.options.machine.isLive(node, now)) return true;
    return false;
  }

  /** Deletes the Leases of members not live whose heartbeat showed no renewal in our listings for staleAfterMs. */
  private async deleteStaleMembers(heartbeats: readonly LeaseRecord[], now: number): Promise<void> {
    const { store, machine, logger, staleAfterMs } = this.options;
    const versions = new Map<string, string>();
    for (const lease of heartbeats) {
      const node = nodeFromLeaseName(lease.name);
      if (node !== undefined) versions.set(node, lease.resourceVersion);
    }
    for (const [node, memberVersion] of this.memberVersions) {
      if (node === this.options.node) continue;
      const version = versions.get(node) ?? '';
      const silence = this.heartbeatSilence.get(node);
      if (silence === undefined || silence.version !== version) {
        this.heartbeatSilence.set(node, { version, since: now });
        continue;
      }
      if (now - silence.since < staleAfterMs || machine.isLive(node, now)) continue;
      logger.warn(
        { member: node, silentMs: Math.round(now - silence.since) },
        'deleting the Leases of a speaker gone for good',
      );
      try {
        await store.delete(memberLeaseName(node), memberVersion);
        if (version !== '') await store.delete(nodeLeaseName(node), version);
      } catch (err) {
        // It came back (409), or a peer deleted them first (404): nothing to do.
        if (!(err instanceof LeaseStoreError && (err.kind === 'conflict' || err.kind === 'not-found'))) throw err;
      }
    }
  }

  private setPeer(node: string, peer: MeshPeer | undefined): void {
    const before = this.peers.get(node);
    if (
      peer === undefined
        ? before === undefined
        : before !== undefined && before.address === peer.address && before.port === peer.port
    )
      return;
    if (peer === undefined) this.peers.delete(node);
    else this.peers.set(node, peer);
    this.options.liveness?.setMembers([...this.peers.values()]);
  }
}
