// Ethernet II framing and MAC helpers. Pure: Buffer in, Buffer out.

export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERNET_HEADER_LENGTH = 14;
/** Largest untagged frame without FCS (1500-byte MTU). AF_PACKET never hands us more. */
export const MAX_FRAME_LENGTH = 1514;
/** Short frames are padded up to 60 bytes (64 with FCS); bytes past a packet are accepted up to this. */
export const MAX_PADDED_FRAME_LENGTH = 64;

export const BROADCAST_MAC: Buffer = Buffer.alloc(6, 0xff);
export const ZERO_MAC: Buffer = Buffer.alloc(6, 0);

/** Either a decoded value or the reason it was refused: decoders never throw. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

export function refuse(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

export interface EthernetFrame {
  dst: Buffer;
  src: Buffer;
  etherType: number;
  /** Everything after the header, padding included. */
  payload: Buffer;
}

export function decodeEthernet(frame: Buffer): Decoded<EthernetFrame> {
  if (frame.length < ETHERNET_HEADER_LENGTH) return refuse(`truncated Ethernet header: ${frame.length} bytes`);
  if (frame.length > MAX_FRAME_LENGTH) return refuse(`oversized frame: ${frame.length} bytes > ${MAX_FRAME_LENGTH}`);
  return {
    ok: true,
    value: {
      dst: frame.subarray(0, 6),
      src: frame.subarray(6, 12),
      etherType: frame.readUInt16BE(12),
      payload: frame.subarray(ETHERNET_HEADER_LENGTH),
    },
  };
}

export function encodeEthernet(dst: Buffer, src: Buffer, etherType: number, payload: Buffer): Buffer {
  assertMac(dst, 'destination MAC');
  assertMac(src, 'source MAC');
  const header = Buffer.alloc(ETHERNET_HEADER_LENGTH);
  dst.copy(header, 0);
  src.copy(header, 6);
  header.writeUInt16BE(etherType, 12);
  return Buffer.concat([header, payload]);
}

/**
 * Whether the bytes after a packet of `packetLength` (counted from the start of
 * the frame) are only link padding, not a smuggled second payload.
 */
export function onlyPaddingAfter(frameLength: number, packetLength: number): boolean {
  return frameLength === packetLength || frameLength <= MAX_PADDED_FRAME_LENGTH;
}

export function assertMac(mac: Buffer, what = 'MAC'): void {
  if (mac.length !== 6) throw new Error(`${what} must be 6 bytes, got ${mac.length}`);
}

export function isMulticastMac(mac: Buffer): boolean {
  return (mac[0]! & 0x01) === 0x01;
}

export function formatMac(mac: Buffer): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

const MAC_PATTERN = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

export function parseMac(text: string): Buffer {
  if (!MAC_PATTERN.test(text)) throw new Error(`not a MAC address: "${text}" (want aa:bb:cc:dd:ee:ff)`);
  return Buffer.from(text.replace(/[:-]/g, ''), 'hex');
}
