import { V1MicroTime } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { LeaseClient, createKubeClient, type KubeClient } from '../../src/kube/index.js';
import { apiTargets, type ApiTarget } from '../kube/targets.js';
import { useApiTarget } from '../kube/target-suite.js';
import { waitFor } from '../wait.js';

// Leases as compare-and-swap registers: a lost race is an answer
// ({ ok: false, conflict: true }), never an exception. Runs against the
// double, and a real API server when configured (fault tests: double only).

for (const factory of apiTargets()) {
  describe(`LeaseClient (${factory.name})`, () => {
    let target: ApiTarget;
    let client: KubeClient;
    let leases: LeaseClient;
    let ns: string;

    useApiTarget(factory, {
      started: (up) => {
        target = up;
        client = createKubeClient({ kubeConfig: target.kubeConfig });
      },
      namespace: (name) => {
        ns = name;
        leases = new LeaseClient(client, ns);
      },
    });

    it('creates and reads a lease; times come back as V1MicroTime with microseconds on the wire', async () => {
      const renewTime = new Date('2026-11-24T10:00:00.123Z');
      const created = await leases.create(
        'ironlb-node-a',
        { holderIdentity: 'a', leaseDurationSeconds: 3, renewTime },
        { annotations: { 'ironlb.io/macs': 'eth0=02:00:00:00:00:01' } },
      );
      expect(created.ok).toBe(true);
      const read = await leases.get('ironlb-node-a');
      expect(read?.spec?.holderIdentity).toBe('a');
      expect(read?.spec?.renewTime).toBeInstanceOf(V1MicroTime);
      expect(read?.spec?.renewTime?.getTime()).toBe(renewTime.getTime());
      expect(read?.metadata?.annotations?.['ironlb.io/macs']).toBe('eth0=02:00:00:00:00:01');
      // What went over the wire: the raw JSON, not client-node's decoding of it.
      const raw = await client.custom.getNamespacedCustomObject({
        group: 'coordination.k8s.io',
        version: 'v1',
        namespace: ns,
        plural: 'leases',
        name: 'ironlb-node-a',
      });
      expect((raw as { spec: { renewTime: string } }).spec.renewTime).toBe('2026-11-24T10:00:00.123000Z');
    });

    it('answers undefined for a lease that does not exist', async () => {
      expect(await leases.get('ironlb-ip-192-0-2-1')).toBeUndefined();
    });

    it('create of an existing lease is a conflict (AlreadyExists)', async () => {
      expect((await leases.create('ironlb-ip-192-0-2-1', { holderIdentity: 'a' })).ok).toBe(true);
      expect(await leases.create('ironlb-ip-192-0-2-1', { holderIdentity: 'b' })).toEqual({
        ok: false,
        conflict: true,
        reason: 'AlreadyExists',
      });
      expect((await leases.get('ironlb-ip-192-0-2-1'))?.spec?.holderIdentity).toBe('a');
    });

    it('update is a compare-and-swap: the second writer from the same version gets a conflict', async () => {
      await leases.create('ironlb-ip-192-0-2-1', { holderIdentity: '' });
      const seenByA = await leases.get('ironlb-ip-192-0-2-1');
      const seenByB = await leases.get('ironlb-ip-192-0-2-1');
      if (!seenByA || !seenByB) throw new Error('lease missing');
      const a = await leases.update({
        ...seenByA,
        spec: { ...seenByA.spec, holderIdentity: 'a', renewTime: new Date() },
      });
      const b = await leases.update({
        ...seenByB,
        spec: { ...seenByB.spec, holderIdentity: 'b', renewTime: new Date() },
      });
      expect(a.ok).toBe(true);
      expect(b).toEqual({ ok: false, conflict: true, reason: 'Conflict' });
      expect((await leases.get('ironlb-ip-192-0-2-1'))?.spec?.holderIdentity).toBe('a');
      // A read lease written back as is (its times are V1MicroTime from the read) is accepted.
      const again = await leases.get('ironlb-ip-192-0-2-1');
      if (!again) throw new Error('lease missing');
      expect((await leases.update(again)).ok).toBe(true);
    });

    it('update of a lease deleted since it was read is a conflict (its uid precondition fails: 409)', async () => {
      await leases.create('ironlb-ip-192-0-2-1', { holderIdentity: 'a' });
      const seen = await leases.get('ironlb-ip-192-0-2-1');
      if (!seen) throw new Error('lease missing');
      await leases.delete('ironlb-ip-192-0-2-1');
      expect(await leases.update(seen)).toEqual({ ok: false, conflict: true, reason: 'Conflict' });
    });

    it('delete honours a resourceVersion precondition and tolerates a lease already gone', async () => {
      const created = await leases.create('ironlb-ip-192-0-2-1', { holderIdentity: 'a' });
      if (!created.ok) throw new Error('create failed');
      const staleVersion = created.lease.metadata?.resourceVersion;
      const updated = await leases.update({ ...created.lease, spec: { ...created.lease.spec, holderIdentity: 'b' } });
      expect(updated.ok).toBe(true);
      expect(await leases.delete('ironlb-ip-192-0-2-1', { resourceVersion: staleVersion })).toEqual({
        ok: false,
        conflict: true,
        reason: 'Conflict',
      });
      expect(await leases.get('ironlb-ip-192-0-2-1')).toBeDefined();
      if (!updated.ok) return;
      expect(
        await leases.delete('ironlb-ip-192-0-2-1', { resourceVersion: updated.lease.metadata?.resourceVersion }),
      ).toEqual({ ok: true, existed: true });
      expect(await leases.delete('ironlb-ip-192-0-2-1')).toEqual({ ok: true, existed: false });
    });

    if (factory.name === 'double') {
      it('throws (not a conflict) when the API server fails', async () => {
        target.double?.faults.failNext(1, 500, { verb: 'create', resource: 'leases' });
        await expect(leases.create('ironlb-ip-192-0-2-1', { holderIdentity: 'a' })).rejects.toMatchObject({
          code: 500,
        });
      });
    }

    it('its informer sees lease changes', async () => {
      const informer = leases.informer();
      informer.start();
      await informer.waitForSync();
      await leases.create('ironlb-node-a', { holderIdentity: 'a', renewTime: new Date() });
      await waitFor('lease in cache', () => informer.get(ns, 'ironlb-node-a') !== undefined);
      expect(informer.get(ns, 'ironlb-node-a')?.spec?.renewTime).toBeInstanceOf(V1MicroTime);
      await informer.stop();
    });

    it('rejects bad input with a clear error', async () => {
      expect(() => new LeaseClient(client, '')).toThrow(/needs a namespace/);
      await expect(leases.get('')).rejects.toThrow(/lease name is empty/);
      await expect(leases.get('Bad_Name')).rejects.toThrow(/not a valid DNS subdomain/);
      await expect(leases.create('ok', { leaseDurationSeconds: 0 })).rejects.toThrow(
        /leaseDurationSeconds must be a whole number >= 1/,
      );
      await expect(leases.create('ok', { renewTime: new Date(Number.NaN) })).rejects.toThrow(/not a valid time/);
      await expect(leases.update({ metadata: { name: 'ok' }, spec: {} })).rejects.toThrow(
        /needs metadata.resourceVersion/,
      );
      await expect(
        leases.update({ metadata: { name: 'ok', namespace: 'other', resourceVersion: '1' }, spec: {} }),
      ).rejects.toThrow(/is in namespace other/);
    });
  });
}
