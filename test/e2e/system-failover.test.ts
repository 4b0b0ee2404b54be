// The whole system on the wire: the real controller and three real speaker
// processes in lab namespaces, against the API server double. The client is
// judged only by independent tools (arping, ndisc6, ping, ip neigh) and by
// what tcpdump captured on its interface.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapturedFrame } from '../lab/lab.js';
import { nodeLeaseName } from '../../src/api/leases.js';
import { BROADCAST, type WireArp, type WireNdp } from '../lab/frames.js';
import { LAB_POOL, startSystem, waitFor, type LabSystem } from '../lab/system.js';

let system: LabSystem;
let vip4 = '';
let vip6 = '';
let clientMac = '';

beforeAll(async () => {
  system = await startSystem({ nodes: 3 });
  await system.applyPool('lab', LAB_POOL);
  await system.applyAdvertisement('lab', { ipAddressPools: ['lab'] });
  const web4 = await system.createService({ name: 'web4', family: 'IPv4' });
  const web6 = await system.createService({ name: 'web6', family: 'IPv6' });
  [vip4] = (await system.waitForIngress(web4)) as [string];
  [vip6] = (await system.waitForIngress(web6)) as [string];
  for (const ip of [vip4, vip6]) await system.serveOnAllNodes(ip);
  clientMac = await system.lab.macOf(system.lab.client, 'eth0');
}, 180_000);

afterAll(async () => {
  await system?.teardown();
}, 60_000);

/** Waits until the client's own neighbour table (read, never refreshed) maps ip to mac. */
async function clientNeighMovesTo(ip: string, mac: string): Promise<string | undefined> {
  return waitFor(
    `the client's neighbour entry for ${ip} to become ${mac}`,
    async () => {
      const entry = await system.lab.neigh(ip);
      return entry?.mac === mac ? entry.mac : undefined;
    },
    30_000,
  );
}

function clientAskedFor(frames: CapturedFrame[], ip: string): CapturedFrame[] {
  return frames.filter((f) => {
    const d = f.decoded;
    if (d?.ethSrc !== clientMac) return false;
    return d.kind === 'arp' ? d.op === 1 && d.tpa === ip : d.kind === 'ns' && d.target === ip;
  });
}

/** Every ARP the node sent claiming ip (sender address = ip). */
function arpClaims(frames: CapturedFrame[], ip: string, mac: string): WireArp[] {
  return frames
    .map((f) => f.decoded)
    .filter((d): d is WireArp => d?.kind === 'arp' && d.ethSrc === mac && d.spa === ip);
}

function naClaims(frames: CapturedFrame[], ip: string, mac: string): WireNdp[] {
  return frames
    .map((f) => f.decoded)
    .filter((d): d is WireNdp => d?.kind === 'na' && d.ethSrc === mac && d.target === ip);
}

function macOfNode(name: string): string {
  return system.node(name).mac;
}

describe('system: controller + speakers in the lab', () => {
  it('gives a Service an IP from the pool; the client resolves it to the MAC of the ownership holder', async () => {
    expect(Number(vip4.split('.')[3])).toBeGreaterThanOrEqual(200);
    expect(Number(vip4.split('.')[3])).toBeLessThanOrEqual(220);
    expect(vip6).toMatch(/^2001:db8::[0-9a-f]+$/);
    const owner = await system.waitForAnswer(vip4);
    expect(await system.ownerOf(vip4)).toBe(owner);
    const arping = await system.lab.arping(vip4, { count: 2 });
    expect(arping.macs).toEqual([macOfNode(owner), macOfNode(owner)]);
    expect((await system.lab.ping(vip4, { count: 2 })).received).toBe(2);
  });

  it('kill -9 of the owner: the new owner announces, the client moves on that alone, pings resume', async () => {
    const old = await system.waitForOwner(vip4);
    expect((await system.lab.ping(vip4, { count: 1 })).received).toBe(1);
    expect((await system.lab.neigh(vip4))?.mac).toBe(macOfNode(old));

    const capture = await system.lab.startCapture();
    // The node goes away as a whole: its speaker dies and it stops serving the VIP.
    const killedAtUs = (await system.killNode(old, 'SIGKILL', { dataPlane: 'drop', vips: [vip4] })) * 1000;
    const next = await system.waitForOwner(vip4, { not: old });
    const newMac = macOfNode(next);
    await clientNeighMovesTo(vip4, newMac);
    const frames = await capture.stop();

    expect(clientAskedFor(frames, vip4)).toEqual([]);
    const claims = arpClaims(frames, vip4, newMac);
    const requestForm = {
      kind: 'arp',
      ethSrc: newMac,
      ethDst: BROADCAST,
      op: 1,
      sha: newMac,
      spa: vip4,
      tha: '00:00:00:00:00:00',
      tpa: vip4,
    };
    const replyForm = {
      kind: 'arp',
      ethSrc: newMac,
      ethDst: BROADCAST,
      op: 2,
      sha: newMac,
      spa: vip4,
      tha: newMac,
      tpa: vip4,
    };
    expect(claims).toContainEqual(requestForm);
    expect(claims).toContainEqual(replyForm);
    for (const claim of claims) expect([requestForm, replyForm]).toContainEqual(claim);
    // Nothing from the dead node after the fault.
    expect(
      arpClaims(
        frames.filter((f) => f.timeUs > killedAtUs),
        vip4,
        macOfNode(old),
      ),
    ).toEqual([]);

    // The old node's data plane is gone, so a reply can only come from the new owner.
    expect((await system.lab.ping(vip4, { count: 3 })).received).toBeGreaterThan(0);
    expect((await system.lab.neigh(vip4))?.mac).toBe(newMac);

    await system.restoreDataPlane(system.node(old), [vip4]);
    await system.restartSpeaker(old);
    // Sticky: the restarted node does not take the IP back.
    expect(await system.ownerOf(vip4)).toBe(next);
  }, 120_000);

  it('SIGTERM of the owner: it releases, drops its node Lease, exits 0; the client follows the new owner', async () => {
    const old = await system.waitForOwner(vip4);
    expect((await system.lab.ping(vip4, { count: 1 })).received).toBe(1);
    const speaker = system.speakers.get(old);
    const capture = await system.lab.startCapture();
    await system.killNode(old, 'SIGTERM');
    expect(speaker?.exitCode).toBe(0);
    const next = await system.waitForOwner(vip4, { not: old });
    const newMac = macOfNode(next);
    await clientNeighMovesTo(vip4, newMac);
    const frames = await capture.stop();

    expect(
      await system.leases.readNamespacedLease({ name: nodeLeaseName(old), namespace: 'ironlb-system' }).then(
        () => 'present',
        () => 'gone',
      ),
    ).toBe('gone');
    expect(clientAskedFor(frames, vip4)).toEqual([]);
    expect(arpClaims(frames, vip4, newMac).some((a) => a.op === 1 && a.tpa === vip4 && a.ethDst === BROADCAST)).toBe(
      true,
    );
    expect((await system.lab.ping(vip4, { count: 3 })).received).toBeGreaterThan(0);

    await system.restartSpeaker(old);
  }, 120_000);

  it('IPv6: ndisc6 finds the owner; kill -9 moves the client by an unsolicited NA (Override, Target LLA)', async () => {
    const old = await system.waitForOwner(vip6);
    const nd = await system.lab.ndisc6(vip6, { tries: 2 });
    expect(nd.macs.length).toBeGreaterThan(0);
    expect(new Set(nd.macs)).toEqual(new Set([macOfNode(old)]));
    expect((await system.lab.ping(vip6, { count: 1 })).received).toBe(1);
    expect((await system.lab.neigh(vip6))?.mac).toBe(macOfNode(old));

    const capture = await system.lab.startCapture();
    const killedAtUs = (await system.killNode(old, 'SIGKILL', { dataPlane: 'drop', vips: [vip6] })) * 1000;
    const next = await system.waitForOwner(vip6, { not: old });
    const newMac = macOfNode(next);
    await clientNeighMovesTo(vip6, newMac);
    const frames = await capture.stop();

    expect(clientAskedFor(frames, vip6)).toEqual([]);
    const unsolicited = naClaims(frames, vip6, newMac).filter((na) => na.dstIp === 'ff02::1');
    expect(unsolicited.length).toBeGreaterThan(0);
    for (const na of unsolicited) {
      expect(na).toEqual({
        kind: 'na',
        ethSrc: newMac,
        ethDst: '33:33:00:00:00:01',
        srcIp: vip6,
        dstIp: 'ff02::1',
        hopLimit: 255,
        target: vip6,
        router: false,
        solicited: false,
        override: true,
        targetLla: newMac,
      });
    }
    expect(
      naClaims(
        frames.filter((f) => f.timeUs > killedAtUs),
        vip6,
        macOfNode(old),
      ),
    ).toEqual([]);
    expect((await system.lab.ping(vip6, { count: 3 })).received).toBeGreaterThan(0);

    await system.restoreDataPlane(system.node(old), [vip6]);
    await system.restartSpeaker(old);
  }, 120_000);
});
