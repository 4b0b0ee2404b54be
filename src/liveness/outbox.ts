import type { PeerState } from './peer-state.js';
import type { LivenessCounters } from './settings.js';
import type { LivenessTransport, Message, NodeRecord, Peer } from './types.js';

// Everything a detector sends, counted: heartbeats, notices to one member, to
// every member, or to a few random live members (the epidemic relay).

export interface OutboxOptions {
  self: string;
  transport: LivenessTransport;
  counters: LivenessCounters;
  /** The sender's current incarnation (it rises on refutation). */
  incarnation: () => number;
  random: () => number;
  fanout: number;
}

export class Outbox {
  constructor(private readonly o: OutboxOptions) {}

  heartbeat(to: Readonly<Peer>, message: Message): void {
    this.o.counters.sent.heartbeat++;
    this.o.transport.send(to, message);
  }

  notice(to: Readonly<Peer> | undefined, records: readonly NodeRecord[]): void {
    if (to === undefined) return;
    this.o.counters.sent.notice++;
    this.o.transport.send(to, {
      type: 'notice',
      sender: this.o.self,
      incarnation: this.o.incarnation(),
      subscribed: false,
      apiCutOff: false,
      records,
    });
  }

  broadcast(peers: Iterable<PeerState>, record: NodeRecord): void {
    for (const p of peers) this.notice(p.peer, [record]);
  }

  /**
   * Tells `fanout` random live members (not the record's subject), which do the
   * same the first time they learn it: everyone hears within a few network
   * delays, even a member whose direct notices were lost.
   */
  relay(peers: readonly PeerState[], record: NodeRecord): void {
    if (peers.length === 0) return;
    const sent = new Set<string>();
    for (let tries = 0; tries < 4 * this.o.fanout && sent.size < this.o.fanout; tries++) {
      const p = peers[Math.floor(this.o.random() * peers.length)] as PeerState;
      if (p.status !== 'alive' || p.peer.node === record.node || sent.has(p.peer.node)) continue;
      sent.add(p.peer.node);
      this.notice(p.peer, [record]);
    }
  }
}
