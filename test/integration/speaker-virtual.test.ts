// Real SpeakerRuntimes and real failure detectors on one virtual clock
// (test/sim/speakers.ts): an in-memory Lease store with the API server's
// compare-and-swap rules, the simulated datagram network of test/sim between
// the detectors, and the fake layer-2 segment. Nothing sleeps: minutes of
// cluster life run in milliseconds, the same way on every run (seeded).
import { afterEach, describe, expect, it } from 'vitest';
import { ipLeaseName, memberLeaseName, nodeLeaseName } from '../../src/api/leases.js';
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
    const c = new VirtualCluster(7);
    cluster = c;
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
    const c = new VirtualCluster(11);
    cluster = c;
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
    const c = new VirtualCluster(23);
    cluster = c;
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
  it('(e) a speaker cut off from the API only: the mesh declares it dead, IPs move, a fence silences it', async () => {
    const c = new VirtualCluster(31);
    cluster = c;
    await c.place(NODES, IPS);
    // Past a lease-duration of renewals every speaker is steady on the API.
    await run(c.scheduler, 60_000);
    const victim = 'node-c';
    const held = IPS.filter((ip) => c.segment.ownerOf(ip) === victim);
    expect(held.length).toBeGreaterThan(0);
    c.speaker(victim).store.severed = true;
    // Its last renewal was at most one heartbeat ago: flagged within a lease-duration more, then detected.
    await c.until(
      'its IPs answered by the others',
      () => held.every((ip) => ![victim, undefined].includes(c.segment.ownerOf(ip))),
      60_000,
    );
    for (const other of NODES.filter((n) => n !== victim))
      expect(c.speaker(other).liveness?.verdict(victim)).toBe('dead');
    expect(held.filter((ip) => c.speaker(victim).runtime.machine.isAnnouncing(ip))).toEqual([]);
    // The fence acts on the new owner's first announcement (the stale owner learns of the takeover no other
    // way): from then on one answer per IP.
    const oneAnswerEach = () => IPS.every((ip) => c.segment.answering.get(ip)?.size === 1);
    expect(oneAnswerEach()).toBe(true);
    c.speaker(victim).store.severed = false;
    await c.until('it rejoins the mesh', () =>
      NODES.every((n) => n === victim || c.speaker(n).liveness?.verdict(victim) === 'alive'),
    );
    await run(c.scheduler, 60_000);
    expect(c.consistent(IPS)).toBe(true);
    expect(oneAnswerEach()).toBe(true);
  });

  it('(d) an API outage of three lease-durations moves nothing, nor does its end (a node back 10 s late)', async () => {
    const c = new VirtualCluster(37);
    cluster = c;
    await c.place(NODES, IPS);
    await run(c.scheduler, 60_000);
    const before = c.owners(IPS);
    c.store.outage(true);
    await run(c.scheduler, 3 * TIMING.leaseDurationMs);
    expect(c.owners(IPS)).toEqual(before);
    // node-b reaches the API again 10 s after the others: still flagged, but nobody is steady yet.
    c.speaker('node-b').store.severed = true;
    c.store.outage(false);
    await run(c.scheduler, 10_000);
    c.speaker('node-b').store.severed = false;
    for (let minute = 0; minute < 3; minute++) {
      await run(c.scheduler, 60_000);
      expect(c.owners(IPS)).toEqual(before);
    }
    for (const n of NODES) for (const m of NODES) if (n !== m) expect(c.speaker(n).liveness?.verdict(m)).toBe('alive');
    expect(c.exactlyOneEach(IPS)).toBe(true);
  });

  it('a speaker gone for good: member and heartbeat Leases go after 10 lease-durations; live ones stay', async () => {
    const c = new VirtualCluster(41);
    cluster = c;
    await c.place(NODES, IPS);
    await run(c.scheduler, 5000);
    c.kill('node-d');
    await run(c.scheduler, 5 * TIMING.leaseDurationMs);
    expect(c.store.lease(memberLeaseName('node-d'))).toBeDefined();
    await c.until(
      "node-d's Leases deleted",
      () => c.store.lease(memberLeaseName('node-d')) === undefined,
      10 * TIMING.leaseDurationMs,
    );
    await c.until(
      'its heartbeat Lease too',
      () => c.store.lease(nodeLeaseName('node-d')) === undefined,
      TIMING.leaseDurationMs,
    );
    for (const n of NODES.filter((n) => n !== 'node-d')) {
      expect(c.store.lease(memberLeaseName(n))).toBeDefined();
      expect(c.store.lease(nodeLeaseName(n))).toBeDefined();
    }
    // Nobody is left to judge by the heartbeat Leases: the listings stop.
    const lists = c.store.count('list');
    await run(c.scheduler, 10 * TIMING.leaseDurationMs);
    expect(c.store.count('list') - lists).toBeLessThanOrEqual(NODES.length);
    expect(c.exactlyOneEach(IPS)).toBe(true);
  });
});
