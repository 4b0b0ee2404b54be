import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Message, NodeRecord, RecordKind } from './types.js';

// The liveness datagram, version 1 (all integers big-endian):
//
//   0   2  magic "IL" (0x49 0x4c)
//   2   1  version = 1
//   3   1  type: 1 heartbeat, 2 notice
//   4   1  flags (heartbeat only; 0 on a notice): bit 0 = subscribed (sent on a
//          watch request), bit 1 = API cut-off (no API contact for a lease-duration)
//   5   4  key id (first 4 bytes of SHA-256 over a label and the key)
//   9   8  sender incarnation (< 2^53)
//   17  8  sequence number (< 2^53, per sender, never reused in one incarnation)
//   25  1  sender name length n (1..253), then n bytes of name
//   ..  1  record count, then per record:
//          1 kind (1 alive 2 suspect 3 dead 4 left 5 watch 6 ping 7 ack 8 doubt),
//          8 incarnation, 1 name length, name
//   ..  32 HMAC-SHA256 under the key, over every byte before it
//
// Decoding never throws: it returns the reason a datagram is refused.

export const MAGIC = 0x494c;
export const VERSION = 1;
export const MAC_BYTES = 32;
/** Fits an IPv6 minimum-MTU path (1280 - 40 IPv6 - 8 UDP) with room to spare. */
export const MAX_DATAGRAM_BYTES = 1200;
const HEADER_BYTES = 25;
const FLAG_SUBSCRIBED = 1;
const FLAG_API_CUT_OFF = 2;
const KNOWN_FLAGS = FLAG_SUBSCRIBED | FLAG_API_CUT_OFF;
const MAX_NAME_BYTES = 253;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A Kubernetes node name: a DNS subdomain (RFC 1123), lower case. */
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export type DecodeFailure = 'truncated' | 'oversized' | 'bad-magic' | 'bad-version' | 'malformed';
export type DropReason = DecodeFailure | 'unknown-key' | 'bad-mac' | 'unknown-sender' | 'replayed';
export const DROP_REASONS: readonly DropReason[] = [
  'truncated',
  'oversized',
  'bad-magic',
  'bad-version',
  'malformed',
  'unknown-key',
  'bad-mac',
  'unknown-sender',
  'replayed',
];

const KIND_CODES: Record<RecordKind, number> = {
  alive: 1,
  suspect: 2,
  dead: 3,
  left: 4,
  watch: 5,
  ping: 6,
  ack: 7,
  doubt: 8,
};
const KINDS: readonly (RecordKind | undefined)[] = [
  undefined,
  'alive',
  'suspect',
  'dead',
  'left',
  'watch',
  'ping',
  'ack',
  'doubt',
];

export interface SigningKey {
  id: number;
  secret: Buffer;
}

export interface Decoded {
  ok: true;
  message: Message;
  seq: number;
  keyId: number;
  /** The bytes the MAC covers, and the MAC. */
  signed: Buffer;
  mac: Buffer;
}
export type DecodeResult = Decoded | { ok: false; reason: DecodeFailure };

export function isNodeName(name: string): boolean {
  return name.length <= MAX_NAME_BYTES && NODE_NAME.test(name);
}

/** Encoded size of one record (the detector packs piggybacked rumours with it). */
export function recordBytes(record: NodeRecord): number {
  return 1 + 8 + 1 + Buffer.byteLength(record.node);
}

/** Encoded size of a message with no records. */
export function messageOverheadBytes(sender: string): number {
  return HEADER_BYTES + 1 + Buffer.byteLength(sender) + 1 + MAC_BYTES;
}

function checkName(name: string, what: string): void {
  if (!isNodeName(name))
    throw new Error(
      `${what} ${JSON.stringify(name)} is not a valid node name (DNS subdomain, at most ${MAX_NAME_BYTES} bytes)`,
    );
}

function checkCounter(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`${what} must be an integer in [0, 2^53), got ${value}`);
}

export function mac(secret: Buffer, bytes: Buffer): Buffer {
  return createHmac('sha256', secret).update(bytes).digest();
}

/** Encodes and signs a message; throws on a message this codec cannot carry (a caller bug). */
export function encodeMessage(message: Message, seq: number, key: SigningKey): Buffer {
  checkName(message.sender, 'sender');
  checkCounter(message.incarnation, 'incarnation');
  checkCounter(seq, 'sequence number');
  if (message.records.length > 255) throw new Error(`at most 255 records per datagram, got ${message.records.length}`);
  let size = messageOverheadBytes(message.sender);
  for (const record of message.records) {
    checkName(record.node, 'record node');
    checkCounter(record.incarnation, 'record incarnation');
    size += recordBytes(record);
  }
  if (size > MAX_DATAGRAM_BYTES) throw new Error(`datagram of ${size} bytes exceeds ${MAX_DATAGRAM_BYTES}`);
  const buf = Buffer.alloc(size);
  buf.writeUInt16BE(MAGIC, 0);
  buf.writeUInt8(VERSION, 2);
  buf.writeUInt8(message.type === 'heartbeat' ? 1 : 2, 3);
  buf.writeUInt8((message.subscribed ? FLAG_SUBSCRIBED : 0) | (message.apiCutOff ? FLAG_API_CUT_OFF : 0), 4);
  buf.writeUInt32BE(key.id >>> 0, 5);
  buf.writeBigUInt64BE(BigInt(message.incarnation), 9);
  buf.writeBigUInt64BE(BigInt(seq), 17);
  let at = HEADER_BYTES;
  at = writeName(buf, at, message.sender);
  buf.writeUInt8(message.records.length, at++);
  for (const record of message.records) {
    buf.writeUInt8(KIND_CODES[record.kind], at++);
    buf.writeBigUInt64BE(BigInt(record.incarnation), at);
    at += 8;
    at = writeName(buf, at, record.node);
  }
  mac(key.secret, buf.subarray(0, at)).copy(buf, at);
  return buf;
}

function writeName(buf: Buffer, at: number, name: string): number {
  const length = buf.write(name, at + 1, 'utf8');
  buf.writeUInt8(length, at);
  return at + 1 + length;
}

/** Parses a datagram's structure; the MAC is checked by the caller, which holds the keys. */
export function decodeMessage(buf: Buffer): DecodeResult {
  if (buf.length > MAX_DATAGRAM_BYTES) return { ok: false, reason: 'oversized' };
  if (buf.length < 2) return { ok: false, reason: 'truncated' };
  if (buf.readUInt16BE(0) !== MAGIC) return { ok: false, reason: 'bad-magic' };
  if (buf.length < 3) return { ok: false, reason: 'truncated' };
  if (buf.readUInt8(2) !== VERSION) return { ok: false, reason: 'bad-version' };
  if (buf.length < HEADER_BYTES + 1 + MAC_BYTES) return { ok: false, reason: 'truncated' };
  const typeCode = buf.readUInt8(3);
  const flags = buf.readUInt8(4);
  if ((typeCode !== 1 && typeCode !== 2) || (flags & ~KNOWN_FLAGS) !== 0 || (typeCode === 2 && flags !== 0)) {
    return { ok: false, reason: 'malformed' };
  }
  const keyId = buf.readUInt32BE(5);
  const incarnation = readCounter(buf, 9);
  const seq = readCounter(buf, 17);
  if (incarnation === undefined || seq === undefined) return { ok: false, reason: 'malformed' };
  const end = buf.length - MAC_BYTES;
  const sender = readName(buf, HEADER_BYTES, end);
  if (typeof sender === 'string') return { ok: false, reason: sender === 'truncated' ? 'truncated' : 'malformed' };
  let at = sender.next;
  if (at >= end) return { ok: false, reason: 'truncated' };
  const count = buf.readUInt8(at++);
  const records: NodeRecord[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 9 > end) return { ok: false, reason: 'truncated' };
    const kind = KINDS[buf.readUInt8(at)];
    const recordIncarnation = readCounter(buf, at + 1);
    if (kind === undefined || recordIncarnation === undefined) return { ok: false, reason: 'malformed' };
    const name = readName(buf, at + 9, end);
    if (typeof name === 'string') return { ok: false, reason: name === 'truncated' ? 'truncated' : 'malformed' };
    records.push({ kind, node: name.name, incarnation: recordIncarnation });
    at = name.next;
  }
  if (at !== end) return { ok: false, reason: 'malformed' };
  const message: Message = {
    type: typeCode === 1 ? 'heartbeat' : 'notice',
    sender: sender.name,
    incarnation,
    subscribed: (flags & FLAG_SUBSCRIBED) !== 0,
    apiCutOff: (flags & FLAG_API_CUT_OFF) !== 0,
    records,
  };
  return { ok: true, message, seq, keyId, signed: buf.subarray(0, end), mac: buf.subarray(end) };
}

function readCounter(buf: Buffer, at: number): number | undefined {
  const value = buf.readBigUInt64BE(at);
  return value > BigInt(MAX_SAFE) ? undefined : Number(value);
}

function readName(buf: Buffer, at: number, end: number): { name: string; next: number } | 'truncated' | 'malformed' {
  if (at >= end) return 'truncated';
  const length = buf.readUInt8(at);
  if (length === 0) return 'malformed';
  if (at + 1 + length > end) return 'truncated';
  const name = buf.toString('utf8', at + 1, at + 1 + length);
  // A non-ASCII byte fails the pattern, so a name always re-encodes to the same bytes.
  if (!isNodeName(name)) return 'malformed';
  return { name, next: at + 1 + length };
}

/** Constant-time MAC comparison. */
export function macMatches(secret: Buffer, decoded: Decoded): boolean {
  return timingSafeEqual(mac(secret, decoded.signed), decoded.mac);
}
