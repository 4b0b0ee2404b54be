// Answers ARP requests and Neighbor Solicitations for the IPs this node owns on
// one interface, and keeps the interface in the solicited-node groups of the
// owned IPv6 addresses so multicast solicitations reach it.
import { asError, type L2Protocol } from './announcer.js';
import { ARP_OP_REQUEST, arpReplyFrame, ipv4ToString, isGratuitousArp, type ArpPacket } from './arp.js';
import { BROADCAST_MAC, isMulticastMac, type EthernetFrame } from './ethernet.js';
import {
  decodeNeighborFrame,
  ipv6ToString,
  isUnspecifiedIpv6,
  multicastMacForIpv6,
  parseNeighborIp,
  canonicalIp,
  solicitedAdvertisementFrame,
  solicitedNodeAddress,
  unsolicitedAdvertisementFrame,
  type NeighborSolicitation,
} from './ndp.js';
import type { PacketSocket, RxFrame } from './packet-socket.js';

export interface ResponderEvent {
  ifname: string;
  protocol: L2Protocol;
  /** A request for an owned IP received, or an answer sent. */
  kind: 'request' | 'reply';
  ip: string;
}

export interface ResponderOptions {
  /** Asked for every request; only a yes gets an answer. IPs are canonical text (see canonicalIp). */
  owns: (ip: string, ifname: string) => boolean;
  /** Feeds the per-interface request/reply metrics. */
  onEvent?: (event: ResponderEvent) => void;
  /** Send and multicast-membership failures. */
  onError?: (err: Error) => void;
}

export interface ResponderCounters {
  arpRequests: number;
  arpReplies: number;
  ndpRequests: number;
  ndpReplies: number;
  /** Frames the decoder refused (malformed or not ARP/ND). */
  invalid: number;
}

export class Responder {
  readonly counters: ResponderCounters = { arpRequests: 0, arpReplies: 0, ndpRequests: 0, ndpReplies: 0, invalid: 0 };
  /** Solicited-node group (hex) -> owned IPv6 addresses that map to it. */
  private readonly groupMembers = new Map<string, Set<string>>();
  private readonly joinedGroups = new Set<string>();
  private closed = false;

  constructor(
    private readonly socket: PacketSocket,
    private readonly options: ResponderOptions,
  ) {
    socket.onFrame((frame) => this.handle(frame));
  }

  /** Solicited-node groups currently joined on the interface (hex), for inspection. */
  get groups(): string[] {
    return [...this.joinedGroups];
  }

  /** Declares `ip` owned here: joins its solicited-node group if it is the first in it. */
  addIp(ip: string): void {
    const address = parseNeighborIp(ip);
    if (address.family !== 6 || this.closed) return;
    const group = solicitedNodeAddress(address.bytes).toString('hex');
    const members = this.groupMembers.get(group) ?? new Set<string>();
    members.add(canonicalIp(ip));
    this.groupMembers.set(group, members);
    this.join(group);
  }

  /** `ip` is no longer owned here: leaves its group once no owned IP shares it. */
  removeIp(ip: string): void {
    const address = parseNeighborIp(ip);
    if (address.family !== 6) return;
    const group = solicitedNodeAddress(address.bytes).toString('hex');
    const members = this.groupMembers.get(group);
    if (!members?.delete(canonicalIp(ip))) return;
    if (members.size > 0) return;
    this.groupMembers.delete(group);
    this.leave(group);
  }

  /** Level-triggered form: the full set of IPs owned on this interface now. */
  setIps(ips: Iterable<string>): void {
    const wanted = new Set([...ips].map(canonicalIp));
    for (const members of [...this.groupMembers.values()]) {
      for (const ip of [...members]) if (!wanted.has(ip)) this.removeIp(ip);
    }
    for (const ip of wanted) this.addIp(ip);
  }

  /** Stops answering and leaves every group; the socket itself belongs to the caller. */
  close(): void {
    this.closed = true;
    for (const group of [...this.joinedGroups]) this.leave(group);
    this.groupMembers.clear();
  }

  private join(group: string): void {
    // A failed join is retried by the next addIp/setIps for any IP of the group.
    if (this.joinedGroups.has(group)) return;
    try {
      this.socket.joinMulticast(Buffer.from(group, 'hex'));
      this.joinedGroups.add(group);
    } catch (err) {
      this.options.onError?.(asError(err));
    }
  }

  private leave(group: string): void {
    if (!this.joinedGroups.delete(group)) return;
    try {
      this.socket.leaveMulticast(Buffer.from(group, 'hex'));
    } catch (err) {
      this.options.onError?.(asError(err));
    }
  }

  private handle(frame: RxFrame): void {
    if (this.closed || frame.outgoing) return;
    const decoded = decodeNeighborFrame(frame.data);
    if (!decoded.ok) {
      this.counters.invalid++;
      return;
    }
    const { ethernet } = decoded.value;
    if (ethernet.src.equals(this.socket.mac) || isMulticastMac(ethernet.src)) return;
    if (decoded.value.protocol === 'arp') this.handleArp(ethernet, decoded.value.arp);
    else if (decoded.value.ndp.type === 'ns') this.handleSolicitation(ethernet, decoded.value.ndp);
  }

  private handleArp(ethernet: EthernetFrame, arp: ArpPacket): void {
    if (arp.op !== ARP_OP_REQUEST) return;
    if (!ethernet.dst.equals(BROADCAST_MAC) && !ethernet.dst.equals(this.socket.mac)) return;
    if (arp.senderMac.equals(this.socket.mac) || isMulticastMac(arp.senderMac)) return;
    // Another host announcing the address is a claim for the wire watch, not a question.
    if (isGratuitousArp(arp)) return;
    const ip = ipv4ToString(arp.targetIp);
    if (!this.options.owns(ip, this.socket.ifname)) return;
    this.counters.arpRequests++;
    this.emit('arp', 'request', ip);
    // Probes (sender 0.0.0.0) are answered too: that is how the prober learns of us.
    if (this.send(arpReplyFrame(this.socket.mac, arp.targetIp, arp))) {
      this.counters.arpReplies++;
      this.emit('arp', 'reply', ip);
    }
  }

  private handleSolicitation(ethernet: EthernetFrame, ns: NeighborSolicitation): void {
    if (ns.sourceLinkLayer && (ns.sourceLinkLayer.equals(this.socket.mac) || isMulticastMac(ns.sourceLinkLayer)))
      return;
    if (!this.addressedToUs(ethernet, ns)) return;
    const ip = ipv6ToString(ns.target);
    if (!this.options.owns(ip, this.socket.ifname)) return;
    this.counters.ndpRequests++;
    this.emit('ndp', 'request', ip);
    const reply = isUnspecifiedIpv6(ns.src)
      ? // DAD: the soliciter has no address to answer to (RFC 4861 7.2.4).
        unsolicitedAdvertisementFrame(this.socket.mac, ns.target)
      : solicitedAdvertisementFrame(this.socket.mac, ns.target, ns.src, ns.sourceLinkLayer ?? ethernet.src);
    if (this.send(reply)) {
      this.counters.ndpReplies++;
      this.emit('ndp', 'reply', ip);
    }
  }

  /** Multicast to the target's solicited-node group, or unicast NUD to the target at our MAC. */
  private addressedToUs(ethernet: EthernetFrame, ns: NeighborSolicitation): boolean {
    if (ns.dst.equals(ns.target)) return ethernet.dst.equals(this.socket.mac);
    const group = solicitedNodeAddress(ns.target);
    return ns.dst.equals(group) && ethernet.dst.equals(multicastMacForIpv6(group));
  }

  private send(frame: Buffer): boolean {
    try {
      this.socket.send(frame);
      return true;
    } catch (err) {
      this.options.onError?.(asError(err));
      return false;
    }
  }

  private emit(protocol: L2Protocol, kind: 'request' | 'reply', ip: string): void {
    this.options.onEvent?.({ ifname: this.socket.ifname, protocol, kind, ip });
  }
}
