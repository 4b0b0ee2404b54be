// ARP for IPv4 over Ethernet (RFC 826) and the RFC 5227 probe/announcement forms.
import ipaddr from 'ipaddr.js';
import {
  BROADCAST_MAC,
  ETHERNET_HEADER_LENGTH,
  ETHERTYPE_ARP,
  ZERO_MAC,
  assertMac,
  encodeEthernet,
  onlyPaddingAfter,
  refuse,
  type Decoded,
} from './ethernet.js';

export const ARP_PACKET_LENGTH = 28;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;
const HTYPE_ETHERNET = 1;
const PTYPE_IPV4 = 0x0800;

export type ArpOp = typeof ARP_OP_REQUEST | typeof ARP_OP_REPLY;

export interface ArpPacket {
  op: ArpOp;
  senderMac: Buffer;
  senderIp: Buffer;
  targetMac: Buffer;
  targetIp: Buffer;
}

export const UNSPECIFIED_IPV4: Buffer = Buffer.alloc(4, 0);

/** Decodes an ARP packet (the Ethernet payload). Trailing link padding is allowed. */
export function decodeArp(payload: Buffer): Decoded<ArpPacket> {
  if (payload.length < ARP_PACKET_LENGTH)
    return refuse(`truncated ARP packet: ${payload.length} bytes < ${ARP_PACKET_LENGTH}`);
  const frameLength = payload.length + ETHERNET_HEADER_LENGTH;
  if (!onlyPaddingAfter(frameLength, ETHERNET_HEADER_LENGTH + ARP_PACKET_LENGTH)) {
    return refuse(`oversized ARP frame: ${frameLength} bytes`);
  }
  const htype = payload.readUInt16BE(0);
  if (htype !== HTYPE_ETHERNET) return refuse(`ARP hardware type ${htype} is not Ethernet (1)`);
  const ptype = payload.readUInt16BE(2);
  if (ptype !== PTYPE_IPV4) return refuse(`ARP protocol type 0x${ptype.toString(16)} is not IPv4 (0x0800)`);
  if (payload[4] !== 6) return refuse(`ARP hardware length ${payload[4]} is not 6`);
  if (payload[5] !== 4) return refuse(`ARP protocol length ${payload[5]} is not 4`);
  const op = payload.readUInt16BE(6);
  if (op !== ARP_OP_REQUEST && op !== ARP_OP_REPLY) return refuse(`unknown ARP operation ${op}`);
  return {
    ok: true,
    value: {
      op,
      senderMac: payload.subarray(8, 14),
      senderIp: payload.subarray(14, 18),
      targetMac: payload.subarray(18, 24),
      targetIp: payload.subarray(24, 28),
    },
  };
}

export function encodeArp(packet: ArpPacket): Buffer {
  assertMac(packet.senderMac, 'ARP sender MAC');
  assertMac(packet.targetMac, 'ARP target MAC');
  assertIpv4(packet.senderIp, 'ARP sender IP');
  assertIpv4(packet.targetIp, 'ARP target IP');
  const out = Buffer.alloc(ARP_PACKET_LENGTH);
  out.writeUInt16BE(HTYPE_ETHERNET, 0);
  out.writeUInt16BE(PTYPE_IPV4, 2);
  out[4] = 6;
  out[5] = 4;
  out.writeUInt16BE(packet.op, 6);
  packet.senderMac.copy(out, 8);
  packet.senderIp.copy(out, 14);
  packet.targetMac.copy(out, 18);
  packet.targetIp.copy(out, 24);
  return out;
}

export function encodeArpFrame(dst: Buffer, src: Buffer, packet: ArpPacket): Buffer {
  return encodeEthernet(dst, src, ETHERTYPE_ARP, encodeArp(packet));
}

/** Broadcast who-has `targetIp`, as the kernel sends it (THA zero). */
export function arpRequestFrame(mac: Buffer, senderIp: Buffer, targetIp: Buffer): Buffer {
  return encodeArpFrame(BROADCAST_MAC, mac, {
    op: ARP_OP_REQUEST,
    senderMac: mac,
    senderIp,
    targetMac: ZERO_MAC,
    targetIp,
  });
}

/** Answer to `request`: unicast to its sender, claiming `ownedIp` for `mac`. */
export function arpReplyFrame(mac: Buffer, ownedIp: Buffer, request: ArpPacket): Buffer {
  return encodeArpFrame(request.senderMac, mac, {
    op: ARP_OP_REPLY,
    senderMac: mac,
    senderIp: ownedIp,
    targetMac: request.senderMac,
    targetIp: request.senderIp,
  });
}

/** Gratuitous request form (RFC 5227 announcement): SPA = TPA = ip, THA zero, broadcast. */
export function gratuitousArpRequestFrame(mac: Buffer, ip: Buffer): Buffer {
  return encodeArpFrame(BROADCAST_MAC, mac, {
    op: ARP_OP_REQUEST,
    senderMac: mac,
    senderIp: ip,
    targetMac: ZERO_MAC,
    targetIp: ip,
  });
}

/** Gratuitous reply form (arping -A): SPA = TPA = ip, THA = SHA, broadcast. */
export function gratuitousArpReplyFrame(mac: Buffer, ip: Buffer): Buffer {
  return encodeArpFrame(BROADCAST_MAC, mac, {
    op: ARP_OP_REPLY,
    senderMac: mac,
    senderIp: ip,
    targetMac: mac,
    targetIp: ip,
  });
}

/** RFC 5227 probe: SPA 0.0.0.0 so no neighbour cache learns anything from it. */
export function arpProbeFrame(mac: Buffer, ip: Buffer): Buffer {
  return encodeArpFrame(BROADCAST_MAC, mac, {
    op: ARP_OP_REQUEST,
    senderMac: mac,
    senderIp: UNSPECIFIED_IPV4,
    targetMac: ZERO_MAC,
    targetIp: ip,
  });
}

export function isArpProbe(packet: ArpPacket): boolean {
  return packet.op === ARP_OP_REQUEST && packet.senderIp.equals(UNSPECIFIED_IPV4);
}

/** SPA = TPA: an announcement, not a question. */
export function isGratuitousArp(packet: ArpPacket): boolean {
  return packet.senderIp.equals(packet.targetIp);
}

function assertIpv4(ip: Buffer, what: string): void {
  if (ip.length !== 4) throw new Error(`${what} must be 4 bytes, got ${ip.length}`);
}

export function ipv4ToBytes(ip: string): Buffer {
  if (!ipaddr.IPv4.isValidFourPartDecimal(ip)) throw new Error(`not an IPv4 address: "${ip}"`);
  return Buffer.from(ipaddr.IPv4.parse(ip).toByteArray());
}

export function ipv4ToString(bytes: Buffer): string {
  assertIpv4(bytes, 'IPv4 address');
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}
