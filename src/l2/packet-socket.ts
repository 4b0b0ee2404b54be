// The boundary between layer-2 logic (pure codecs, announcer, responder) and
// the packet socket. The native AF_PACKET socket implements it in production;
// unit tests hand in an in-memory wire.

/** One frame received on an interface. */
export interface RxFrame {
  /** The whole Ethernet frame, starting at the destination MAC. */
  data: Buffer;
  /** True for frames this host sent itself (PACKET_OUTGOING): never act on them. */
  outgoing: boolean;
}

/** A packet socket bound to one interface. */
export interface PacketSocket {
  readonly ifname: string;
  readonly ifindex: number;
  /** The interface's MAC, 6 bytes. */
  readonly mac: Buffer;
  /** Sends one whole Ethernet frame. Throws on a closed socket. */
  send(frame: Buffer): void;
  onFrame(listener: (frame: RxFrame) => void): void;
  /** Socket errors (link gone, ENETDOWN...) are reported here, never swallowed. */
  onError(listener: (err: Error) => void): void;
  /** Joins/leaves an IPv6 multicast group (16-byte address) on this interface. */
  joinMulticast(group: Buffer): void;
  leaveMulticast(group: Buffer): void;
  close(): void;
}
