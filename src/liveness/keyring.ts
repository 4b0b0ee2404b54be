import { createHash } from 'node:crypto';
import type { SigningKey } from './codec.js';

// The cluster keys: datagrams are signed with the newest and verified with any,
// so a rotation (new key first, old key kept for a while, then dropped) never
// leaves one node refusing another's datagrams, whichever has the new Secret.

export const MIN_KEY_BYTES = 16;
export const MAX_KEYS = 4;

export function keyId(secret: Buffer): number {
  return createHash('sha256').update('ironlb-liveness-key\0').update(secret).digest().readUInt32BE(0);
}

export class KeyRing {
  private keys: SigningKey[] = [];

  /** Keys newest first. */
  constructor(secrets: readonly Buffer[]) {
    this.set(secrets);
  }

  /** Replaces the keys (newest first); throws on an empty, short, duplicate or over-long list and keeps the old keys. */
  set(secrets: readonly Buffer[]): void {
    if (secrets.length === 0) throw new Error('the liveness key ring needs at least one key');
    if (secrets.length > MAX_KEYS) throw new Error(`the liveness key ring holds at most ${MAX_KEYS} keys, got ${secrets.length}`);
    const keys = secrets.map((secret, i) => {
      if (secret.length < MIN_KEY_BYTES) throw new Error(`liveness key ${i} has ${secret.length} bytes; at least ${MIN_KEY_BYTES} are needed`);
      return { id: keyId(secret), secret: Buffer.from(secret) };
    });
    if (new Set(keys.map((k) => k.id)).size !== keys.length) throw new Error('the liveness key ring holds the same key twice');
    this.keys = keys;
  }

  /** The key new datagrams are signed with. */
  signing(): SigningKey {
    return this.keys[0] as SigningKey;
  }

  /** The key with this id, if the ring holds it. */
  find(id: number): SigningKey | undefined {
    return this.keys.find((k) => k.id === id);
  }
}
