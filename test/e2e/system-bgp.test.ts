// BGP mode end to end: the real controller and three real speaker processes
// (--frr-vty-socket) against the API server double, each speaker driving the
// FRR in its node's namespace; the BIRD router judges. Nothing but the
// objects is configured by the test: FRR starts empty, as in the pod.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderFrrConfig } from '../../src/bgp/frr-config.js';
import { BGP_STATUS_ANNOTATION, bgpStatusLeaseName, type BgpNodeStatus } from '../../src/bgp/status.js';
import { BgpLab, ROUTER_IPV4 } from '../lab/bgp.js';
import type { LabNode } from '../lab/lab.js';
import { LAB_POOL, SYSTEM_NAMESPACE, startSystem, waitFor, type LabSystem } from '../lab/system.js';

const NODE_ASN = 64512;
const ROUTER_ASN = 64513;

let system: LabSystem;
let bgp: BgpLab;
let sockets: string;
let vip = '';
const socketDir = (node: LabNode) => path.join(sockets, `frr-${node.index}`);

beforeAll(async () => {
  sockets = mkdtempSync(path.join(os.tmpdir(), 'ilbbgp-'));
  chmodSync(sockets, 0o755); // FRR, once it dropped to its user, must reach its folder inside
  system = await startSystem({
    nodes: 3,
    speakerArgsFor: (node) => ['--frr-vty-socket', socketDir(node), '--bgp-poll-interval', '1s'],
  });
  bgp = new BgpLab(system.lab);
  try {
    await bgp.startRouter({
      asn: ROUTER_ASN,
      neighbors: system.lab.nodes.map((n) => ({ name: `node${n.index}`, address: n.ipv4, asn: NODE_ASN })),
    });
    const empty = renderFrrConfig(
      { sessions: [], prefixes: new Map(), bfdProfiles: [], errors: [] },
      { hostname: 'empty' },
    );
    for (const node of system.lab.nodes) await bgp.startFrr(node, empty, socketDir(node));
  } catch (err) {
    await bgp.teardown();
    await system.teardown({ keepLogs: true });
    throw err;
  }
  const custom = (plural: string, kind: string, name: string, spec: Record<string, unknown>) =>
    system.custom.createNamespacedCustomObject({
      group: 'ironlb.io',
      version: 'v1beta1',
      namespace: SYSTEM_NAMESPACE,
      plural,
      body: { apiVersion: 'ironlb.io/v1beta1', kind, metadata: { name, namespace: SYSTEM_NAMESPACE }, spec },
    });
  await system.applyPool('lab', LAB_POOL);
  await custom('bgppeers', 'BGPPeer', 'tor', {
    myASN: NODE_ASN,
    peerASN: ROUTER_ASN,
    peerAddress: ROUTER_IPV4,
    holdTime: '9s',
    keepaliveTime: '3s',
    connectTime: '1s',
  });
  await custom('bgpadvertisements', 'BGPAdvertisement', 'lab', { ipAddressPools: ['lab'] });
  [vip] = (await system.waitForIngress(await system.createService({ name: 'web', family: 'IPv4' }))) as [string];
}, 240_000);

afterAll(async () => {
  await bgp?.teardown();
  await system?.teardown();
  if (sockets) rmSync(sockets, { recursive: true, force: true });
}, 60_000);

async function status(node: LabNode): Promise<BgpNodeStatus | undefined> {
  const lease = await system.leases
    .readNamespacedLease({ namespace: SYSTEM_NAMESPACE, name: bgpStatusLeaseName(node.name) })
    .catch(() => undefined);
  const raw = lease?.metadata?.annotations?.[BGP_STATUS_ANNOTATION];
  return raw === undefined ? undefined : (JSON.parse(raw) as BgpNodeStatus);
}

describe('BGP mode: speakers drive FRR, the router judges', () => {
  it("every node's session comes up and the router has one next hop per node for the Service IP", async () => {
    await waitFor(
      'ECMP next hops for the Service IP',
      async () => ((await bgp.nextHops(`${vip}/32`)).length === 3 ? true : undefined),
      60_000,
    );
    expect(await bgp.nextHops(`${vip}/32`)).toEqual(system.lab.nodes.map((n) => n.ipv4));
    for (const node of system.lab.nodes) {
      // A reading that failed while FRR was starting makes the speaker apply once more: wait for it to settle.
      await waitFor(
        `${node.name}'s status Lease`,
        async () => {
          const s = await status(node);
          return s?.frr === 'applied' && s.peers[0]?.prefixesSent === 1 ? true : undefined;
        },
        30_000,
      );
      expect(await status(node)).toMatchObject({
        frr: 'applied',
        withdrawn: false,
        peers: [{ name: 'tor', state: 'Established', established: true }],
      });
    }
  });

  it('SIGTERM: the speaker withdraws the route first, its session stays up', async () => {
    const node = system.lab.node(3);
    const speaker = system.speakers.get(node.name)!;
    const exited = new Promise<number | null>((resolve) => speaker.once('exit', (code) => resolve(code)));
    speaker.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The speaker waited for FRR before exiting: the withdrawal is already on its way.
    await waitFor(
      'the next hop of node3 gone',
      async () => ((await bgp.nextHops(`${vip}/32`)).length === 2 ? true : undefined),
      10_000,
    );
    expect(await bgp.nextHops(`${vip}/32`)).toEqual([system.lab.node(1).ipv4, system.lab.node(2).ipv4]);
    expect((await bgp.protocols()).get('node3')?.info).toMatch(/^Established/);
    expect((await status(node))?.withdrawn).toBe(true);
  });
});
