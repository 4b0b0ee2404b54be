// Conflict detection while owning: any ARP or NA on the wire that claims one of
// our IPs for a MAC that is not ours is reported. The speaker decides whether
// that means yield (another speaker's MAC) or an IP conflict (a foreign host).
import { asError } from './announcer.js';
import { ARP_OP_REQUEST, UNSPECIFIED_IPV4, ipv4ToString, isGratuitousArp } from './arp.js';
import { formatMac, parseMac } from './ethernet.js';
import { decodeNeighborFrame, ipv6ToString, isUnspecifiedIpv6, type NeighborFrame } from './ndp.js';
import type { PacketSocket, RxFrame } from './packet-socket.js';

/** How a frame tells the world an IP is at a MAC. */
export type ClaimKind = 'arp-request' | 'arp-reply' | 'arp-announcement' | 'na';
/** A host asking whether an IP is free: a claim only while we are probing it ourselves. */
export type ProbeKind = 'arp-probe' | 'dad';

export interface AddressClaim {
  ip: string;
  /** The MAC the frame binds the IP to (ARP sender MAC, NA target link-layer option or Ethernet source). */
  mac: Buffer;
  kind: ClaimKind | ProbeKind;
}

/** What, if anything, a decoded frame says about who uses which IP. */
export function claimOf(frame: NeighborFrame): AddressClaim | undefined {
  if (frame.protocol === 'arp') {
    const arp = frame.arp;
    if (arp.senderIp.equals(UNSPECIFIED_IPV4)) {
      return arp.op === ARP_OP_REQUEST
        ? { ip: ipv4ToString(arp.targetIp), mac: arp.senderMac, kind: 'arp-probe' }
        : undefined;
    }
    const kind = arp.op !== ARP_OP_REQUEST ? 'arp-reply' : isGratuitousArp(arp) ? 'arp-announcement' : 'arp-request';
    return { ip: ipv4ToString(arp.senderIp), mac: arp.senderMac, kind };
  }
  const ndp = frame.ndp;
  if (ndp.type === 'na')
    return { ip: ipv6ToString(ndp.target), mac: ndp.targetLinkLayer ?? frame.ethernet.src, kind: 'na' };
  if (isUnspecifiedIpv6(ndp.src)) return { ip: ipv6ToString(ndp.target), mac: frame.ethernet.src, kind: 'dad' };
  return undefined;
}

/**
 * MACs of this host: frames from them are echoes of our own, never claims.
 * Sockets are asked each time since a recreated interface may come back with a new MAC.
 */
export class OwnMacs {
  private readonly extra = new Set<string>();
  private readonly sockets: PacketSocket[] = [];

  add(mac: Buffer | string): void {
    this.extra.add((typeof mac === 'string' ? parseMac(mac) : mac).toString('hex'));
  }

  addSocket(socket: PacketSocket): void {
    if (!this.sockets.includes(socket)) this.sockets.push(socket);
  }

  has(mac: Buffer): boolean {
    return this.sockets.some((p) => p.mac.equals(mac)) || this.extra.has(mac.toString('hex'));
  }
}

export interface WireClaim {
  ip: string;
  /** aa:bb:cc:dd:ee:ff */
  mac: string;
  ifname: string;
  kind: ClaimKind;
}

export interface WireWatchOptions {
  /** Whether this node holds `ip` now (canonical text). Only held IPs are watched. */
  holds: (ip: string) => boolean;
  onClaim: (claim: WireClaim) => void;
  /** MACs of this host beyond the watched sockets' own (other interfaces). */
  ownMacs?: Iterable<Buffer | string>;
  onError?: (err: Error) => void;
}

export class WireWatch {
  private readonly ownMacs = new OwnMacs();
  private readonly watched = new WeakSet<PacketSocket>();
  private closed = false;

  constructor(
    sockets: Iterable<PacketSocket>,
    private readonly options: WireWatchOptions,
  ) {
    for (const mac of options.ownMacs ?? []) this.ownMacs.add(mac);
    for (const socket of sockets) this.watch(socket);
  }

  /** Adds an interface that appeared later; watching one twice is harmless. */
  watch(socket: PacketSocket): void {
    this.ownMacs.addSocket(socket);
    if (this.watched.has(socket)) return;
    this.watched.add(socket);
    socket.onFrame((frame) => this.handle(socket, frame));
  }

  close(): void {
    this.closed = true;
  }

  private handle(socket: PacketSocket, frame: RxFrame): void {
    if (this.closed || frame.outgoing) return;
    const decoded = decodeNeighborFrame(frame.data);
    if (!decoded.ok) return;
    if (this.ownMacs.has(decoded.value.ethernet.src)) return;
    const claim = claimOf(decoded.value);
    if (!claim || claim.kind === 'arp-probe' || claim.kind === 'dad') return;
    if (this.ownMacs.has(claim.mac)) return;
    if (!this.options.holds(claim.ip)) return;
    try {
      this.options.onClaim({ ip: claim.ip, mac: formatMac(claim.mac), ifname: socket.ifname, kind: claim.kind });
    } catch (err) {
      // A failing callback must not take the socket's receive loop down with it.
      this.options.onError?.(asError(err));
    }
  }
}
