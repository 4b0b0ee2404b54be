// The controller's leader election (src/kube/leader.ts) on a virtual clock,
// with its default durations (15 s lease, 10 s renew deadline, 2 s retry), on
// Leases with the API server's rules (test/sim/leader-leases.ts). The same
// cases run in real time against the double and a real API server in
// test/integration/kube-leader.test.ts; here "never" and "not before" are
// checked at every timer over many lease durations.
import { describe, expect, it } from 'vitest';
import { VirtualScheduler } from '../../../src/clock/virtual.js';
import { LeaderElector, type LeaderElectionOptions } from '../../../src/kube/leader.js';
import { seededRandom } from '../../kube/faults.js';
import { VirtualLeaderLeases } from '../../sim/leader-leases.js';
import { run } from '../../sim/speakers.js';

const LEASE = 'ironlb-controller';
const LEASE_MS = 15_000;
const DEADLINE_MS = 10_000;
const RETRY_MS = 2_000;

function setUp(seed = 1) {
  const scheduler = new VirtualScheduler(0);
  const leases = new VirtualLeaderLeases(scheduler);
  const random = seededRandom(seed);
  const replica = (identity: string, options: Partial<LeaderElectionOptions> = {}) => {
    const log: { at: number; event: string }[] = [];
    const elector = new LeaderElector({
      leases,
      leaseName: LEASE,
      identity,
      scheduler,
      random,
      onStartedLeading: () => log.push({ at: scheduler.now(), event: 'started' }),
      onStoppedLeading: () => log.push({ at: scheduler.now(), event: 'stopped' }),
      ...options,
    });
    return { elector, log, events: () => log.map((l) => l.event) };
  };
  /** Runs `ms`, checking after every timer that at most one replica believes it leads. */
  const runChecked = async (ms: number, electors: LeaderElector[], until?: () => boolean) => {
    let both = false;
    const held = await run(scheduler, ms, () => {
      if (electors.filter((e) => e.isLeader()).length > 1) both = true;
      return until?.() ?? false;
    });
    expect(both, 'two replicas led at once').toBe(false);
    return held;
  };
  /** stop() waits for the request in flight and writes the release: the clock runs while it does. */
  const stopAll = async (...electors: LeaderElector[]) => {
    let stopped = false;
    const stopping = Promise.all(electors.map((e) => e.stop())).then(() => (stopped = true));
    if (!(await run(scheduler, 120_000, () => stopped))) throw new Error('the electors did not stop');
    await stopping;
  };
  return { scheduler, leases, replica, runChecked, stopAll };
}

describe('LeaderElector on a virtual clock', () => {
  it('of two electors exactly one leads, at every moment of 20 lease durations, and keeps the lease', async () => {
    const { leases, replica, runChecked, stopAll } = setUp();
    const a = replica('a');
    const b = replica('b');
    a.elector.start();
    b.elector.start();
    const someone = () => a.elector.isLeader() || b.elector.isLeader();
    expect(await runChecked(10_000, [a.elector, b.elector], someone)).toBe(true);
    const [leader, standby] = a.elector.isLeader() ? [a, b] : [b, a];
    const first = leases.peek(LEASE);
    await runChecked(20 * LEASE_MS, [a.elector, b.elector]);
    expect(leader.elector.isLeader()).toBe(true);
    expect(leader.events()).toEqual(['started']);
    expect(standby.events()).toEqual([]);
    const later = leases.peek(LEASE);
    expect(later?.spec?.holderIdentity).toBe(leader === a ? 'a' : 'b');
    expect(later?.spec?.leaseTransitions).toBe(first?.spec?.leaseTransitions);
    // Renewed all along: at least once per retry period and a half (the standby never saw it expire).
    const renewals = leases.writes.filter((w) => w.holder === (leader === a ? 'a' : 'b')).length;
    expect(renewals).toBeGreaterThanOrEqual((20 * LEASE_MS) / (1.5 * RETRY_MS));
    expect(a.elector.currentLeader()).toBe(later?.spec?.holderIdentity);
    expect(b.elector.currentLeader()).toBe(later?.spec?.holderIdentity);
    await stopAll(a.elector, b.elector);
  });

  it('a vanished leader (no release) is replaced only after its lease expired on the standby clock', async () => {
    const { scheduler, leases, replica, runChecked, stopAll } = setUp(2);
    const a = replica('a', { releaseOnStop: false });
    a.elector.start();
    await run(scheduler, 10_000, () => a.elector.isLeader());
    const b = replica('b');
    b.elector.start();
    await run(scheduler, 10_000, () => b.elector.currentLeader() === 'a');
    await stopAll(a.elector);
    // The last change b could have seen is a's last renewal.
    const lastChange = scheduler.now();
    expect(leases.peek(LEASE)?.spec?.holderIdentity).toBe('a');
    expect(await runChecked(LEASE_MS, [b.elector], () => b.elector.isLeader())).toBe(false);
    expect(await runChecked(2 * RETRY_MS, [b.elector], () => b.elector.isLeader())).toBe(true);
    expect(scheduler.now() - lastChange).toBeGreaterThan(LEASE_MS);
    expect(leases.peek(LEASE)?.spec?.holderIdentity).toBe('b');
    expect(leases.peek(LEASE)?.spec?.leaseTransitions).toBe(1);
    await stopAll(b.elector);
  });

  it('judges expiry from when the lease last changed, not from its renewTime (clock skew)', async () => {
    const { scheduler, leases, replica, stopAll } = setUp(3);
    // A holder whose clock runs an hour behind: its renewTime looks long expired.
    const anHourAgo = new Date(Date.now() - 3_600_000);
    leases.put({
      metadata: { name: LEASE },
      spec: { holderIdentity: 'skewed', leaseDurationSeconds: 20, renewTime: anHourAgo, acquireTime: anHourAgo },
    });
    const b = replica('b');
    b.elector.start();
    await run(scheduler, 10_000, () => b.elector.currentLeader() === 'skewed');
    const seenAt = scheduler.now();
    // Not expired on b's clock until the lease's own 20 s have passed since b saw it.
    expect(await run(scheduler, 19_000, () => b.elector.isLeader())).toBe(false);
    expect(await run(scheduler, 2 * RETRY_MS + 1000, () => b.elector.isLeader())).toBe(true);
    expect(scheduler.now() - seenAt).toBeGreaterThan(20_000);
    await stopAll(b.elector);
  });

  it('an API server that stops answering: the leader steps down within the renew deadline, before expiry', async () => {
    const { scheduler, leases, replica, runChecked, stopAll } = setUp(4);
    const a = replica('a');
    const b = replica('b');
    a.elector.start();
    await run(scheduler, 10_000, () => a.elector.isLeader());
    b.elector.start();
    await run(scheduler, 10_000, () => b.elector.currentLeader() === 'a');
    // Every answer now comes a minute late: renewals reach the server, but the leader never hears back.
    leases.latencyMs = 60_000;
    const hungAt = scheduler.now();
    expect(await runChecked(LEASE_MS, [a.elector, b.elector], () => !a.elector.isLeader())).toBe(true);
    // Stepped down once the deadline passed with no answer: within renewDeadline of the last answered renewal.
    expect(scheduler.now() - hungAt).toBeLessThanOrEqual(DEADLINE_MS + RETRY_MS);
    expect(a.events()).toEqual(['started', 'stopped']);
    leases.latencyMs = 0;
    await runChecked(3 * LEASE_MS, [a.elector, b.elector], () => a.elector.isLeader() || b.elector.isLeader());
    expect(a.elector.isLeader() || b.elector.isLeader()).toBe(true);
    await stopAll(a.elector, b.elector);
  });

  it('steps down when it cannot renew within the renew deadline, and leads again once it can', async () => {
    const { scheduler, leases, replica, stopAll } = setUp(5);
    const a = replica('a');
    a.elector.start();
    await run(scheduler, 10_000, () => a.elector.isLeader());
    leases.down = true;
    const downAt = scheduler.now();
    expect(await run(scheduler, DEADLINE_MS - RETRY_MS, () => !a.elector.isLeader())).toBe(false);
    expect(await run(scheduler, 2 * RETRY_MS, () => !a.elector.isLeader())).toBe(true);
    expect(scheduler.now() - downAt).toBeLessThan(LEASE_MS);
    expect(a.events()).toEqual(['started', 'stopped']);
    leases.down = false;
    expect(await run(scheduler, LEASE_MS + 2 * RETRY_MS, () => a.elector.isLeader())).toBe(true);
    expect(a.events()).toEqual(['started', 'stopped', 'started']);
    await stopAll(a.elector);
  });

  it('steps down within a retry period when another holder took the lease', async () => {
    const { scheduler, leases, replica, stopAll } = setUp(6);
    const a = replica('a');
    a.elector.start();
    await run(scheduler, 10_000, () => a.elector.isLeader());
    const lease = leases.peek(LEASE);
    if (lease === undefined) throw new Error('lease missing');
    leases.put({ ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', renewTime: new Date() } });
    const stolenAt = scheduler.now();
    expect(await run(scheduler, 1.5 * RETRY_MS, () => !a.elector.isLeader())).toBe(true);
    expect(scheduler.now() - stolenAt).toBeLessThanOrEqual(1.5 * RETRY_MS);
    expect(a.elector.currentLeader()).toBe('intruder');
    // And it does not take the lease back while the intruder's lease has not expired.
    expect(await run(scheduler, LEASE_MS - RETRY_MS, () => a.elector.isLeader())).toBe(false);
    await stopAll(a.elector);
  });
});
