import { createHash } from 'node:crypto';
import type { SigningKey } from './codec.js';

// The cluster keys. Datagrams are verified with any key in the ring and signed
// with the newest key this node has held for `adoptAfterMs`, so a rotation
// never makes one node refuse another's datagrams: every node learns the new
// key (and accepts it) before any node signs with it.
//
// Rotation: put the new key first in the Secret and keep the old one; once
// every node has had it for `adoptAfterMs`, all sign with it; then remove the
// old key. A ring built at process start signs with its first key at once.

export const MIN_KEY_BYTES = 16;
export const MAX_KEYS = 4;

export function keyId(secret: Buffer): number {
  return createHash('sha256').update('ironlb-liveness-key\0').update(secret).digest().readUInt32BE(0);
}

export interface KeyRingOptions {
  /** Clock for adoption (milliseconds; default Date.now). */
  now?: () => number;
  /** How long a newly added key is only accepted before it signs (default 60 s). */
  adoptAfterMs?: number;
}

interface HeldKey extends SigningKey {
  /** When this ring first held the key (-Infinity: from the start). */
  since: number;
}

export class KeyRing {
  private keys: HeldKey[] = [];
  private readonly now: () => number;
  private readonly adoptAfterMs: number;

  /** Keys newest first. */
  constructor(secrets: readonly Buffer[], options: KeyRingOptions = {}) {
    this.now = options.now ?? Date.now;
    this.adoptAfterMs = options.adoptAfterMs ?? 60_000;
    if (!(this.adoptAfterMs >= 0)) throw new Error(`key adoption delay must be >= 0 ms, got ${this.adoptAfterMs}`);
    this.keys = this.validate(secrets).map((k) => ({ ...k, since: Number.NEGATIVE_INFINITY }));
  }

  /**
   * Replaces the keys (newest first); throws on an empty, short, duplicate or over-long list and keeps the old keys.
   */
  set(secrets: readonly Buffer[]): void {
    const now = this.now();
    this.keys = this.validate(secrets).map((k) => ({
      ...k,
      since: this.keys.find((old) => old.id === k.id)?.since ?? now,
    }));
  }

  /** The key new datagrams are signed with: the newest adopted one, else the newest. */
  signing(): SigningKey {
    const now = this.now();
    const adopted = this.keys.find((k) => now - k.since >= this.adoptAfterMs);
    return adopted ?? (this.keys[0] as SigningKey);
  }

  /** The key with this id, if the ring holds it. */
  find(id: number): SigningKey | undefined {
    return this.keys.find((k) => k.id === id);
  }

  private validate(secrets: readonly Buffer[]): SigningKey[] {
    if (secrets.length === 0) throw new Error('the liveness key ring needs at least one key');
    if (secrets.length > MAX_KEYS)
      throw new Error(`the liveness key ring holds at most ${MAX_KEYS} keys, got ${secrets.length}`);
    const keys = secrets.map((secret, i) => {
      if (secret.length < MIN_KEY_BYTES)
        throw new Error(`liveness key ${i} has ${secret.length} bytes; at least ${MIN_KEY_BYTES} are needed`);
      return { id: keyId(secret), secret: Buffer.from(secret) };
    });
    if (new Set(keys.map((k) => k.id)).size !== keys.length)
      throw new Error('the liveness key ring holds the same key twice');
    return keys;
  }
}
