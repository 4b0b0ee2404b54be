// Real SpeakerRuntimes and real failure detectors on one virtual clock
// (test/sim/speakers.ts): an in-memory Lease store with the API server's
// compare-and-swap rules, the simulated datagram network of test/sim between
// the detectors, and the fake layer-2 segment. Nothing sleeps: minutes of
// cluster life run in milliseconds, the same way on every run (seeded).
import { afterEach, describe, expect, it } from 'vitest';
import { ipLeaseName } from '../../src/api/leases.js';
import { ipRange } from '../sim/segment.js';
import { run, VirtualCluster as Cluster } from '../sim/speakers.js';

/** The speaker's defaults (docs/election.md): 10 s heartbeat, 40 s lease, 150 ms stagger, 1.2 s settle. */
const TIMING = { heartbeatIntervalMs: 10_000, leaseDurationMs: 40_000, staggerMs: 150, settleMs: 1200 };

class VirtualCluster extends Cluster {
  constructor(seed: number) {
    super({ seed, timing: TIMING, mesh: true });
  }
}

const NODES = ['node-a', 'node-b', 'node-c', 'node-d'];
const IPS = ipRange(8);

describe('speakers on a virtual clock (real runtime, real detector, simulated network)', () => {
  let cluster: VirtualCluster | undefined;
  afterEach(() => {
    cluster?.stopAll();
    cluster = undefined;
  });

  it('kill -9 of an owner: the others take its IPs within a virtual second, one answer per IP', async () => {
    const c = (cluster = new VirtualCluster(7));
    await c.place(NODES, IPS);
    await run(c.scheduler, 5000);
    const victim = 'node-b';
    const lost = IPS.filter((ip) => c.segment.ownerOf(ip) === victim);
    expect(lost.length).toBeGreaterThan(0);
    const killedAt = c.scheduler.now();
    c.kill(victim);
    const replaced = await run(c.scheduler, 5000, () => lost.every((ip) => c.segment.ownerOf(ip) !== undefined));
    expect(replaced).toBe(true);
    expect(c.scheduler.now() - killedAt).toBeLessThan(1000);
    await run(c.scheduler, 60_000);
    expect(c.exactlyOneEach(IPS)).toBe(true);
    for (const ip of IPS) expect(c.store.holder(ipLeaseName(ip))).toBe(c.segment.ownerOf(ip));
  });

  it('UDP blocked between two nodes, API fine: nothing moves', async () => {
    const c = (cluster = new VirtualCluster(11));
    await c.place(NODES, IPS);
    await run(c.scheduler, 5000);
    const before = c.owners(IPS);
    c.network.blockPair('node-a', 'node-b');
    for (let minute = 0; minute < 5; minute++) {
      await run(c.scheduler, 60_000);
      expect(c.owners(IPS)).toEqual(before);
    }
    // The block held: node-a and node-b each suspect the other, and neither is dead to anyone.
    expect(c.network.lost).toBeGreaterThan(0);
    expect(c.speakers.get('node-a')?.liveness?.verdict('node-b')).not.toBe('dead');
    expect(c.speakers.get('node-c')?.liveness?.verdict('node-a')).toBe('alive');
    expect(c.exactlyOneEach(IPS)).toBe(true);
  });

  it('1% datagram loss for 10 virtual minutes: no ownership change', async () => {
    const c = (cluster = new VirtualCluster(23));
    await c.place(NODES, IPS);
    await run(c.scheduler, 5000);
    const before = c.owners(IPS);
    c.network.loss = 0.01;
    for (let minute = 0; minute < 10; minute++) {
      await run(c.scheduler, 60_000);
      expect(c.owners(IPS)).toEqual(before);
    }
    expect(c.network.lost).toBeGreaterThan(0);
    expect(c.exactlyOneEach(IPS)).toBe(true);
  });
});
