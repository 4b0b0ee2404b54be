import { describe, expect, it } from 'vitest';
import { AuthenticatedChannel } from '../../../src/liveness/channel.js';
import {
  decodeMessage,
  encodeMessage,
  MAC_BYTES,
  MAX_DATAGRAM_BYTES,
  type DropReason,
} from '../../../src/liveness/codec.js';
import { KeyRing, keyId } from '../../../src/liveness/keyring.js';
import { ReplayGuard, REPLAY_WINDOW } from '../../../src/liveness/replay.js';
import type { Message } from '../../../src/liveness/types.js';

const KEY_A = Buffer.alloc(32, 0xa1);
const KEY_B = Buffer.alloc(32, 0xb2);
const MEMBERS = new Set(['node-a', 'node-b', 'node-c']);

const heartbeat: Message = {
  type: 'heartbeat',
  sender: 'node-a',
  incarnation: 1_764_000_000_000,
  subscribed: false,
  apiCutOff: false,
  records: [
    { kind: 'dead', node: 'node-c', incarnation: 7 },
    { kind: 'alive', node: 'node-b', incarnation: 2 ** 53 - 1 },
  ],
};

function channel(keys: Buffer[] = [KEY_A], members = MEMBERS) {
  return new AuthenticatedChannel({ keys: new KeyRing(keys), isMember: (n) => members.has(n) });
}

/** Opens a datagram in a fresh receiver and returns what it counted. */
function refusal(datagram: Buffer, receiver = channel()): DropReason | 'accepted' {
  const message = receiver.open(datagram);
  if (message !== undefined) return 'accepted';
  const reasons = Object.entries(receiver.dropped).filter(([, n]) => n > 0);
  expect(reasons).toHaveLength(1);
  return reasons[0]?.[0] as DropReason;
}

describe('liveness codec', () => {
  it('round-trips every field through seal and open', () => {
    const sender = channel();
    const receiver = channel();
    const notice: Message = {
      type: 'notice',
      sender: 'node-b',
      incarnation: 0,
      subscribed: false,
      apiCutOff: false,
      records: [{ kind: 'suspect', node: 'node-a', incarnation: 5 }],
    };
    expect(receiver.open(sender.seal(heartbeat))).toEqual(heartbeat);
    expect(receiver.open(sender.seal({ ...heartbeat, subscribed: true, records: [] }))).toEqual({
      ...heartbeat,
      subscribed: true,
      records: [],
    });
    for (const flags of [
      { subscribed: false, apiCutOff: true },
      { subscribed: true, apiCutOff: true },
    ]) {
      expect(receiver.open(sender.seal({ ...heartbeat, ...flags }))).toEqual({ ...heartbeat, ...flags });
    }
    expect(receiver.open(sender.seal(notice))).toEqual(notice);
    for (const kind of ['left', 'watch', 'ping', 'ack', 'doubt'] as const) {
      const m: Message = { ...notice, records: [{ kind, node: 'node-c', incarnation: 1 }] };
      expect(receiver.open(sender.seal(m))).toEqual(m);
    }
  });

  it('lays the header out as documented', () => {
    const bytes = encodeMessage(heartbeat, 9, { id: keyId(KEY_A), secret: KEY_A });
    expect(bytes.subarray(0, 5)).toEqual(Buffer.from([0x49, 0x4c, 1, 1, 0]));
    expect(bytes.readUInt32BE(5)).toBe(keyId(KEY_A));
    expect(Number(bytes.readBigUInt64BE(9))).toBe(heartbeat.incarnation);
    expect(Number(bytes.readBigUInt64BE(17))).toBe(9);
    expect(bytes.readUInt8(25)).toBe('node-a'.length);
  });

  it('refuses a datagram that is truncated anywhere', () => {
    const bytes = channel().seal(heartbeat);
    for (let cut = 0; cut < bytes.length; cut++) {
      const reason = refusal(bytes.subarray(0, cut));
      // Cutting the tail shifts the MAC window: it parses as a shorter, bad message, never as accepted.
      expect(reason, `cut at ${cut}`).not.toBe('accepted');
    }
    expect(refusal(bytes.subarray(0, 1))).toBe('truncated');
    expect(refusal(bytes.subarray(0, 30))).toBe('truncated');
  });

  it('refuses an oversized datagram before parsing it', () => {
    const bytes = Buffer.concat([channel().seal(heartbeat), Buffer.alloc(MAX_DATAGRAM_BYTES)]);
    expect(refusal(bytes)).toBe('oversized');
  });

  it('refuses wrong magic and unknown versions', () => {
    const bytes = channel().seal(heartbeat);
    const magic = Buffer.from(bytes);
    magic[0] = 0x00;
    expect(refusal(magic)).toBe('bad-magic');
    const version = Buffer.from(bytes);
    version[2] = 2;
    expect(refusal(version)).toBe('bad-version');
  });

  it('refuses malformed content: bad type, flags, kind, name, counter or trailing bytes', () => {
    const key = { id: keyId(KEY_A), secret: KEY_A };
    const bytes = encodeMessage(heartbeat, 1, key);
    const patch = (at: number, value: number) => {
      const b = Buffer.from(bytes);
      b[at] = value;
      return b;
    };
    expect(refusal(patch(3, 9))).toBe('malformed'); // type
    expect(refusal(patch(4, 4))).toBe('malformed'); // an unknown flag
    const notice: Message = { ...heartbeat, type: 'notice', apiCutOff: true };
    expect(refusal(encodeMessage(notice, 1, key))).toBe('malformed'); // a flag on a notice
    expect(refusal(patch(9, 0xff))).toBe('malformed'); // incarnation >= 2^53
    expect(refusal(patch(26, 'A'.charCodeAt(0)))).toBe('malformed'); // upper-case name
    const firstRecord = 25 + 1 + 'node-a'.length + 1;
    expect(refusal(patch(firstRecord, 0))).toBe('malformed'); // record kind 0
    expect(refusal(patch(firstRecord + 9, 0))).toBe('malformed'); // empty name
    const withTrailer = Buffer.concat([
      bytes.subarray(0, bytes.length - MAC_BYTES),
      Buffer.from([0]),
      bytes.subarray(bytes.length - MAC_BYTES),
    ]);
    expect(refusal(withTrailer)).toBe('malformed');
  });

  it('refuses a forged datagram: content changed, MAC recomputed under another key, or MAC flipped', () => {
    const bytes = channel().seal(heartbeat);
    const changed = Buffer.from(bytes);
    changed[changed.length - MAC_BYTES - 1] ^= 0x01; // last byte of the last name
    expect(refusal(changed)).toBe('bad-mac');
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1] ^= 0x80;
    expect(refusal(flipped)).toBe('bad-mac');
    // An attacker who knows a key id but not the key.
    const forged = encodeMessage(heartbeat, 0, { id: keyId(KEY_A), secret: Buffer.alloc(32, 0x66) });
    expect(refusal(forged)).toBe('bad-mac');
  });

  it('refuses a datagram under a key the ring does not hold', () => {
    expect(refusal(channel([KEY_B]).seal(heartbeat))).toBe('unknown-key');
  });

  it('refuses a datagram from a node that is not a member', () => {
    expect(refusal(channel().seal({ ...heartbeat, sender: 'node-z' }))).toBe('unknown-sender');
  });

  it('refuses a replayed datagram, and an older incarnation of its sender', () => {
    const sender = channel();
    const receiver = channel();
    const first = sender.seal(heartbeat);
    expect(receiver.open(first)).toBeDefined();
    expect(refusal(first, receiver)).toBe('replayed');
    const newer = channel().seal({ ...heartbeat, incarnation: heartbeat.incarnation + 1 });
    expect(receiver.open(newer)).toBeDefined();
    // Authentic, never seen, but from the incarnation before: stale.
    expect(receiver.open(sender.seal(heartbeat))).toBeUndefined();
    expect(receiver.dropped.replayed).toBe(2);
  });

  it('counts each refusal and never throws on what it refuses', () => {
    const receiver = channel();
    for (const junk of [Buffer.alloc(0), Buffer.from('hello'), Buffer.alloc(MAX_DATAGRAM_BYTES + 1)])
      expect(receiver.open(junk)).toBeUndefined();
    expect(receiver.dropped).toMatchObject({ truncated: 1, 'bad-magic': 1, oversized: 1 });
  });

  it('key rotation: signs with the newest key and accepts the previous one', () => {
    const oldOnly = channel([KEY_A]);
    const rotated = new AuthenticatedChannel({ keys: new KeyRing([KEY_B, KEY_A]), isMember: (n) => MEMBERS.has(n) });
    const newOnly = channel([KEY_B]);
    const fromRotated = rotated.seal(heartbeat);
    expect(decodeMessage(fromRotated).ok && decodeMessage(fromRotated)).toMatchObject({ keyId: keyId(KEY_B) });
    expect(newOnly.open(fromRotated)).toBeDefined();
    expect(rotated.open(oldOnly.seal({ ...heartbeat, sender: 'node-b' }))).toBeDefined();
    expect(refusal(oldOnly.seal({ ...heartbeat, sender: 'node-c' }), newOnly)).toBe('unknown-key');
  });

  it('the encoder refuses what it cannot carry', () => {
    const key = { id: 1, secret: KEY_A };
    expect(() => encodeMessage({ ...heartbeat, sender: 'Bad_Name' }, 0, key)).toThrow(/not a valid node name/);
    expect(() => encodeMessage({ ...heartbeat, incarnation: -1 }, 0, key)).toThrow(/incarnation/);
    expect(() => encodeMessage(heartbeat, 2 ** 53, key)).toThrow(/sequence/);
    const many = Array.from({ length: 40 }, (_, i) => ({
      kind: 'dead' as const,
      node: `node-${'x'.repeat(20)}-${i}`,
      incarnation: 1,
    }));
    expect(() => encodeMessage({ ...heartbeat, records: many }, 0, key)).toThrow(/exceeds 1200/);
  });
});

describe('KeyRing', () => {
  it('accepts a new key at once but signs with it only after the adoption delay', () => {
    let now = 0;
    const ring = new KeyRing([KEY_A], { now: () => now, adoptAfterMs: 1_000 });
    ring.set([KEY_B, KEY_A]);
    expect(ring.find(keyId(KEY_B))).toBeDefined();
    expect(ring.signing().id).toBe(keyId(KEY_A));
    now = 999;
    expect(ring.signing().id).toBe(keyId(KEY_A));
    now = 1_000;
    expect(ring.signing().id).toBe(keyId(KEY_B));
    // The old key removed before the new one is adopted: nothing else to sign with.
    const hasty = new KeyRing([KEY_A], { now: () => now, adoptAfterMs: 1_000 });
    hasty.set([KEY_B]);
    expect(hasty.signing().id).toBe(keyId(KEY_B));
    expect(() => new KeyRing([KEY_A], { adoptAfterMs: -1 })).toThrow(/adoption delay/);
  });

  it('refuses an empty, short, duplicate or over-long key list, keeping the keys it had', () => {
    const ring = new KeyRing([KEY_A]);
    expect(() => ring.set([])).toThrow(/at least one key/);
    expect(() => ring.set([Buffer.alloc(8)])).toThrow(/at least 16/);
    expect(() => ring.set([KEY_A, Buffer.from(KEY_A)])).toThrow(/same key twice/);
    expect(() => ring.set([1, 2, 3, 4, 5].map((i) => Buffer.alloc(32, i)))).toThrow(/at most 4/);
    expect(ring.signing().id).toBe(keyId(KEY_A));
  });
});

describe('ReplayGuard', () => {
  it('accepts each sequence once within the window, in any order, and nothing older than the window', () => {
    const guard = new ReplayGuard();
    const accept = (seq: number, inc = 1) => {
      const fresh = guard.isFresh('n', inc, seq);
      if (fresh) guard.record('n', inc, seq);
      return fresh;
    };
    expect(accept(10)).toBe(true);
    expect(accept(12)).toBe(true);
    expect(accept(11)).toBe(true); // reordered
    expect(accept(11)).toBe(false);
    expect(accept(12)).toBe(false);
    expect(accept(10 + REPLAY_WINDOW + 5)).toBe(true);
    expect(accept(12)).toBe(false); // fell out of the window
    expect(accept(3, 2)).toBe(true); // new incarnation resets
    expect(accept(500, 1)).toBe(false); // older incarnation
  });

  it('forgets departed senders', () => {
    const guard = new ReplayGuard();
    guard.record('gone', 1, 1);
    guard.retain((n) => n !== 'gone');
    expect(guard.isFresh('gone', 1, 1)).toBe(true);
  });
});
