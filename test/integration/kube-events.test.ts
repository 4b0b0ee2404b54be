import type { CoreV1Event } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  EventRecorder,
  createKubeClient,
  type EventObjectRef,
  type EventRecorderOptions,
  type KubeClient,
} from '../../src/kube/index.js';
import { apiTargets, createTestNamespace, deleteTestNamespace, type ApiTarget } from '../kube/targets.js';

// Events: one Event per distinct (object, type, reason, message) with a count,
// so a hot loop costs a bounded number of API writes. On the double, and a
// real API server when configured (fault tests: double only).

for (const factory of apiTargets()) {
  describe(`EventRecorder (${factory.name})`, () => {
    let target: ApiTarget;
    let client: KubeClient;
    let ns: string;
    let service: EventObjectRef;
    let requests: string[];
    const recorders: EventRecorder[] = [];

    const recorder = (options: Partial<EventRecorderOptions> = {}): EventRecorder => {
      const r = new EventRecorder(client, {
        component: 'ironlb-controller',
        host: 'node-a',
        minWriteIntervalMs: 50,
        ...options,
      });
      recorders.push(r);
      return r;
    };

    const events = async (namespace = ns): Promise<CoreV1Event[]> =>
      (await client.core.listNamespacedEvent({ namespace })).items;
    const count = (entry: string): number => requests.filter((r) => r === entry).length;

    beforeAll(async () => {
      target = await factory.start();
      client = createKubeClient({
        kubeConfig: target.kubeConfig,
        onRequest: (verb, resource) => requests.push(`${verb} ${resource}`),
      });
    });
    afterAll(async () => {
      await target.stop();
    });
    beforeEach(async () => {
      ns = await createTestNamespace(target.kubeConfig);
      service = { kind: 'Service', namespace: ns, name: 'web', uid: 'uid-web', apiVersion: 'v1' };
      requests = [];
    });
    afterEach(async () => {
      for (const r of recorders.splice(0)) await r.stop();
      await deleteTestNamespace(target.kubeConfig, ns);
    });

    it('writes a core/v1 Event naming the object, the reporter and the reason', async () => {
      const r = recorder();
      r.record(service, 'Normal', 'IPAllocated', 'Assigned 192.0.2.10 from pool lab');
      await r.flush();
      const [event, ...rest] = await events();
      expect(rest).toEqual([]);
      expect(event?.involvedObject).toMatchObject({
        kind: 'Service',
        namespace: ns,
        name: 'web',
        uid: 'uid-web',
        apiVersion: 'v1',
      });
      expect(event).toMatchObject({
        type: 'Normal',
        reason: 'IPAllocated',
        message: 'Assigned 192.0.2.10 from pool lab',
        count: 1,
        reportingComponent: 'ironlb-controller',
        reportingInstance: 'node-a',
        source: { component: 'ironlb-controller', host: 'node-a' },
      });
      expect(event?.metadata?.name).toMatch(/^web\.[0-9a-f]+$/);
      expect(event?.firstTimestamp).toBeInstanceOf(Date);
    });

    it('folds a hot loop of identical events into one Event with a count and few writes', async () => {
      const r = recorder({ minWriteIntervalMs: 200 });
      for (let i = 0; i < 500; i++) r.record(service, 'Warning', 'AllocationFailed', 'pool lab is exhausted');
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (let i = 0; i < 500; i++) r.record(service, 'Warning', 'AllocationFailed', 'pool lab is exhausted');
      await r.flush();
      const all = await events();
      expect(all).toHaveLength(1);
      expect(all[0]?.count).toBe(1000);
      expect(count('create events')).toBe(1);
      // 1000 records, at most one write per 200 ms interval plus the final flush.
      expect(count('patch events')).toBeLessThanOrEqual(4);
      expect(all[0]!.lastTimestamp!.getTime()).toBeGreaterThanOrEqual(all[0]!.firstTimestamp!.getTime());
    });

    it('keeps distinct messages, reasons and objects apart', async () => {
      const r = recorder();
      r.record(service, 'Warning', 'AllocationFailed', 'pool lab is exhausted');
      r.record(service, 'Warning', 'AllocationFailed', 'pool other is exhausted');
      r.record(service, 'Normal', 'IPAllocated', 'pool lab is exhausted');
      r.record({ ...service, name: 'api', uid: 'uid-api' }, 'Warning', 'AllocationFailed', 'pool lab is exhausted');
      await r.flush();
      expect(await events()).toHaveLength(4);
    });

    it('starts a new Event once the aggregation window has passed', async () => {
      let now = Date.parse('2026-11-24T10:00:00Z');
      const r = recorder({ aggregationWindowMs: 60_000, now: () => now });
      r.record(service, 'Normal', 'IPAllocated', 'same');
      await r.flush();
      now += 30_000;
      r.record(service, 'Normal', 'IPAllocated', 'same');
      await r.flush();
      now += 61_000;
      r.record(service, 'Normal', 'IPAllocated', 'same');
      await r.flush();
      const counts = (await events()).map((e) => e.count).sort();
      expect(counts).toEqual([1, 2]);
    });

    it('drops a flood of distinct events per object beyond the burst, and refills over time', async () => {
      let now = Date.parse('2026-11-24T10:00:00Z');
      const r = recorder({ burstPerObject: 3, refillIntervalMs: 60_000, now: () => now });
      for (let i = 0; i < 10; i++) r.record(service, 'Warning', 'Flapping', `change ${i}`);
      r.record({ ...service, name: 'api', uid: 'uid-api' }, 'Warning', 'Flapping', 'other object has its own budget');
      await r.flush();
      expect(await events()).toHaveLength(4);
      expect(r.droppedCount()).toBe(7);
      now += 60_000;
      r.record(service, 'Warning', 'Flapping', 'after refill');
      await r.flush();
      expect(await events()).toHaveLength(5);
    });

    it('sends events of cluster-scoped objects to the default namespace', async () => {
      const r = recorder();
      const node = `node-${ns}`; // unique: the default namespace is shared with other tests
      r.record(
        { kind: 'Node', name: node, uid: `uid-${ns}` },
        'Warning',
        'NoInterface',
        'no eligible interface for 192.0.2.10',
      );
      await r.flush();
      const mine = (await events('default')).filter((e) => e.involvedObject?.name === node);
      for (const event of mine)
        await client.core.deleteNamespacedEvent({ namespace: 'default', name: event.metadata!.name! });
      expect(mine).toHaveLength(1);
      expect(mine[0]?.involvedObject).toMatchObject({ kind: 'Node', name: node });
      expect(mine[0]?.involvedObject?.namespace).toBeUndefined();
    });

    it('recreates the Event if it expired on the server meanwhile', async () => {
      const r = recorder();
      r.record(service, 'Normal', 'IPAllocated', 'same');
      await r.flush();
      const [first] = await events();
      await client.core.deleteNamespacedEvent({ namespace: ns, name: first!.metadata!.name! });
      r.record(service, 'Normal', 'IPAllocated', 'same');
      await r.flush();
      const all = await events();
      expect(all).toHaveLength(1);
      expect(all[0]?.count).toBe(2);
      expect(all[0]?.metadata?.name).not.toBe(first?.metadata?.name);
    });

    if (factory.name === 'double') {
      it('never throws when the API server fails; the failure is only logged', async () => {
        const r = recorder();
        target.double!.faults.failNext(1, 500, { verb: 'create', resource: 'events' });
        r.record(service, 'Normal', 'IPAllocated', 'lost');
        await r.flush();
        expect(await events()).toHaveLength(0);
        r.record(service, 'Normal', 'IPAllocated', 'kept');
        await r.flush();
        expect((await events()).map((e) => e.message)).toEqual(['kept']);
      });
    }

    it('keeps the Event name valid for an object with a maximal 253-character name', async () => {
      const r = recorder();
      const pool = 'p'.repeat(253);
      r.record({ kind: 'IPAddressPool', namespace: ns, name: pool }, 'Warning', 'Conflict', 'overlaps pool lab');
      await r.flush();
      const [event] = await events();
      expect(event?.involvedObject?.name).toBe(pool);
      expect(event?.metadata?.name?.length).toBeLessThanOrEqual(253);
    });

    it('truncates very long messages', async () => {
      const r = recorder();
      r.record(service, 'Normal', 'Long', 'x'.repeat(5000));
      await r.flush();
      const [event] = await events();
      expect(event?.message).toHaveLength(1024);
      expect(event?.message?.endsWith('...')).toBe(true);
    });

    it('rejects malformed input with a clear error', () => {
      expect(() => new EventRecorder(client, { component: '' })).toThrow(/component is empty/);
      const r = recorder();
      expect(() => r.record({ kind: '', name: 'web' }, 'Normal', 'R', 'm')).toThrow(/needs kind and name/);
      expect(() => r.record({ kind: 'Service', name: '' }, 'Normal', 'R', 'm')).toThrow(/needs kind and name/);
      expect(() => r.record(service, 'Info' as 'Normal', 'R', 'm')).toThrow(/must be Normal or Warning/);
      expect(() => r.record(service, 'Normal', '', 'm')).toThrow(/reason is empty/);
    });
  });
}
