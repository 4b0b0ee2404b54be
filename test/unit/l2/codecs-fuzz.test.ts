// Fuzzing: random bytes and mutated real frames never make a decoder throw,
// and whatever is accepted re-encodes to a frame that decodes to the same thing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeArpFrame } from '../../../src/l2/arp.js';
import { decodeNeighborFrame, encodeNdpFrame, type NeighborFrame } from '../../../src/l2/ndp.js';
import { fixture, fixtureNames } from './helpers.js';

function reencode(decoded: NeighborFrame): Buffer {
  const { ethernet } = decoded;
  if (decoded.protocol === 'arp') return encodeArpFrame(ethernet.dst, ethernet.src, decoded.arp);
  const m = decoded.ndp;
  const fields = { srcMac: ethernet.src, dstMac: ethernet.dst, src: m.src, dst: m.dst };
  return m.type === 'ns'
    ? encodeNdpFrame(fields, { type: 'ns', target: m.target, sourceLinkLayer: m.sourceLinkLayer })
    : encodeNdpFrame(fields, {
        type: 'na',
        target: m.target,
        router: m.router,
        solicited: m.solicited,
        override: m.override,
        targetLinkLayer: m.targetLinkLayer,
      });
}

/** Decoded values compared as plain hex, so views and copies compare equal. */
function snapshot(decoded: NeighborFrame): unknown {
  const body = decoded.protocol === 'arp' ? decoded.arp : decoded.ndp;
  return {
    protocol: decoded.protocol,
    dst: decoded.ethernet.dst.toString('hex'),
    src: decoded.ethernet.src.toString('hex'),
    body: Object.fromEntries(Object.entries(body).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('hex') : v])),
  };
}

function checkFrame(frame: Buffer): boolean {
  const decoded = decodeNeighborFrame(frame);
  if (!decoded.ok) {
    expect(decoded.reason.length).toBeGreaterThan(0);
    return false;
  }
  const again = decodeNeighborFrame(reencode(decoded.value));
  expect(again.ok ? snapshot(again.value) : again.reason).toEqual(snapshot(decoded.value));
  return true;
}

const seeds = fixtureNames.map(fixture);

/** A real frame with a few bytes overwritten, optionally cut or extended. */
const mutatedFrame = fc
  .record({
    seed: fc.constantFrom(...seeds),
    edits: fc.array(fc.record({ at: fc.nat(120), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
    cut: fc.option(fc.nat(120), { nil: undefined }),
    tail: fc.uint8Array({ maxLength: 24 }),
  })
  .map(({ seed, edits, cut, tail }) => {
    const frame = Buffer.concat([seed, Buffer.from(tail)]);
    for (const e of edits) if (e.at < frame.length) frame[e.at] = e.value;
    return cut === undefined ? frame : frame.subarray(0, cut);
  });

describe('decoder fuzzing', () => {
  it('random bytes: never throws, always a reason when refused', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1600 }), (bytes) => void checkFrame(Buffer.from(bytes))),
      { numRuns: 3000 },
    );
  });

  it('random bytes behind an ARP or IPv6 header: never throws', () => {
    const typed = fc
      .tuple(fc.constantFrom(0x0806, 0x86dd), fc.uint8Array({ minLength: 14, maxLength: 200 }))
      .map(([type, bytes]) => {
        const frame = Buffer.from(bytes);
        frame.writeUInt16BE(type, 12);
        return frame;
      });
    fc.assert(
      fc.property(typed, (frame) => void checkFrame(frame)),
      { numRuns: 3000 },
    );
  });

  it('mutated real frames: never throws, accepted ones re-encode consistently', () => {
    let accepted = 0;
    fc.assert(
      fc.property(mutatedFrame, (frame) => {
        if (checkFrame(frame)) accepted++;
      }),
      { numRuns: 5000 },
    );
    // The mutations must leave some frames valid, or the re-encode check proved nothing.
    expect(accepted).toBeGreaterThan(100);
  });

  it('every captured frame survives decode -> encode -> decode', () => {
    for (const frame of seeds) expect(checkFrame(frame)).toBe(true);
  });
});
