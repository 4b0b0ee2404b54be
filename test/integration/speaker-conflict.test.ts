import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { CONFLICT_ANNOTATION, ipLeaseName } from '../../src/api/leases.js';
import { Cluster, candidatesFor, ipRange, NS, sleep, TIMING, until } from './speaker-harness.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe('a host that is no speaker answering for an owned IP', () => {
  it('is reported (IPConflict event, conflict on the Lease for the controller) while the owner keeps announcing', async () => {
    const c = await Cluster.start();
    cluster = c;
    const nodes = ['node-a', 'node-b'];
    for (const node of nodes) c.addSpeaker(node);
    await c.settled();
    const ips = ipRange(2);
    c.setCandidates(candidatesFor(ips, nodes));
    await until(() => ips.every((ip) => c.segment.ownerOf(ip) !== undefined), 30_000, 'every IP answered');
    const ip = ips[0] ?? '';
    const owner = c.segment.ownerOf(ip) ?? '';
    const stranger = '02:00:5e:00:53:99';
    c.segment.inject(ip, stranger);
    c.segment.inject(ip, stranger);
    const leases = c.server.kubeConfig.makeApiClient(CoordinationV1Api);
    const conflictOnLease = async () =>
      (await leases.readNamespacedLease({ name: ipLeaseName(ip), namespace: NS })).metadata?.annotations?.[CONFLICT_ANNOTATION];
    await until(async () => (await conflictOnLease()) !== undefined, 30_000, 'the conflict on the Lease');
    expect(await conflictOnLease()).toContain(stranger);
    const conflicts = c.speakers.get(owner)?.events.filter((e) => e.reason === 'IPConflict') ?? [];
    // Reported once per (IP, MAC), on the Service of that IP.
    expect(conflicts.map((e) => e.service)).toEqual(['default/svc-0']);
    await sleep(2 * TIMING.heartbeatIntervalMs);
    expect(c.segment.ownerOf(ip)).toBe(owner);
    expect((await c.holders()).get(ip)).toBe(owner);
  });
});
