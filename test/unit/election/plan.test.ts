import { describe, expect, it } from 'vitest';
import { planTakeovers, rendezvousWeight } from '../../../src/election/plan.js';

const ips = (n: number) => Array.from({ length: n }, (_, i) => `192.0.2.${i + 1}`);

describe('planTakeovers', () => {
  it('spreads the IPs of a dead node evenly over the remaining candidates', () => {
    const nodes = ['n1', 'n2', 'n3'];
    const plan = planTakeovers(
      ips(30).map((ip) => ({ ip, candidates: nodes })),
      new Map(),
    );
    const counts = new Map<string, number>();
    for (const ranked of plan.values()) counts.set(ranked[0] ?? '', (counts.get(ranked[0] ?? '') ?? 0) + 1);
    expect([...counts.values()].sort()).toEqual([10, 10, 10]);
  });

  it('counts current holdings: the emptiest node is planned first', () => {
    const plan = planTakeovers(
      ips(4).map((ip) => ({ ip, candidates: ['n1', 'n2'] })),
      new Map([['n1', 3]]),
    );
    // n2 starts 3 behind, so it gets the first 3 before n1's turn comes; the 4th is a tie.
    const firsts = [...plan.values()].map((r) => r[0]);
    expect(firsts.slice(0, 3)).toEqual(['n2', 'n2', 'n2']);
  });

  it('is the same whatever order the IPs and candidates come in', () => {
    const input = ips(20).map((ip, i) => ({ ip, candidates: i % 2 ? ['n1', 'n2', 'n3'] : ['n3', 'n1'] }));
    const reversed = [...input].reverse().map((o) => ({ ip: o.ip, candidates: [...o.candidates].reverse() }));
    expect(planTakeovers(reversed, new Map())).toEqual(planTakeovers(input, new Map()));
  });

  it('ranks every candidate exactly once (duplicates collapse)', () => {
    const plan = planTakeovers([{ ip: '198.51.100.1', candidates: ['n2', 'n1', 'n2'] }], new Map());
    expect([...(plan.get('198.51.100.1') ?? [])].sort()).toEqual(['n1', 'n2']);
  });

  it('breaks ties by rendezvous weight, highest first', () => {
    const ip = '203.0.113.7';
    const plan = planTakeovers([{ ip, candidates: ['n1', 'n2', 'n3'] }], new Map());
    const weights = (plan.get(ip) ?? []).map((n) => rendezvousWeight(ip, n));
    expect(weights).toEqual([...weights].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
  });

  it('rejects an IP listed twice', () => {
    expect(() =>
      planTakeovers(
        [
          { ip: '192.0.2.1', candidates: ['a'] },
          { ip: '192.0.2.1', candidates: ['b'] },
        ],
        new Map(),
      ),
    ).toThrow(/listed twice/);
  });

  it('rendezvous weights differ per node and per IP and are stable', () => {
    expect(rendezvousWeight('192.0.2.1', 'n1')).toBe(rendezvousWeight('192.0.2.1', 'n1'));
    expect(rendezvousWeight('192.0.2.1', 'n1')).not.toBe(rendezvousWeight('192.0.2.1', 'n2'));
    expect(rendezvousWeight('192.0.2.1', 'n1')).not.toBe(rendezvousWeight('192.0.2.2', 'n1'));
    // First 8 bytes of sha256("192.0.2.1\0n1") big-endian, computed with Python's hashlib:
    // a change here would split the plans of a cluster running two versions.
    expect(rendezvousWeight('192.0.2.1', 'n1')).toBe(0x66f4cb70848103ffn);
  });
});
