// The lab's own, independent reading and writing of ARP and NDP frames. Tests
// judge the code under test by these decoders, never by its own codecs.
import ipaddr from 'ipaddr.js';

export type Mac = string; // lower-case aa:bb:cc:dd:ee:ff

export interface WireArp {
  kind: 'arp';
  ethSrc: Mac;
  ethDst: Mac;
  /** 1 = request, 2 = reply. */
  op: number;
  sha: Mac;
  spa: string;
  tha: Mac;
  tpa: string;
}

export interface WireNdp {
  kind: 'ns' | 'na';
  ethSrc: Mac;
  ethDst: Mac;
  srcIp: string;
  dstIp: string;
  hopLimit: number;
  target: string;
  router: boolean;
  solicited: boolean;
  override: boolean;
  /** Option 1 (NS) and option 2 (NA), when present. */
  sourceLla?: Mac;
  targetLla?: Mac;
}

export type WireFrame = WireArp | WireNdp;

export const BROADCAST: Mac = 'ff:ff:ff:ff:ff:ff';

export function macToString(b: Buffer): Mac {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function macToBuffer(mac: Mac): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new Error(`not a MAC: ${mac}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function ipToBuffer(ip: string): Buffer {
  return Buffer.from(ipaddr.parse(ip).toByteArray());
}

export function ipToString(b: Buffer): string {
  return ipaddr.fromByteArray([...b]).toString();
}

/** Canonical text form, so differently written addresses compare equal. */
export function canonicalIp(ip: string): string {
  return ipaddr.parse(ip).toString();
}

/** ff02::1:ffXX:XXXX for an IPv6 address. */
export function solicitedNode(ip: string): string {
  const b = ipToBuffer(ip);
  const g = Buffer.from(ipToBuffer('ff02::1:ff00:0'));
  b.copy(g, 13, 13, 16);
  return ipToString(g);
}

export function multicastMacFor(ip: string): Mac {
  const b = ipToBuffer(ip);
  return macToString(Buffer.from([0x33, 0x33, b[12]!, b[13]!, b[14]!, b[15]!]));
}

/** Decodes ARP over Ethernet and ICMPv6 NS/NA without extension headers; anything else is undefined. */
export function decodeFrame(data: Buffer): WireFrame | undefined {
  if (data.length < 14) return undefined;
  const ethDst = macToString(data.subarray(0, 6));
  const ethSrc = macToString(data.subarray(6, 12));
  const type = data.readUInt16BE(12);
  if (type === 0x0806) {
    if (data.length < 42 || data.readUInt16BE(14) !== 1 || data.readUInt16BE(16) !== 0x0800) return undefined;
    return {
      kind: 'arp',
      ethSrc,
      ethDst,
      op: data.readUInt16BE(20),
      sha: macToString(data.subarray(22, 28)),
      spa: ipToString(data.subarray(28, 32)),
      tha: macToString(data.subarray(32, 38)),
      tpa: ipToString(data.subarray(38, 42)),
    };
  }
  if (type !== 0x86dd || data.length < 14 + 40 + 24 || data[20] !== 58) return undefined;
  const icmpType = data[54];
  if (icmpType !== 135 && icmpType !== 136) return undefined;
  const flags = data[58]!;
  const frame: WireNdp = {
    kind: icmpType === 135 ? 'ns' : 'na',
    ethSrc,
    ethDst,
    srcIp: ipToString(data.subarray(22, 38)),
    dstIp: ipToString(data.subarray(38, 54)),
    hopLimit: data[21]!,
    target: ipToString(data.subarray(62, 78)),
    router: icmpType === 136 && (flags & 0x80) !== 0,
    solicited: icmpType === 136 && (flags & 0x40) !== 0,
    override: icmpType === 136 && (flags & 0x20) !== 0,
  };
  const end = Math.min(data.length, 54 + data.readUInt16BE(18));
  for (let at = 78; at + 8 <= end; ) {
    const optLen = data[at + 1]! * 8;
    if (optLen === 0) break;
    if (data[at] === 1) frame.sourceLla = macToString(data.subarray(at + 2, at + 8));
    if (data[at] === 2) frame.targetLla = macToString(data.subarray(at + 2, at + 8));
    at += optLen;
  }
  return frame;
}

export function arpFrame(f: Omit<WireArp, 'kind'>): Buffer {
  const b = Buffer.alloc(42);
  macToBuffer(f.ethDst).copy(b, 0);
  macToBuffer(f.ethSrc).copy(b, 6);
  b.writeUInt16BE(0x0806, 12);
  b.writeUInt16BE(1, 14);
  b.writeUInt16BE(0x0800, 16);
  b[18] = 6;
  b[19] = 4;
  b.writeUInt16BE(f.op, 20);
  macToBuffer(f.sha).copy(b, 22);
  ipToBuffer(f.spa).copy(b, 28);
  macToBuffer(f.tha).copy(b, 32);
  ipToBuffer(f.tpa).copy(b, 38);
  return b;
}

function icmp6Checksum(src: Buffer, dst: Buffer, body: Buffer): number {
  const pseudo = Buffer.alloc(40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 16);
  pseudo.writeUInt32BE(body.length, 32);
  pseudo[39] = 58;
  let sum = 0;
  const all = Buffer.concat([pseudo, body, Buffer.alloc(body.length % 2)]);
  for (let i = 0; i < all.length; i += 2) sum += all.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function ndpFrame(f: Omit<WireNdp, 'kind' | 'hopLimit'> & { kind: 'ns' | 'na' }): Buffer {
  const lla = f.kind === 'ns' ? f.sourceLla : f.targetLla;
  const body = Buffer.alloc(24 + (lla ? 8 : 0));
  body[0] = f.kind === 'ns' ? 135 : 136;
  body[4] = (f.router ? 0x80 : 0) | (f.solicited ? 0x40 : 0) | (f.override ? 0x20 : 0);
  ipToBuffer(f.target).copy(body, 8);
  if (lla) {
    body[24] = f.kind === 'ns' ? 1 : 2;
    body[25] = 1;
    macToBuffer(lla).copy(body, 26);
  }
  const src = ipToBuffer(f.srcIp);
  const dst = ipToBuffer(f.dstIp);
  body.writeUInt16BE(icmp6Checksum(src, dst, body), 2);
  const ip = Buffer.alloc(40);
  ip.writeUInt32BE(0x60000000, 0);
  ip.writeUInt16BE(body.length, 4);
  ip[6] = 58;
  ip[7] = 255; // RFC 4861: NDP is only accepted with hop limit 255
  src.copy(ip, 8);
  dst.copy(ip, 24);
  const eth = Buffer.alloc(14);
  macToBuffer(f.ethDst).copy(eth, 0);
  macToBuffer(f.ethSrc).copy(eth, 6);
  eth.writeUInt16BE(0x86dd, 12);
  return Buffer.concat([eth, ip, body]);
}
