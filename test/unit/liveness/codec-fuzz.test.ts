// Fuzzing the liveness decoder: random bytes and mutated authentic datagrams
// never make it throw, no mutation is ever accepted, and every message the
// encoder can carry comes back unchanged.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthenticatedChannel } from '../../../src/liveness/channel.js';
import { decodeMessage, DROP_REASONS, MAX_DATAGRAM_BYTES } from '../../../src/liveness/codec.js';
import { KeyRing } from '../../../src/liveness/keyring.js';
import type { Message, RecordKind } from '../../../src/liveness/types.js';

const KEY = Buffer.alloc(32, 7);
const keys = new KeyRing([KEY]);
const nodeName = fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,30}[a-z0-9])?$/);
const counter = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const kind = fc.constantFrom<RecordKind>('alive', 'suspect', 'dead', 'left', 'watch', 'ping', 'ack', 'doubt');
const message: fc.Arbitrary<Message> = fc
  .record({
    type: fc.constantFrom<'heartbeat' | 'notice'>('heartbeat', 'notice'),
    sender: nodeName,
    incarnation: counter,
    subscribed: fc.boolean(),
    apiCutOff: fc.boolean(),
    records: fc.array(fc.record({ kind, node: nodeName, incarnation: counter }), { maxLength: 20 }),
  })
  .map((m) => ({
    ...m,
    subscribed: m.type === 'heartbeat' && m.subscribed,
    apiCutOff: m.type === 'heartbeat' && m.apiCutOff,
  }));

const everyone = () => new AuthenticatedChannel({ keys, isMember: () => true });

describe('liveness decoder fuzzing', () => {
  it('random bytes: never throws, always refused with a known reason', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: MAX_DATAGRAM_BYTES + 16 }), (bytes) => {
        const result = decodeMessage(Buffer.from(bytes));
        if (!result.ok) expect(DROP_REASONS).toContain(result.reason);
        const channel = everyone();
        expect(channel.open(Buffer.from(bytes))).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('random bytes behind a valid header prefix: never throws, never accepted', () => {
    const prefix = everyone()
      .seal({ type: 'notice', sender: 'node-a', incarnation: 1, subscribed: false, apiCutOff: false, records: [] })
      .subarray(0, 25);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (tail) => {
        expect(everyone().open(Buffer.concat([prefix, Buffer.from(tail)]))).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('every encodable message round-trips', () => {
    fc.assert(
      fc.property(message, (m) => {
        const sender = everyone();
        let bytes: Buffer;
        try {
          bytes = sender.seal(m);
        } catch (error) {
          // Only size may stop a well-formed message.
          expect(String(error)).toMatch(/exceeds/);
          return;
        }
        expect(everyone().open(bytes)).toEqual(m);
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated authentic datagrams (flip, cut, insert): never throws, never accepted', () => {
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    );
    fc.assert(
      fc.property(message, fc.array(mutation, { minLength: 1, maxLength: 4 }), (m, mutations) => {
        let bytes: Buffer;
        try {
          bytes = everyone().seal(m);
        } catch {
          return;
        }
        let mutated = Buffer.from(bytes);
        for (const mu of mutations) {
          const at = mu.at % (mutated.length + 1);
          if (mu.op === 'flip' && at < mutated.length) mutated[at] = (mutated[at] as number) ^ (1 << mu.bit);
          else if (mu.op === 'cut') mutated = mutated.subarray(0, at);
          else if (mu.op === 'insert')
            mutated = Buffer.concat([mutated.subarray(0, at), Buffer.from([mu.byte]), mutated.subarray(at)]);
        }
        fc.pre(!mutated.equals(bytes));
        expect(everyone().open(mutated)).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });
});
