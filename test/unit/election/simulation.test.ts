import { describe, expect, it } from 'vitest';
import { ElectionMachine, type OwnershipView } from '../../../src/election/machine.js';

// Several election machines on one simulated clock, sharing a compare-and-swap
// Lease table with instant, ordered delivery: the protocol itself, without
// an API server's latency (the integration tests add that).

const LD = 3000;
const HEARTBEAT = 1000;
const STAGGER = 150;
const STEP = 10;

class Simulation {
  readonly machines = new Map<string, ElectionMachine>();
  readonly leases = new Map<string, OwnershipView>();
  readonly alive = new Set<string>();
  now = 0;
  private version = 0;
  writes = 0;

  constructor(nodes: string[]) {
    for (const node of nodes) {
      this.machines.set(node, new ElectionMachine({ self: node, leaseDurationMs: LD, staggerMs: STAGGER }));
      this.alive.add(node);
    }
    this.beat();
    for (const m of this.machines.values()) m.markSynced(this.now);
  }

  /** A speaker process started again: a fresh machine that lists every Lease. */
  restart(node: string, eligible: Map<string, string[]>): void {
    const m = new ElectionMachine({ self: node, leaseDurationMs: LD, staggerMs: STAGGER });
    for (const [ip, lease] of this.leases) m.observeLease(ip, lease, this.now);
    for (const [ip, nodes] of eligible) m.setEligible(ip, new Set(nodes));
    this.machines.set(node, m);
    this.alive.add(node);
    this.beat();
    m.markSynced(this.now);
  }

  setEligible(ips: string[], nodes: string[]): void {
    for (const m of this.machines.values()) for (const ip of ips) m.setEligible(ip, new Set(nodes));
  }

  private beat(): void {
    for (const node of this.alive) {
      this.version++;
      for (const [observer, m] of this.machines)
        if (this.alive.has(observer))
          m.observeHeartbeat(node, { resourceVersion: String(this.version), macs: [] }, this.now);
    }
  }

  run(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now += STEP;
      if (this.now % HEARTBEAT === 0) this.beat();
      for (const [node, m] of this.machines) {
        if (!this.alive.has(node)) continue;
        for (const intent of m.evaluate(this.now).intents) {
          if (intent.kind !== 'acquire' && intent.kind !== 'release') continue;
          this.writes++;
          const current = this.leases.get(intent.ip);
          if (current?.resourceVersion !== intent.expectedResourceVersion) {
            m.writeFinished(intent.ip, { kind: 'conflict' }, this.now);
            m.observeLeaseRead(intent.ip, current, this.now);
            continue;
          }
          const written = { holder: intent.kind === 'acquire' ? node : '', resourceVersion: String(++this.version) };
          this.leases.set(intent.ip, written);
          m.writeFinished(intent.ip, { kind: 'ok', lease: written }, this.now);
          for (const [other, o] of this.machines)
            if (other !== node && this.alive.has(other)) o.observeLease(intent.ip, written, this.now);
        }
      }
    }
  }

  spread(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const { holder } of this.leases.values()) counts[holder] = (counts[holder] ?? 0) + 1;
    return counts;
  }
}

const ips = (n: number) => Array.from({ length: n }, (_, i) => `192.0.2.${i + 1}`);

describe('election protocol on a simulated clock', () => {
  it('places 30 IPs 10/10/10 on three speakers with one write per IP', () => {
    const sim = new Simulation(['a', 'b', 'c']);
    sim.setEligible(ips(30), ['a', 'b', 'c']);
    sim.run(2 * LD);
    expect(sim.spread()).toEqual({ a: 10, b: 10, c: 10 });
    expect(sim.writes).toBe(30);
  });

  it('spreads a dead node evenly over the survivors, after lease-duration, and moves nothing else', () => {
    const sim = new Simulation(['a', 'b', 'c']);
    sim.setEligible(ips(30), ['a', 'b', 'c']);
    sim.run(2 * LD);
    const before = new Map([...sim.leases].map(([ip, l]) => [ip, l.holder]));
    sim.alive.delete('b');
    const writesBefore = sim.writes;
    sim.run(LD - HEARTBEAT);
    expect(sim.writes).toBe(writesBefore);
    sim.run(2 * LD);
    expect(sim.spread()).toEqual({ a: 15, c: 15 });
    expect(sim.writes - writesBefore).toBe(10);
    for (const [ip, holder] of before) if (holder !== 'b') expect(sim.leases.get(ip)?.holder).toBe(holder);
  });

  it('does not fail back when the dead node comes back (sticky)', () => {
    const sim = new Simulation(['a', 'b']);
    sim.setEligible(ips(4), ['a', 'b']);
    sim.run(2 * LD);
    sim.alive.delete('b');
    sim.run(3 * LD);
    expect(sim.spread()).toEqual({ a: 4 });
    sim.restart('b', new Map(ips(4).map((ip) => [ip, ['a', 'b']])));
    const writes = sim.writes;
    sim.run(3 * LD);
    expect(sim.spread()).toEqual({ a: 4 });
    expect(sim.writes).toBe(writes);
  });
});
