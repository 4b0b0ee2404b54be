import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  LeaderElector,
  LeaseClient,
  createKubeClient,
  type KubeClient,
  type LeaderElectionOptions,
  type LeaderLeases,
} from '../../src/kube/index.js';
import { apiTargets, createTestNamespace, deleteTestNamespace, type ApiTarget } from '../kube/targets.js';
import { waitFor } from '../wait.js';

// Leader election through a Lease, on the double and (when configured) a real
// API server. Durations are short so the tests run quickly; waits are
// generous and assert order, not speed.

const LEASE = 'ironlb-controller';

/** The elector's calls on `leases`, as a plain object a test can wrap. */
function bind(leases: LeaseClient): LeaderLeases {
  return { get: leases.get.bind(leases), create: leases.create.bind(leases), update: leases.update.bind(leases) };
}

interface Replica {
  elector: LeaderElector;
  log: string[];
}

for (const factory of apiTargets()) {
  describe(`LeaderElector (${factory.name})`, () => {
    let target: ApiTarget;
    let client: KubeClient;
    let leases: LeaseClient;
    let ns: string;
    const electors: LeaderElector[] = [];

    const replica = (identity: string, options: Partial<LeaderElectionOptions> = {}): Replica => {
      const log: string[] = [];
      const elector = new LeaderElector({
        leases,
        leaseName: LEASE,
        identity,
        // Short, yet several renewals fit in one lease duration even on a loaded machine.
        leaseDurationMs: 3000,
        renewDeadlineMs: 2000,
        retryPeriodMs: 200,
        onStartedLeading: () => log.push('started'),
        onStoppedLeading: () => log.push('stopped'),
        ...options,
      });
      electors.push(elector);
      return { elector, log };
    };

    /** Until the lease has been written `n` more times (each a renewal while one replica leads). */
    const renewals = async (n: number) => {
      const versions = new Set<string>();
      await waitFor(`${n} renewals`, async () => {
        versions.add((await leases.get(LEASE))?.metadata?.resourceVersion ?? '');
        return versions.size > n;
      });
    };

    beforeAll(async () => {
      target = await factory.start();
      client = createKubeClient({ kubeConfig: target.kubeConfig, requestTimeoutMs: 1000 });
    });
    afterAll(async () => {
      await target.stop();
    });
    beforeEach(async () => {
      ns = await createTestNamespace(target.kubeConfig);
      leases = new LeaseClient(client, ns);
    });
    afterEach(async () => {
      for (const elector of electors.splice(0)) await elector.stop();
      await deleteTestNamespace(target.kubeConfig, ns);
    });

    it('of two electors exactly one leads; the lease names it', async () => {
      const a = replica('a');
      const b = replica('b');
      a.elector.start();
      b.elector.start();
      await waitFor('a leader', () => a.elector.isLeader() || b.elector.isLeader());
      // Several renewals later there is still exactly one.
      await renewals(3);
      const leaders = [a, b].filter((r) => r.elector.isLeader());
      expect(leaders).toHaveLength(1);
      const leader = leaders[0]!;
      const lease = await leases.get(LEASE);
      expect(lease?.spec?.holderIdentity).toBe(leader === a ? 'a' : 'b');
      expect(leader.log).toEqual(['started']);
      expect((leader === a ? b : a).log).toEqual([]);
      expect(a.elector.currentLeader()).toBe(lease?.spec?.holderIdentity);
      expect(b.elector.currentLeader()).toBe(lease?.spec?.holderIdentity);
    });

    it('renews: the leader keeps the lease across many lease durations', async () => {
      const a = replica('a');
      a.elector.start();
      await waitFor('a leads', () => a.elector.isLeader());
      const first = await leases.get(LEASE);
      const b = replica('b');
      b.elector.start();
      // Until a's renewals span more than a lease duration (3 s) since its first write.
      const firstRenew = first?.spec?.renewTime?.getTime() ?? Infinity;
      await waitFor('renewals across a lease duration', async () => {
        const renewed = (await leases.get(LEASE))?.spec?.renewTime?.getTime() ?? 0;
        return renewed - firstRenew > 3000;
      });
      expect(a.elector.isLeader()).toBe(true);
      expect(b.elector.isLeader()).toBe(false);
      const later = await leases.get(LEASE);
      expect(later?.spec?.holderIdentity).toBe('a');
      expect(later?.spec?.leaseTransitions).toBe(first?.spec?.leaseTransitions);
      expect(later?.spec?.renewTime?.getTime()).toBeGreaterThan(first?.spec?.renewTime?.getTime() ?? Infinity);
    });

    it('on stop the leader releases the lease; the standby takes over at once, not after its duration', async () => {
      // A lease duration of a minute: only the release can explain a takeover within the wait below.
      const long = { leaseDurationMs: 60_000, renewDeadlineMs: 30_000, retryPeriodMs: 200 };
      const a = replica('a', long);
      a.elector.start();
      await waitFor('a leads', () => a.elector.isLeader());
      const b = replica('b', long);
      b.elector.start();
      await waitFor('b has seen the lease', () => b.elector.currentLeader() === 'a');
      await a.elector.stop();
      expect(a.log).toEqual(['started', 'stopped']);
      await waitFor('b takes over', () => b.elector.isLeader(), 10_000);
      const lease = await leases.get(LEASE);
      expect(lease?.spec?.holderIdentity).toBe('b');
      expect(lease?.spec?.leaseTransitions).toBe(1);
    });

    it('a leader that vanishes without releasing is replaced once its lease expires on the standby clock', async () => {
      const a = replica('a', { releaseOnStop: false });
      a.elector.start();
      await waitFor('a leads', () => a.elector.isLeader());
      const b = replica('b');
      b.elector.start();
      await waitFor('b has seen the lease', () => b.elector.currentLeader() === 'a');
      await a.elector.stop();
      expect((await leases.get(LEASE))?.spec?.holderIdentity).toBe('a');
      await waitFor('b takes over', () => b.elector.isLeader());
      expect((await leases.get(LEASE))?.spec?.holderIdentity).toBe('b');
    });

    it('judges expiry from when the lease last changed, not from its renewTime (clock skew)', async () => {
      // A holder whose clock runs an hour behind: its renewTime looks long expired.
      const anHourAgo = new Date(Date.now() - 3_600_000);
      await leases.create(LEASE, {
        holderIdentity: 'skewed',
        leaseDurationSeconds: 2,
        renewTime: anHourAgo,
        acquireTime: anHourAgo,
      });
      let clock = 0;
      let reads = 0;
      const get: LeaderLeases['get'] = (...args) => {
        reads++;
        return leases.get(...args);
      };
      const counted = { ...bind(leases), get };
      const b = replica('b', { monotonicNow: () => clock, leases: counted });
      b.elector.start();
      await waitFor('b has seen the lease', () => b.elector.currentLeader() === 'skewed');
      // Several retry periods pass in real time but not on b's clock: the lease is not expired for b.
      await waitFor('b to try several times', () => reads >= 4);
      expect(b.elector.isLeader()).toBe(false);
      clock = 2001; // the lease has not changed for longer than its 2 s
      await waitFor('b takes over', () => b.elector.isLeader());
    });

    if (factory.name === 'double') {
      it('steps down when it cannot renew within the renew deadline, and leads again once it can', async () => {
        const faults = target.double!.faults;
        const a = replica('a');
        a.elector.start();
        await waitFor('a leads', () => a.elector.isLeader());
        faults.failNext(10_000, 503, { resource: 'leases' });
        await waitFor('a steps down', () => !a.elector.isLeader());
        expect(a.log).toEqual(['started', 'stopped']);
        await faults.reset();
        await waitFor('a leads again', () => a.elector.isLeader());
        expect(a.log).toEqual(['started', 'stopped', 'started']);
      });
    }

    it('steps down at once when another holder took the lease', async () => {
      const a = replica('a', { leaseDurationMs: 60_000, renewDeadlineMs: 30_000, retryPeriodMs: 200 });
      a.elector.start();
      await waitFor('a leads', () => a.elector.isLeader());
      const lease = await leases.get(LEASE);
      if (!lease) throw new Error('lease missing');
      const stolen = await leases.update({
        ...lease,
        spec: { ...lease.spec, holderIdentity: 'intruder', renewTime: new Date() },
      });
      expect(stolen.ok).toBe(true);
      await waitFor('a steps down', () => !a.elector.isLeader(), 10_000);
      expect(a.elector.currentLeader()).toBe('intruder');
    });

    it('reports every new holder through onNewLeader', async () => {
      const seen: string[] = [];
      const a = replica('a');
      const b = replica('b', { onNewLeader: (identity) => seen.push(identity) });
      a.elector.start();
      await waitFor('a leads', () => a.elector.isLeader());
      b.elector.start();
      await waitFor('b sees a', () => seen.includes('a'));
      await a.elector.stop();
      await waitFor('b leads', () => b.elector.isLeader());
      expect(seen).toEqual(['a', '', 'b']);
    });

    it('rejects inconsistent durations and empty names', () => {
      const base = { leases, leaseName: LEASE, identity: 'a', onStartedLeading: () => {}, onStoppedLeading: () => {} };
      expect(() => new LeaderElector({ ...base, identity: '' })).toThrow(/identity is empty/);
      expect(() => new LeaderElector({ ...base, leaseName: '' })).toThrow(/leaseName is empty/);
      expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(
        /must be greater than renewDeadline/,
      );
      expect(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toThrow(
        /must be greater than 1.2 x retryPeriod/,
      );
      expect(
        () => new LeaderElector({ ...base, leaseDurationMs: 500, renewDeadlineMs: 400, retryPeriodMs: 100 }),
      ).toThrow(/at least 1000 ms/);
    });
  });
}
