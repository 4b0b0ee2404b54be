// The responder as the client sees it: only the owner answers, with its own
// MAC, in the exact reply forms; nobody answers for an IP no agent owns, even
// though every node carries the VIPs on lo (kube-proxy style).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, CLIENT_IPV4, CLIENT_IPV6, type Lab } from '../lab/lab.js';
import { startAgent, type Agent } from '../lab/agent.js';
import type { WireArp, WireNdp } from '../lab/frames.js';

const VIP4 = '192.0.2.200';
const VIP6 = '2001:db8::200';
const UNOWNED4 = '192.0.2.201';
const UNOWNED6 = '2001:db8::201';

let lab: Lab;
let clientMac: string;
let owner: Agent;

beforeAll(async () => {
  lab = await createLab({ nodes: 3 });
  clientMac = await lab.macOf(lab.client, 'eth0');
  for (const node of lab.nodes) for (const ip of [VIP4, VIP6, UNOWNED4, UNOWNED6]) await lab.addVip(node, ip);
});

afterAll(async () => {
  await lab?.teardown();
});

describe('lab data plane (before any agent runs)', () => {
  it('the kernel never answers ARP or NS for a VIP on lo (arp_ignore=1; NS only for on-link addresses)', async () => {
    expect((await lab.arping(VIP4, { count: 2 })).macs).toEqual([]);
    expect((await lab.ndisc6(VIP6, { tries: 2 })).macs).toEqual([]);
  });
});

describe('responder', () => {
  beforeAll(async () => {
    owner = await startAgent(lab, lab.node(2));
    await owner.own(VIP4);
    await owner.own(VIP6);
    // Non-owners run too: they must stay silent.
    for (const i of [1, 3]) await startAgent(lab, lab.node(i));
  });

  it('arping gets replies from exactly the owner, one per request', async () => {
    const r = await lab.arping(VIP4, { count: 3 });
    expect(r.macs).toEqual([lab.node(2).mac, lab.node(2).mac, lab.node(2).mac]);
  });

  it('ndisc6 gets exactly the owner as the target link-layer address', async () => {
    const r = await lab.ndisc6(VIP6);
    expect(r.macs).toEqual([lab.node(2).mac]);
  });

  it('an IP nobody owns gets no answer, over ARP or NDP', async () => {
    expect((await lab.arping(UNOWNED4, { count: 2 })).macs).toEqual([]);
    expect((await lab.ndisc6(UNOWNED6, { tries: 2 })).macs).toEqual([]);
  });

  it('traffic to the VIP reaches the owner through the answers (ping, IPv4 and IPv6)', async () => {
    await lab.flushNeigh();
    expect((await lab.ping(VIP4, { count: 3 })).received).toBe(3);
    expect((await lab.ping(VIP6, { count: 3 })).received).toBe(3);
    expect((await lab.neigh(VIP4))?.mac).toBe(lab.node(2).mac);
    expect((await lab.neigh(VIP6))?.mac).toBe(lab.node(2).mac);
  });

  it('exact reply forms on the wire: ARP reply to the asker, solicited NA with Override and Target LLA', async () => {
    const capture = await lab.startCapture();
    await lab.arping(VIP4);
    await lab.ndisc6(VIP6);
    const frames = (await capture.stop()).map((f) => f.decoded);
    const ownerMac = lab.node(2).mac;
    const arpReplies = frames.filter((f): f is WireArp => f?.kind === 'arp' && f.op === 2 && f.spa === VIP4);
    expect(arpReplies).toEqual([
      {
        kind: 'arp',
        ethSrc: ownerMac,
        ethDst: clientMac,
        op: 2,
        sha: ownerMac,
        spa: VIP4,
        tha: clientMac,
        tpa: CLIENT_IPV4,
      },
    ]);
    const nas = frames.filter((f): f is WireNdp => f?.kind === 'na' && f.target === VIP6);
    expect(nas).toHaveLength(1);
    expect(nas[0]).toMatchObject({
      ethSrc: ownerMac,
      ethDst: clientMac,
      srcIp: VIP6,
      hopLimit: 255,
      solicited: true,
      override: true,
      router: false,
      targetLla: ownerMac,
    });
    // ndisc6 solicits from the client's link-local or global address; the NA goes back to it.
    expect([
      CLIENT_IPV6,
      ...frames.filter((f): f is WireNdp => f?.kind === 'ns' && f.target === VIP6).map((f) => f.srcIp),
    ]).toContain(nas[0]!.dstIp);
  });

  it('answers unicast NUD probes (NS sent to the owner MAC, not the solicited-node group)', async () => {
    // Short reachable time so the client's entry goes STALE quickly; the next
    // packet then makes the kernel re-confirm the owner by unicast NS.
    await lab.exec(lab.client, [
      'sysctl',
      '-qw',
      'net.ipv6.neigh.eth0.base_reachable_time_ms=500',
      'net.ipv6.neigh.eth0.delay_first_probe_time=1',
    ]);
    await lab.flushNeigh();
    const capture = await lab.startCapture();
    expect((await lab.ping(VIP6, { count: 1 })).received).toBe(1);
    let neigh = await lab.neigh(VIP6);
    for (let i = 0; i < 100 && neigh?.state.includes('REACHABLE'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      neigh = await lab.neigh(VIP6);
    }
    expect(neigh?.state).not.toContain('REACHABLE');
    // Plain UDP (no replies, so nothing confirms the entry the way ping's
    // MSG_CONFIRM does): STALE -> DELAY -> PROBE, a unicast NS to the owner.
    // Only the owner's solicited NA makes the entry REACHABLE again.
    await lab.exec(lab.client, ['bash', '-c', `for i in $(seq 15); do echo x > /dev/udp/${VIP6}/9; sleep 0.2; done`]);
    for (let i = 0; i < 100; i++) {
      neigh = await lab.neigh(VIP6);
      if (neigh?.state.includes('REACHABLE')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const frames = (await capture.stop()).map((f) => f.decoded);
    const unicastNs = frames.filter(
      (f): f is WireNdp => f?.kind === 'ns' && f.target === VIP6 && f.ethDst === lab.node(2).mac,
    );
    expect(unicastNs.length).toBeGreaterThan(0);
    expect(neigh?.mac).toBe(lab.node(2).mac);
    expect(neigh?.state).toContain('REACHABLE');
  });

  it('counts what it answered and reports no socket errors', async () => {
    const stats = await owner.stats();
    expect(stats.arpReplies).toBeGreaterThan(0);
    expect(stats.ndpReplies).toBeGreaterThan(0);
    expect(owner.errors()).toEqual([]);
  });
});
