// IPv6 Neighbor Discovery (RFC 4861): the IPv6 header, Neighbor Solicitation and
// Advertisement with link-layer address options, validated as 7.1.1 / 7.1.2 say.
// Also decodeNeighborFrame, the one entry point for any frame the packet filter
// passes (ARP or ICMPv6 ND).
import ipaddr from 'ipaddr.js';
import { decodeArp, type ArpPacket } from './arp.js';
import { NEXT_HEADER_ICMPV6, icmpv6Checksum } from './checksum.js';
import {
  ETHERNET_HEADER_LENGTH,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV6,
  assertMac,
  decodeEthernet,
  encodeEthernet,
  onlyPaddingAfter,
  refuse,
  type Decoded,
  type EthernetFrame,
} from './ethernet.js';
import { formatIPv6Groups } from '../ip/address.js';

export const IPV6_HEADER_LENGTH = 40;
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
export const OPTION_SOURCE_LINK_LAYER = 1;
export const OPTION_TARGET_LINK_LAYER = 2;
/** ND messages are only valid if no router forwarded them. */
export const ND_HOP_LIMIT = 255;
const ND_MIN_MESSAGE_LENGTH = 24;

export const UNSPECIFIED_IPV6: Buffer = Buffer.alloc(16, 0);
export const ALL_NODES_IPV6: Buffer = Buffer.from('ff020000000000000000000000000001', 'hex');
export const ALL_NODES_MAC: Buffer = Buffer.from('333300000001', 'hex');
const SOLICITED_NODE_PREFIX = Buffer.from('ff0200000000000000000001ff', 'hex');

interface NdpCommon {
  src: Buffer;
  dst: Buffer;
  hopLimit: number;
  target: Buffer;
}
export interface NeighborSolicitation extends NdpCommon {
  type: 'ns';
  /** Absent in DAD solicitations (source ::) and allowed to be absent in unicast NUD. */
  sourceLinkLayer?: Buffer;
}
export interface NeighborAdvertisement extends NdpCommon {
  type: 'na';
  router: boolean;
  solicited: boolean;
  override: boolean;
  targetLinkLayer?: Buffer;
}
export type NdpMessage = NeighborSolicitation | NeighborAdvertisement;

export function isMulticastIpv6(ip: Buffer): boolean {
  return ip[0] === 0xff;
}

export function isUnspecifiedIpv6(ip: Buffer): boolean {
  return ip.equals(UNSPECIFIED_IPV6);
}

/** ff02::1:ffXX:XXXX, XX:XXXX being the address's low 24 bits (RFC 4291 2.7.1). */
export function solicitedNodeAddress(ip: Buffer): Buffer {
  assertIpv6(ip, 'IPv6 address');
  return Buffer.concat([SOLICITED_NODE_PREFIX, ip.subarray(13, 16)]);
}

export function isSolicitedNodeAddress(ip: Buffer): boolean {
  return ip.length === 16 && ip.subarray(0, 13).equals(SOLICITED_NODE_PREFIX);
}

/** 33:33 followed by the group's low 32 bits (RFC 2464 7). */
export function multicastMacForIpv6(group: Buffer): Buffer {
  assertIpv6(group, 'IPv6 multicast group');
  return Buffer.concat([Buffer.from([0x33, 0x33]), group.subarray(12, 16)]);
}

/** Decodes the IPv6 packet carried in an Ethernet payload as an ND message. */
export function decodeNdp(payload: Buffer): Decoded<NdpMessage> {
  if (payload.length < IPV6_HEADER_LENGTH)
    return refuse(`truncated IPv6 header: ${payload.length} bytes < ${IPV6_HEADER_LENGTH}`);
  const version = payload[0]! >> 4;
  if (version !== 6) return refuse(`IP version ${version} in an IPv6 frame`);
  const payloadLength = payload.readUInt16BE(4);
  const packetLength = IPV6_HEADER_LENGTH + payloadLength;
  if (packetLength > payload.length)
    return refuse(
      `truncated IPv6 packet: payload length ${payloadLength}, ${payload.length - IPV6_HEADER_LENGTH} bytes present`,
    );
  if (!onlyPaddingAfter(payload.length + ETHERNET_HEADER_LENGTH, packetLength + ETHERNET_HEADER_LENGTH)) {
    return refuse(`oversized IPv6 frame: ${payload.length - packetLength} bytes after the packet`);
  }
  const nextHeader = payload[6]!;
  if (nextHeader !== NEXT_HEADER_ICMPV6)
    return refuse(`IPv6 next header ${nextHeader} is not ICMPv6 (extension headers are not accepted for ND)`);
  const hopLimit = payload[7]!;
  if (hopLimit !== ND_HOP_LIMIT) return refuse(`ND hop limit ${hopLimit} is not 255 (the message was forwarded)`);
  const src = payload.subarray(8, 24);
  const dst = payload.subarray(24, 40);
  if (isMulticastIpv6(src)) return refuse('IPv6 source is a multicast address');
  const message = payload.subarray(IPV6_HEADER_LENGTH, packetLength);
  if (message.length < 4) return refuse(`truncated ICMPv6 header: ${message.length} bytes`);
  const type = message[0]!;
  if (type !== ICMPV6_NEIGHBOR_SOLICITATION && type !== ICMPV6_NEIGHBOR_ADVERTISEMENT)
    return refuse(`ICMPv6 type ${type} is not NS (135) or NA (136)`);
  if (message[1] !== 0) return refuse(`ND code ${message[1]} is not 0`);
  if (message.length < ND_MIN_MESSAGE_LENGTH)
    return refuse(`truncated ND message: ${message.length} bytes < ${ND_MIN_MESSAGE_LENGTH}`);
  if (icmpv6Checksum(src, dst, message) !== 0) return refuse('bad ICMPv6 checksum');
  const target = message.subarray(8, 24);
  if (isMulticastIpv6(target)) return refuse('ND target is a multicast address');
  const options = decodeLinkLayerOptions(message.subarray(ND_MIN_MESSAGE_LENGTH));
  if (!options.ok) return options;
  const common = { src, dst, hopLimit, target };

  if (type === ICMPV6_NEIGHBOR_SOLICITATION) {
    const sourceLinkLayer = options.value.source;
    if (isUnspecifiedIpv6(src)) {
      if (!isSolicitedNodeAddress(dst))
        return refuse('DAD solicitation (source ::) not sent to a solicited-node group');
      if (sourceLinkLayer) return refuse('DAD solicitation (source ::) carries a source link-layer option');
    }
    return { ok: true, value: { type: 'ns', ...common, sourceLinkLayer } };
  }
  const flags = message[4]!;
  const solicited = (flags & 0x40) !== 0;
  if (solicited && isMulticastIpv6(dst)) return refuse('solicited advertisement sent to a multicast address');
  const targetLinkLayer = options.value.target;
  return {
    ok: true,
    value: {
      type: 'na',
      ...common,
      router: (flags & 0x80) !== 0,
      solicited,
      override: (flags & 0x20) !== 0,
      targetLinkLayer,
    },
  };
}

/** Walks the TLV options; unknown ones are skipped, as RFC 4861 4.6 requires. */
function decodeLinkLayerOptions(bytes: Buffer): Decoded<{ source?: Buffer; target?: Buffer }> {
  const found: { source?: Buffer; target?: Buffer } = {};
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 2) return refuse(`truncated ND option at byte ${offset}`);
    const type = bytes[offset]!;
    const units = bytes[offset + 1]!;
    if (units === 0) return refuse(`ND option ${type} has length 0`);
    const length = units * 8;
    if (offset + length > bytes.length) return refuse(`ND option ${type} of ${length} bytes runs past the message`);
    if (type === OPTION_SOURCE_LINK_LAYER || type === OPTION_TARGET_LINK_LAYER) {
      if (units !== 1) return refuse(`link-layer address option of ${length} bytes is not Ethernet's 8`);
      const address = bytes.subarray(offset + 2, offset + 8);
      const key = type === OPTION_SOURCE_LINK_LAYER ? 'source' : 'target';
      // First occurrence wins; a repeated option is not worth refusing the message.
      if (!found[key]) found[key] = address;
    }
    offset += length;
  }
  return { ok: true, value: found };
}

export interface NdpFrameFields {
  srcMac: Buffer;
  dstMac: Buffer;
  src: Buffer;
  dst: Buffer;
}

export type NdpBody =
  | { type: 'ns'; target: Buffer; sourceLinkLayer?: Buffer }
  | { type: 'na'; target: Buffer; router?: boolean; solicited: boolean; override: boolean; targetLinkLayer?: Buffer };

/** Builds a whole Ethernet frame with a checksummed ND message, hop limit 255. */
export function encodeNdpFrame(fields: NdpFrameFields, body: NdpBody): Buffer {
  assertIpv6(fields.src, 'IPv6 source');
  assertIpv6(fields.dst, 'IPv6 destination');
  assertIpv6(body.target, 'ND target');
  const linkLayer = body.type === 'ns' ? body.sourceLinkLayer : body.targetLinkLayer;
  if (linkLayer) assertMac(linkLayer, 'link-layer option address');
  const message = Buffer.alloc(ND_MIN_MESSAGE_LENGTH + (linkLayer ? 8 : 0));
  if (body.type === 'ns') {
    message[0] = ICMPV6_NEIGHBOR_SOLICITATION;
  } else {
    message[0] = ICMPV6_NEIGHBOR_ADVERTISEMENT;
    message[4] = (body.router ? 0x80 : 0) | (body.solicited ? 0x40 : 0) | (body.override ? 0x20 : 0);
  }
  body.target.copy(message, 8);
  if (linkLayer) {
    message[24] = body.type === 'ns' ? OPTION_SOURCE_LINK_LAYER : OPTION_TARGET_LINK_LAYER;
    message[25] = 1;
    linkLayer.copy(message, 26);
  }
  message.writeUInt16BE(icmpv6Checksum(fields.src, fields.dst, message), 2);
  const header = Buffer.alloc(IPV6_HEADER_LENGTH);
  header[0] = 0x60;
  header.writeUInt16BE(message.length, 4);
  header[6] = NEXT_HEADER_ICMPV6;
  header[7] = ND_HOP_LIMIT;
  fields.src.copy(header, 8);
  fields.dst.copy(header, 24);
  return encodeEthernet(fields.dstMac, fields.srcMac, ETHERTYPE_IPV6, Buffer.concat([header, message]));
}

/** Address resolution: multicast to the target's solicited-node group, with our MAC. */
export function neighborSolicitationFrame(mac: Buffer, src: Buffer, target: Buffer): Buffer {
  const group = solicitedNodeAddress(target);
  return encodeNdpFrame(
    { srcMac: mac, dstMac: multicastMacForIpv6(group), src, dst: group },
    { type: 'ns', target, sourceLinkLayer: mac },
  );
}

/** Unicast NUD probe straight to the neighbour's cached MAC. */
export function unicastSolicitationFrame(mac: Buffer, src: Buffer, target: Buffer, targetMac: Buffer): Buffer {
  return encodeNdpFrame(
    { srcMac: mac, dstMac: targetMac, src, dst: target },
    { type: 'ns', target, sourceLinkLayer: mac },
  );
}

/** Duplicate address detection (RFC 4862 5.4.2): from ::, no source link-layer option. */
export function dadSolicitationFrame(mac: Buffer, target: Buffer): Buffer {
  const group = solicitedNodeAddress(target);
  return encodeNdpFrame(
    { srcMac: mac, dstMac: multicastMacForIpv6(group), src: UNSPECIFIED_IPV6, dst: group },
    { type: 'ns', target },
  );
}

/**
 * Answer to a solicitation from `toIp`/`toMac`: S=1, O=1, with our MAC. The
 * VIP itself is the source since it lives on no interface to borrow from.
 */
export function solicitedAdvertisementFrame(mac: Buffer, target: Buffer, toIp: Buffer, toMac: Buffer): Buffer {
  return encodeNdpFrame(
    { srcMac: mac, dstMac: toMac, src: target, dst: toIp },
    { type: 'na', target, solicited: true, override: true, targetLinkLayer: mac },
  );
}

/** Takeover announcement, and the answer to DAD (RFC 4861 7.2.4): all-nodes, S=0, O=1. */
export function unsolicitedAdvertisementFrame(mac: Buffer, target: Buffer): Buffer {
  return encodeNdpFrame(
    { srcMac: mac, dstMac: ALL_NODES_MAC, src: target, dst: ALL_NODES_IPV6 },
    { type: 'na', target, solicited: false, override: true, targetLinkLayer: mac },
  );
}

export type NeighborFrame =
  | { protocol: 'arp'; ethernet: EthernetFrame; arp: ArpPacket }
  | { protocol: 'ndp'; ethernet: EthernetFrame; ndp: NdpMessage };

/** Decodes any frame as ARP or ND; everything else is refused with a reason. */
export function decodeNeighborFrame(frame: Buffer): Decoded<NeighborFrame> {
  const ethernet = decodeEthernet(frame);
  if (!ethernet.ok) return ethernet;
  if (ethernet.value.etherType === ETHERTYPE_ARP) {
    const arp = decodeArp(ethernet.value.payload);
    return arp.ok ? { ok: true, value: { protocol: 'arp', ethernet: ethernet.value, arp: arp.value } } : arp;
  }
  if (ethernet.value.etherType === ETHERTYPE_IPV6) {
    const ndp = decodeNdp(ethernet.value.payload);
    return ndp.ok ? { ok: true, value: { protocol: 'ndp', ethernet: ethernet.value, ndp: ndp.value } } : ndp;
  }
  return refuse(`EtherType 0x${ethernet.value.etherType.toString(16).padStart(4, '0')} is neither ARP nor IPv6`);
}

function assertIpv6(ip: Buffer, what: string): void {
  if (ip.length !== 16) throw new Error(`${what} must be 16 bytes, got ${ip.length}`);
}

export function ipv6ToBytes(ip: string): Buffer {
  if (!ipaddr.IPv6.isValid(ip) || ip.includes('%')) throw new Error(`not an IPv6 address: "${ip}"`);
  return Buffer.from(ipaddr.IPv6.parse(ip).toByteArray());
}

/**
 * RFC 5952 text (lower case, longest run of two or more zero groups collapsed,
 * the first on ties): the form ownership is keyed by. No ipaddr.js here: it
 * runs for every solicitation received.
 */
export function ipv6ToString(bytes: Buffer): string {
  assertIpv6(bytes, 'IPv6 address');
  const groups: number[] = new Array<number>(8);
  for (let i = 0; i < 8; i++) groups[i] = bytes.readUInt16BE(i * 2);
  return formatIPv6Groups(groups);
}

export type NeighborIp = { family: 4; bytes: Buffer } | { family: 6; bytes: Buffer };

/** Parses an IP as ownership is keyed (dotted quad or RFC 5952 text); throws on anything else. */
export function parseNeighborIp(text: string): NeighborIp {
  if (text.includes(':')) return { family: 6, bytes: ipv6ToBytes(text) };
  if (ipaddr.IPv4.isValidFourPartDecimal(text))
    return { family: 4, bytes: Buffer.from(ipaddr.IPv4.parse(text).toByteArray()) };
  throw new Error(`not an IP address: "${text}"`);
}

/** The canonical text of an address: what owns()/stillOwned() are asked about. */
export function canonicalIp(text: string): string {
  const ip = parseNeighborIp(text);
  return ip.family === 4 ? ip.bytes.join('.') : ipv6ToString(ip.bytes);
}
