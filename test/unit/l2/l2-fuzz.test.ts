// Hostile wire: whatever arrives, the responder and wire watch never throw, the
// responder only ever sends valid frames from its MAC about IPs it owns, and
// the watch only reports held IPs for MACs not ours.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipv4ToString } from '../../../src/l2/arp.js';
import { decodeNeighborFrame, ipv6ToString } from '../../../src/l2/ndp.js';
import { Responder } from '../../../src/l2/responder.js';
import { WireWatch, type WireClaim } from '../../../src/l2/wire-watch.js';
import { FakeWire, fixture, fixtureNames } from './helpers.js';

// The captured frames concern these addresses, so mutations land on owned IPs often.
const OWNED = new Set(['192.0.2.1', '192.0.2.2', '2001:db8::1', '2001:db8::2']);
const SPEAKER_MAC = '02:00:00:00:0f:01';

const hostileFrame = fc.oneof(
  fc.uint8Array({ maxLength: 1600 }).map((b) => Buffer.from(b)),
  fc
    .record({
      seed: fc.constantFrom(...fixtureNames.map(fixture)),
      edits: fc.array(fc.record({ at: fc.nat(100), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 3 }),
      cut: fc.option(fc.nat(100), { nil: undefined }),
    })
    .map(({ seed, edits, cut }) => {
      const frame = Buffer.from(seed);
      for (const e of edits) if (e.at < frame.length) frame[e.at] = e.value;
      return cut === undefined ? frame : frame.subarray(0, cut);
    }),
);

function subjectOf(frame: Buffer): string {
  const d = decodeNeighborFrame(frame);
  if (!d.ok) throw new Error(`responder sent an invalid frame: ${d.reason}`);
  if (d.value.protocol === 'arp') {
    expect(d.value.arp.op).toBe(2);
    return ipv4ToString(d.value.arp.senderIp);
  }
  expect(d.value.ndp.type).toBe('na');
  return ipv6ToString(d.value.ndp.target);
}

describe('layer 2 on a hostile wire', () => {
  it('responder and watch: no throw, replies only valid and only for owned IPs, claims only foreign', () => {
    let replies = 0;
    let claimsSeen = 0;
    fc.assert(
      fc.property(fc.array(hostileFrame, { minLength: 1, maxLength: 8 }), (frames) => {
        const wire = new FakeWire();
        const socket = wire.socket('eth0', SPEAKER_MAC);
        const claims: WireClaim[] = [];
        new Responder(socket, { owns: (ip) => OWNED.has(ip) });
        new WireWatch([socket], { holds: (ip) => OWNED.has(ip), onClaim: (c) => claims.push(c) });
        for (const f of frames) wire.inject(f);
        for (const reply of wire.sentBy('eth0')) {
          expect(reply.subarray(6, 12).toString('hex')).toBe(SPEAKER_MAC.replace(/:/g, ''));
          expect(OWNED.has(subjectOf(reply))).toBe(true);
          replies++;
        }
        for (const c of claims) {
          expect(OWNED.has(c.ip)).toBe(true);
          expect(c.mac).not.toBe(SPEAKER_MAC);
          claimsSeen++;
        }
      }),
      { numRuns: 1500 },
    );
    // Otherwise the checks above ran on nothing.
    expect(replies).toBeGreaterThan(50);
    expect(claimsSeen).toBeGreaterThan(50);
  });
});
