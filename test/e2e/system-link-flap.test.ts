// Never two answerers (issue 10): the owner's link goes down and comes back,
// judged only by the client's own ARP requests and tcpdump on its interface.
// A long flap (the others take over meanwhile) must not leave the old owner
// answering beside the new one after link-up, even after an earlier API
// outage left the watches' reconnect backoff high; a flap shorter than the
// liveness mesh needs to declare a death (4 x 100 ms) must leave the owner in
// place, answering again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHORT_FLAP_MS, measureLinkFlap, waitForEveryRenewal } from '../lab/link-flap.js';
import { LAB_POOL, startSystem, type LabSystem } from '../lab/system.js';

let system: LabSystem;
let vip = '';

beforeAll(async () => {
  system = await startSystem({ nodes: 3 });
  await system.applyPool('lab', LAB_POOL);
  await system.applyAdvertisement('lab', { ipAddressPools: ['lab'] });
  const service = await system.createService({ name: 'flap', family: 'IPv4' });
  [vip] = (await system.waitForIngress(service)) as [string];
  await system.serveOnAllNodes(vip);
}, 180_000);

afterAll(async () => {
  await system?.teardown();
}, 60_000);

describe('system: a link flap of the owner', () => {
  it('after an API outage, a 10 s flap: the others take over; from link-up on no request gets two MACs', async () => {
    const api = system.api;
    if (api === undefined) throw new Error('this test injects an API outage: it needs the API server double');
    await system.waitForAnswer(vip);
    await api.faults.outage(true);
    await new Promise((r) => setTimeout(r, 10_000));
    await api.faults.outage(false);
    await waitForEveryRenewal(system);
    for (let flap = 1; flap <= 2; flap++) {
      const sample = await measureLinkFlap(system, vip, 10_000, 6000);
      expect({ flap, doubleAnswered: sample.doubleAnswered }).toEqual({ flap, doubleAnswered: 0 });
      expect(sample.holderAfter).not.toBe(sample.owner);
      expect(sample.answeringAtEnd).toBe(system.node(sample.holderAfter).mac);
      await waitForEveryRenewal(system);
    }
  }, 240_000);

  it('a 250 ms flap (less than the mesh needs to declare a death): the owner keeps the IP, answers alone', async () => {
    const sample = await measureLinkFlap(system, vip, SHORT_FLAP_MS, 3000);
    expect(sample.holderAfter).toBe(sample.owner);
    expect(sample.doubleAnswered).toBe(0);
    expect(sample.resumeMs).toBeDefined();
    expect(sample.answeringAtEnd).toBe(system.node(sample.owner).mac);
  }, 120_000);
});
