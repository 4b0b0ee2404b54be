// Layer 2: pure codecs, the announcer, responder, conflict probe and wire watch.
// The packet socket itself (socket.ts) and interface discovery live beside them.
//
// How a speaker wires them, per interface it announces on:
//   - one Responder per PacketSocket, owns = "this node holds ip and announces it
//     on ifname"; Responder.setIps(...) after every ownership change (joins the
//     solicited-node groups); onEvent -> ironlb_l2_requests_total / _replies_total.
//   - ConflictProber.probe(ip, sockets) before the first announcement of a newly
//     assigned IP; inUse -> IPConflict, no announcement.
//   - Announcer.announce(ip, sockets, { stillOwned }) on takeover;
//     onSent(frames) -> ironlb_l2_gratuitous_total; stop(ip) when the IP leaves.
//   - one WireWatch over all sockets, holds = held IPs; onClaim -> the wire fence
//     (MAC of another speaker: yield; unknown MAC: IPConflict), ironlb_l2_conflicts_total.
// IPs cross these APIs as canonical text (canonicalIp: dotted quad, RFC 5952).
export type { PacketSocket, RxFrame } from './packet-socket.js';
export * from './ethernet.js';
export * from './checksum.js';
export * from './arp.js';
export * from './ndp.js';
export * from './announcer.js';
export * from './responder.js';
export * from './probe.js';
export * from './wire-watch.js';
