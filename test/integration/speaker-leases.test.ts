// One contract for the speaker's Lease store, run against the real one
// (src/kube/speaker-leases.ts through client-node to the API server double)
// and the in-memory one the virtual-clock speaker tests use
// (test/sim/speakers.ts): if the two part ways, the virtual tests stop
// standing for the real speaker. Errors, watch contents and catching up after
// an outage are compared; the virtual store must be no kinder.
import { afterEach, describe, expect, it } from 'vitest';
import { IP_ANNOTATION, ipLeaseName, memberLeaseName, nodeLeaseName } from '../../src/api/leases.js';
import {
  LeaseStoreError,
  type LeaseContent,
  type LeaseRecord,
  type LeaseStore,
} from '../../src/election/boundaries.js';
import { createKubeClient } from '../../src/kube/client.js';
import { KubeSpeakerLeaseStore } from '../../src/kube/speaker-leases.js';
import { VirtualScheduler } from '../../src/clock/virtual.js';
import { startApiServer } from '../kube/apiserver.js';
import { seededRandom } from '../kube/faults.js';
import { run, VirtualLeaseStore } from '../sim/speakers.js';
import { waitFor } from '../wait.js';

const NS = 'ironlb-system';

interface Target {
  /** Two speakers' connections. */
  a: LeaseStore;
  b: LeaseStore;
  /** Awaits a store call (the virtual clock runs meanwhile). */
  call<T>(promise: Promise<T>): Promise<T>;
  until(what: string, condition: () => boolean): Promise<void>;
  /** The next `n` Lease reads are answered `code` (on the double, the watch must not take the slot). */
  failNext(n: number, code: 429 | 500): Promise<void>;
  outage(on: boolean): Promise<void>;
  close(): Promise<void>;
}

async function doubleTarget(): Promise<Target> {
  const server = await startApiServer({ namespaces: [NS] });
  const store = () =>
    new KubeSpeakerLeaseStore(createKubeClient({ kubeConfig: server.kubeConfig, requestTimeoutMs: 2000 }), NS, {
      backoff: { initialMs: 20, maxMs: 100 },
    });
  return {
    a: store(),
    b: store(),
    call: (promise) => promise,
    until: (what, condition) => waitFor(what, condition, 20_000, 10),
    failNext: async (n, code) => server.faults.failNext(n, code, { verb: 'get', resource: 'leases' }),
    outage: (on) => server.faults.outage(on),
    close: async () => {
      await server.faults.reset();
      await server.close();
    },
  };
}

function virtualTarget(): Target {
  const scheduler = new VirtualScheduler(0);
  const store = new VirtualLeaseStore(scheduler, seededRandom(1));
  return {
    a: store.clientFor(() => false),
    b: store.clientFor(() => false),
    async call(promise) {
      let done = false;
      promise.then(
        () => (done = true),
        () => (done = true),
      );
      if (!(await run(scheduler, 60_000, () => done))) throw new Error('no answer within a virtual minute');
      return promise;
    },
    async until(what, condition) {
      if (!(await run(scheduler, 60_000, condition))) throw new Error(`not within a virtual minute: ${what}`);
    },
    failNext: async (n) => store.failNext(n), // every refusal is 'unavailable' to the speaker
    outage: async (on) => store.outage(on),
    close: async () => {},
  };
}

const content = (holder: string, ip?: string): LeaseContent => ({
  holderIdentity: holder,
  annotations: ip === undefined ? {} : { [IP_ANNOTATION]: ip },
});

async function refusal(t: Target, promise: Promise<unknown>): Promise<string> {
  try {
    await t.call(promise);
  } catch (err) {
    return err instanceof LeaseStoreError ? err.kind : `not a LeaseStoreError: ${String(err)}`;
  }
  return 'no error';
}

/** What a watch on `store` has delivered, as its cache would hold it. */
function watched(t: Target, store: LeaseStore) {
  const leases = new Map<string, LeaseRecord>();
  const events: string[] = [];
  let synced = false;
  const watch = store.watch({
    onUpsert: (lease) => {
      leases.set(lease.name, lease);
      events.push(`upsert ${lease.name}`);
    },
    onDelete: (name) => {
      leases.delete(name);
      events.push(`delete ${name}`);
    },
    onSynced: () => (synced = true),
  });
  return { leases, events, synced: () => synced, stop: () => t.call(Promise.resolve(watch.stop())) };
}

for (const [name, start] of [
  ['the real store on the API server double', doubleTarget],
  ['the virtual store', async () => virtualTarget()],
] as const) {
  describe(`speaker Lease store contract: ${name}`, () => {
    let target: Target | undefined;
    afterEach(async () => {
      await target?.close();
      target = undefined;
    });

    it('compare-and-swap: exists, conflict, not-found, and a new resourceVersion on each write', async () => {
      const t = await start();
      target = t;
      const ip = ipLeaseName('198.51.100.1');
      const created = await t.call(t.a.create(ip, content('node-a', '198.51.100.1')));
      expect(created.holderIdentity).toBe('node-a');
      expect(created.annotations[IP_ANNOTATION]).toBe('198.51.100.1');
      expect(await refusal(t, t.b.create(ip, content('node-b', '198.51.100.1')))).toBe('exists');
      const updated = await t.call(t.b.update(ip, created.resourceVersion, content('node-b', '198.51.100.1')));
      expect(updated.resourceVersion).not.toBe(created.resourceVersion);
      const stale = t.a.update(ip, created.resourceVersion, content('node-a', '198.51.100.1'));
      expect(await refusal(t, stale)).toBe('conflict');
      expect(await refusal(t, t.a.delete(ip, created.resourceVersion))).toBe('conflict');
      expect((await t.call(t.a.get(ip)))?.holderIdentity).toBe('node-b');
      await t.call(t.a.delete(ip, updated.resourceVersion));
      expect(await t.call(t.a.get(ip))).toBeUndefined();
      expect(await refusal(t, t.a.delete(ip))).toBe('not-found');
      expect(await refusal(t, t.a.update(ip, updated.resourceVersion, content('node-a')))).toBe('not-found');
    });

    it('the watch carries ownership and member Leases, never heartbeats; listHeartbeats reads only those', async () => {
      const t = await start();
      target = t;
      await t.call(t.a.create(nodeLeaseName('node-a'), { ...content('node-a'), leaseDurationSeconds: 2, renew: true }));
      await t.call(t.a.create(ipLeaseName('198.51.100.1'), content('node-a', '198.51.100.1')));
      const w = watched(t, t.b);
      await t.until('the watch to sync', w.synced);
      expect([...w.leases.keys()]).toEqual([ipLeaseName('198.51.100.1')]);
      await t.call(t.a.create(memberLeaseName('node-a'), content('node-a')));
      const beat = await t.call(t.a.get(nodeLeaseName('node-a')));
      if (beat === undefined) throw new Error('no heartbeat lease');
      const renewal = { ...content('node-a'), leaseDurationSeconds: 2, renew: true };
      await t.call(t.a.update(nodeLeaseName('node-a'), beat.resourceVersion, renewal));
      await t.call(t.a.delete(ipLeaseName('198.51.100.1')));
      const seen = () => w.leases.has(memberLeaseName('node-a')) && w.leases.size === 1;
      await t.until('the member Lease and the delete', seen);
      expect(w.events.filter((e) => e.split(' ')[1] === nodeLeaseName('node-a'))).toEqual([]);
      const beats = await t.call(t.b.listHeartbeats());
      expect(beats.map((l) => l.name)).toEqual([nodeLeaseName('node-a')]);
      expect(beats[0]?.leaseDurationSeconds).toBe(2);
      await w.stop();
    });

    it('429, 500 and an outage are "unavailable"; after the outage the watch catches up on the changes', async () => {
      const t = await start();
      target = t;
      const one = ipLeaseName('198.51.100.1');
      const two = ipLeaseName('198.51.100.2');
      const first = await t.call(t.a.create(one, content('node-a', '198.51.100.1')));
      await t.call(t.a.create(two, content('node-a', '198.51.100.2')));
      const w = watched(t, t.b);
      await t.until('the watch to sync', () => w.synced() && w.leases.size === 2);
      await t.failNext(1, 429);
      expect(await refusal(t, t.a.get(one))).toBe('unavailable');
      await t.failNext(1, 500);
      expect(await refusal(t, t.a.get(one))).toBe('unavailable');
      await t.outage(true);
      const takeover = content('node-c', '198.51.100.1');
      expect(await refusal(t, t.a.update(one, first.resourceVersion, takeover))).toBe('unavailable');
      expect(await refusal(t, t.a.listHeartbeats())).toBe('unavailable');
      await t.outage(false);
      // Changes right after the outage, before the watch is back, must still arrive.
      await t.call(t.a.update(one, first.resourceVersion, takeover));
      await t.call(t.a.delete(two));
      const caughtUp = () => w.leases.get(one)?.holderIdentity === 'node-c' && !w.leases.has(two);
      await t.until('the watch to catch up', caughtUp);
      await w.stop();
    });
  });
}
