import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FreeIntervalSet } from '../../../src/ipam/free-set.js';

const UNIVERSE = 48;

type Op =
  | { kind: 'take'; value: number }
  | { kind: 'release'; value: number }
  | { kind: 'takeLowest' }
  | { kind: 'addRange'; start: number; length: number };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('take' as const), value: fc.integer({ min: 0, max: UNIVERSE - 1 }) }),
  fc.record({ kind: fc.constant('release' as const), value: fc.integer({ min: 0, max: UNIVERSE - 1 }) }),
  fc.record({ kind: fc.constant('takeLowest' as const) }),
  fc.record({
    kind: fc.constant('addRange' as const),
    start: fc.integer({ min: 0, max: UNIVERSE - 1 }),
    length: fc.integer({ min: 1, max: 6 }),
  }),
);

describe('FreeIntervalSet against a plain set of numbers', () => {
  test('every operation agrees with the model and intervals stay sorted, disjoint and merged', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { maxLength: 120 }), (ops) => {
        const set = new FreeIntervalSet();
        const model = new Set<number>();
        for (const op of ops) {
          if (op.kind === 'take') {
            expect(set.take(BigInt(op.value))).toBe(model.delete(op.value));
          } else if (op.kind === 'release') {
            const wasFree = model.has(op.value);
            model.add(op.value);
            expect(set.release(BigInt(op.value))).toBe(!wasFree);
          } else if (op.kind === 'takeLowest') {
            const lowest = model.size === 0 ? undefined : Math.min(...model);
            if (lowest !== undefined) model.delete(lowest);
            expect(set.takeLowest()).toBe(lowest === undefined ? undefined : BigInt(lowest));
          } else {
            const values = Array.from({ length: op.length }, (_, i) => op.start + i);
            const anyFree = values.some((v) => model.has(v));
            if (!anyFree) for (const v of values) model.add(v);
            expect(set.addRange(BigInt(op.start), BigInt(op.start + op.length - 1))).toBe(!anyFree);
          }
          expect(set.size).toBe(BigInt(model.size));
          const intervals = set.intervals();
          expect(set.intervalCount).toBe(intervals.length);
          for (let i = 1; i < intervals.length; i++) {
            // +1: adjacent intervals must have been merged.
            expect(intervals[i]![0] > intervals[i - 1]![1] + 1n).toBe(true);
          }
          const flattened: number[] = [];
          for (const [start, end] of intervals) for (let v = start; v <= end; v++) flattened.push(Number(v));
          expect(flattened).toEqual([...model].sort((a, b) => a - b));
        }
      }),
      { numRuns: 300 },
    );
  });

  test('holds a 2^64 range as one interval and counts it exactly', () => {
    const set = new FreeIntervalSet();
    set.addRange(0n, (1n << 64n) - 1n);
    expect(set.size).toBe(1n << 64n);
    expect(set.take(1n << 63n)).toBe(true);
    expect(set.intervalCount).toBe(2);
    expect(set.size).toBe((1n << 64n) - 1n);
  });

  test('a reversed range is a programming error', () => {
    expect(() => new FreeIntervalSet().addRange(5n, 4n)).toThrow(RangeError);
  });
});
