// The conflict probe finds a host that already uses the address (here the
// client, with the IP configured on its interface), over ARP and over DAD, and
// finds nothing for a free address. The probes themselves must teach no
// neighbour cache anything: ARP sender 0.0.0.0, NS from ::.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, run, type Lab } from '../lab/lab.js';
import { startAgent, type Agent } from '../lab/agent.js';
import { BROADCAST, multicastMacFor, solicitedNode, type WireArp, type WireNdp } from '../lab/frames.js';

const TAKEN4 = '192.0.2.150';
const TAKEN6 = '2001:db8::150';
const FREE4 = '192.0.2.151';
const FREE6 = '2001:db8::151';

let lab: Lab;
let agent: Agent;
let clientMac: string;

beforeAll(async () => {
  lab = await createLab({ nodes: 1 });
  clientMac = await lab.macOf(lab.client, 'eth0');
  await run('ip', ['-n', lab.client, 'addr', 'add', `${TAKEN4}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', lab.client, 'addr', 'add', `${TAKEN6}/64`, 'dev', 'eth0', 'nodad']);
  agent = await startAgent(lab, lab.node(1));
});

afterAll(async () => {
  await lab?.teardown();
});

describe('conflict probe', () => {
  it('detects the host using an IPv4 address and names its MAC', async () => {
    const r = await agent.probe(TAKEN4);
    expect(r).toMatchObject({ conflict: true, mac: clientMac });
  });

  it('detects the host using an IPv6 address (DAD) and names its MAC', async () => {
    const r = await agent.probe(TAKEN6);
    expect(r).toMatchObject({ conflict: true, mac: clientMac });
  });

  it('finds no conflict for free addresses', async () => {
    expect(await agent.probe(FREE4)).toMatchObject({ conflict: false });
    expect(await agent.probe(FREE6)).toMatchObject({ conflict: false });
  });

  it('sends RFC 5227 / DAD probe forms that leave no trace in neighbour caches', async () => {
    const node = lab.node(1);
    await lab.flushNeigh();
    const capture = await lab.startCapture();
    await agent.probe(FREE4);
    await agent.probe(FREE6);
    const frames = (await capture.stop()).map((f) => f.decoded);
    const arpProbes = frames.filter((f): f is WireArp => f?.kind === 'arp' && f.tpa === FREE4);
    expect(arpProbes.length).toBeGreaterThan(0);
    for (const p of arpProbes) {
      expect(p).toEqual({
        kind: 'arp',
        ethSrc: node.mac,
        ethDst: BROADCAST,
        op: 1,
        sha: node.mac,
        spa: '0.0.0.0',
        tha: '00:00:00:00:00:00',
        tpa: FREE4,
      });
    }
    const dad = frames.filter((f): f is WireNdp => f?.kind === 'ns' && f.target === FREE6);
    expect(dad.length).toBeGreaterThan(0);
    for (const p of dad) {
      expect(p).toMatchObject({
        ethSrc: node.mac,
        ethDst: multicastMacFor(solicitedNode(FREE6)),
        srcIp: '::',
        dstIp: solicitedNode(FREE6),
        hopLimit: 255,
      });
      // RFC 4861 7.1.1: no source link-layer option from the unspecified address.
      expect(p.sourceLla).toBeUndefined();
    }
    // The client learnt nothing about the node from the probes.
    expect(await lab.neigh(node.ipv4)).toBeUndefined();
  });
});
