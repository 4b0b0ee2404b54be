// Ownership moves from node 1 to node 2: node 2's takeover announcement alone
// (no new request from the client) moves the client's neighbour entry, for
// IPv4 and IPv6, and the announcement has exactly the forms Linux honours.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type CapturedFrame, type Lab } from '../lab/lab.js';
import { startAgent } from '../lab/agent.js';
import { BROADCAST, type WireArp, type WireNdp } from '../lab/frames.js';
import { sleep } from '../wait.js';

const VIP4 = '192.0.2.210';
const VIP6 = '2001:db8::210';

let lab: Lab;

beforeAll(async () => {
  lab = await createLab({ nodes: 2 });
  for (const node of lab.nodes) for (const ip of [VIP4, VIP6]) await lab.addVip(node, ip);
});

afterAll(async () => {
  await lab?.teardown();
});

async function waitForNeighMac(ip: string, mac: string, timeoutMs = 10_000): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let seen = (await lab.neigh(ip))?.mac;
  while (seen !== mac && Date.now() < deadline) {
    await sleep(100);
    seen = (await lab.neigh(ip))?.mac;
  }
  return seen;
}

function requestsFromClientFor(frames: CapturedFrame[], ip: string, clientMac: string): number {
  return frames.filter((f) => {
    const d = f.decoded;
    if (d?.kind === 'arp') return d.op === 1 && d.tpa === ip && d.ethSrc === clientMac;
    return d?.kind === 'ns' && d.target === ip && d.ethSrc === clientMac;
  }).length;
}

describe('takeover', () => {
  it('moves the client to the new owner by announcement alone, and the frames have the exact forms', async () => {
    const [node1, node2] = [lab.node(1), lab.node(2)];
    const clientMac = await lab.macOf(lab.client, 'eth0');
    const first = await startAgent(lab, node1);
    await first.own(VIP4);
    await first.own(VIP6);
    expect((await lab.ping(VIP4, { count: 2 })).received).toBe(2);
    expect((await lab.ping(VIP6, { count: 2 })).received).toBe(2);
    expect((await lab.neigh(VIP4))?.mac).toBe(node1.mac);
    expect((await lab.neigh(VIP6))?.mac).toBe(node1.mac);

    await first.stop();
    const second = await startAgent(lab, node2);
    await second.own(VIP4);
    await second.own(VIP6);
    // Linux ignores a neighbour update within locktime (1 s) of the last one.
    await sleep(1200);
    const capture = await lab.startCapture();
    await second.announce(VIP4);
    await second.announce(VIP6);
    const mac4 = await waitForNeighMac(VIP4, node2.mac);
    const mac6 = await waitForNeighMac(VIP6, node2.mac);
    const frames = await capture.stop();

    expect(mac4).toBe(node2.mac);
    expect(mac6).toBe(node2.mac);
    // The client asked nothing: the announcement alone moved it.
    expect(requestsFromClientFor(frames, VIP4, clientMac)).toBe(0);
    expect(requestsFromClientFor(frames, VIP6, clientMac)).toBe(0);

    const arps = frames.map((f) => f.decoded).filter((d): d is WireArp => d?.kind === 'arp' && d.ethSrc === node2.mac);
    expect(arps).toEqual([
      // Request form: sender = target = VIP, to broadcast.
      {
        kind: 'arp',
        ethSrc: node2.mac,
        ethDst: BROADCAST,
        op: 1,
        sha: node2.mac,
        spa: VIP4,
        tha: '00:00:00:00:00:00',
        tpa: VIP4,
      },
      // Reply form: target MAC = sender MAC.
      {
        kind: 'arp',
        ethSrc: node2.mac,
        ethDst: BROADCAST,
        op: 2,
        sha: node2.mac,
        spa: VIP4,
        tha: node2.mac,
        tpa: VIP4,
      },
    ]);
    const nas = frames.map((f) => f.decoded).filter((d): d is WireNdp => d?.kind === 'na' && d.ethSrc === node2.mac);
    expect(nas).toEqual([
      {
        kind: 'na',
        ethSrc: node2.mac,
        ethDst: '33:33:00:00:00:01',
        srcIp: VIP6,
        dstIp: 'ff02::1',
        hopLimit: 255,
        target: VIP6,
        router: false,
        solicited: false,
        override: true,
        targetLla: node2.mac,
      },
    ]);

    // Traffic follows: the new owner serves the VIP.
    expect((await lab.ping(VIP4, { count: 2 })).received).toBe(2);
    expect((await lab.ping(VIP6, { count: 2 })).received).toBe(2);
    expect(second.errors()).toEqual([]);
  });

  it('default announcement: three rounds 1.1 s apart, each re-checking ownership', async () => {
    const node2 = lab.node(2);
    const agent = await startAgent(lab, node2);
    await agent.own(VIP4);
    const capture = await lab.startCapture();
    await agent.announce(VIP4, { rounds: 3, intervalMs: 1100 });
    const end = await agent.waitFor((e) => e.event === 'announce-end' && e.ip === VIP4);
    const frames = await capture.stop();
    expect(end.why).toBe('completed');
    const requests = frames.filter(
      (f) => f.decoded?.kind === 'arp' && f.decoded.op === 1 && f.decoded.spa === VIP4 && f.decoded.tpa === VIP4,
    );
    expect(requests).toHaveLength(3);

    // Released during the rounds: the rest are not sent.
    const capture2 = await lab.startCapture();
    await agent.announce(VIP4, { rounds: 3, intervalMs: 1100 });
    await agent.release(VIP4);
    const end2 = await agent.waitFor(
      (e) => e.event === 'announce-end' && e.ip === VIP4 && agent.events.indexOf(e) > agent.events.indexOf(end),
    );
    const frames2 = await capture2.stop();
    expect(['stopped', 'not-owned']).toContain(end2.why);
    const requests2 = frames2.filter(
      (f) => f.decoded?.kind === 'arp' && f.decoded.op === 1 && f.decoded.spa === VIP4 && f.decoded.tpa === VIP4,
    );
    expect(requests2).toHaveLength(1);
  });
});
