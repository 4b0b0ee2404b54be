// A stranger on the segment claiming an owned IP, on the virtual clock (test/sim/speakers.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { CONFLICT_ANNOTATION, ipLeaseName } from '../../src/api/leases.js';
import { ipRange } from '../sim/segment.js';
import { SCALED_TIMING as TIMING, VirtualCluster as Cluster } from '../sim/speakers.js';

let cluster: Cluster | undefined;
afterEach(() => {
  cluster?.stopAll();
  cluster = undefined;
});

describe('a host that is no speaker answering for an owned IP', () => {
  it('is reported (IPConflict event, conflict on the Lease for the controller); the owner announces on', async () => {
    const c = new Cluster({ seed: 1, timing: TIMING, mesh: false });
    cluster = c;
    const ips = ipRange(2);
    await c.place(['node-a', 'node-b'], ips);
    const ip = ips[0] ?? '';
    const owner = c.segment.ownerOf(ip) ?? '';
    const stranger = '02:00:5e:00:53:99';
    c.segment.inject(ip, stranger);
    c.segment.inject(ip, stranger);
    const conflictOnLease = () => c.store.lease(ipLeaseName(ip))?.annotations[CONFLICT_ANNOTATION];
    await c.until('the conflict on the Lease', () => conflictOnLease() !== undefined);
    expect(conflictOnLease()).toContain(stranger);
    const conflicts = c.speaker(owner).events.filter((e) => e.reason === 'IPConflict');
    // Reported once per (IP, MAC), on the Service of that IP.
    expect(conflicts.map((e) => e.service)).toEqual(['default/svc-0']);
    await c.run(2 * TIMING.heartbeatIntervalMs);
    expect(c.segment.ownerOf(ip)).toBe(owner);
    expect(c.store.holders().get(ip)).toBe(owner);
  });
});
