import { describe, expect, it } from 'vitest';
import { Ring } from '../../../src/liveness/ring.js';

const names = Array.from({ length: 12 }, (_, i) => `node-${i}`);
const everyone = () => true;

describe('Ring', () => {
  it('orders the same members the same way whatever the input order', () => {
    const a = new Ring(names);
    const b = new Ring([...names].reverse());
    for (const n of names) expect(b.successors(n, 3, everyone)).toEqual(a.successors(n, 3, everyone));
  });

  it('successors and predecessors mirror each other: x watches p exactly when p sends to x', () => {
    const ring = new Ring(names);
    for (const x of names) {
      for (const p of ring.predecessors(x, 3, everyone)) expect(ring.successors(p, 3, everyone)).toContain(x);
    }
  });

  it('skips members that are not live, and never returns the node itself', () => {
    const ring = new Ring(names);
    const [first, second] = ring.successors('node-0', 2, everyone);
    const live = (n: string) => n !== first;
    expect(ring.successors('node-0', 2, live)).toEqual([second, ring.successors('node-0', 3, everyone)[2]]);
    expect(new Ring(['solo']).successors('solo', 3, everyone)).toEqual([]);
    expect(new Ring(['a', 'b']).successors('a', 3, everyone)).toEqual(['b']);
    expect(ring.successors('not-a-member', 3, everyone)).toEqual([]);
  });
});
