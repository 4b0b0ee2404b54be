// BGP mode end to end: the real controller and three real speaker processes
// (--frr-vty-socket) against the API server double, each speaker driving the
// FRR in its node's namespace; the BIRD router judges. Nothing but the
// objects is configured by the test: FRR starts empty, as in the pod.
// The peer has graceful restart on (one peer for the whole file: the field is immutable).
import { DiscoveryV1Api, type V1EndpointSlice } from '@kubernetes/client-node';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderFrrConfig } from '../../src/bgp/frr-config.js';
import { BGP_STATUS_ANNOTATION, bgpStatusLeaseName, type BgpNodeStatus } from '../../src/bgp/status.js';
import { BgpLab, ROUTER_IPV4 } from '../lab/bgp.js';
import { ANNOTATION_ADDRESS_POOL } from '../../src/api/annotations.js';
import type { LabNode } from '../lab/lab.js';
import { LAB_POOL, SERVICE_NAMESPACE, SYSTEM_NAMESPACE, startSystem, waitFor, type LabSystem } from '../lab/system.js';

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
    enableGracefulRestart: true,
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

/** Waits until the router's next hops for ip are exactly `nodes`' addresses (sorted as nextHops sorts). */
async function nextHopsBecome(ip: string, nodes: LabNode[], what: string): Promise<void> {
  const want = nodes.map((n) => n.ipv4).join(',');
  await waitFor(what, async () => ((await bgp.nextHops(`${ip}/32`)).join(',') === want ? true : undefined), 60_000);
}

function endpointSlice(service: string, ready: Record<string, boolean>): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-1`,
      namespace: SERVICE_NAMESPACE,
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    endpoints: Object.entries(ready).map(([nodeName, isReady], i) => ({
      addresses: [`10.0.0.${i + 1}`],
      nodeName,
      conditions: { ready: isReady },
    })),
  };
}

/** A metric of the node's speaker as its /metrics gives it, or undefined before it has one. */
async function metric(node: LabNode, name: string): Promise<string | undefined> {
  const out = await system.lab.exec(node.name, ['curl', '-sf', '-m', '2', 'http://127.0.0.1:7472/metrics']);
  return new RegExp(`^${name} (\\S+)$`, 'm').exec(out.stdout)?.[1];
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

  it('externalTrafficPolicy Local: only nodes with a ready endpoint are next hops, and they follow it', async () => {
    const [n1, n2] = [system.lab.node(1), system.lab.node(2)];
    const discovery = system.kubeConfig.makeApiClient(DiscoveryV1Api);
    await discovery.createNamespacedEndpointSlice({
      namespace: SERVICE_NAMESPACE,
      body: endpointSlice('local', { [n1.name]: false, [n2.name]: true }),
    });
    const [ip] = (await system.waitForIngress(
      await system.createService({ name: 'local', family: 'IPv4', externalTrafficPolicy: 'Local' }),
    )) as [string];
    await nextHopsBecome(ip, [n2], `${n2.name} alone as the next hop of the Local Service`);
    expect(await bgp.nextHops(`${ip}/32`)).toEqual([n2.ipv4]);
    // The endpoint moves: node1 ready, node2 not.
    await discovery.replaceNamespacedEndpointSlice({
      name: 'local-1',
      namespace: SERVICE_NAMESPACE,
      body: endpointSlice('local', { [n1.name]: true, [n2.name]: false }),
    });
    await nextHopsBecome(ip, [n1], `${n1.name} alone as the next hop once the endpoint moved`);
    expect(await bgp.nextHops(`${ip}/32`)).toEqual([n1.ipv4]);
    await system.core.deleteNamespacedService({ namespace: SERVICE_NAMESPACE, name: 'local' });
    await discovery.deleteNamespacedEndpointSlice({ namespace: SERVICE_NAMESPACE, name: 'local-1' });
  });

  it("a Service deleted: every node withdraws its IP, the other Service's route stays", async () => {
    const [ip] = (await system.waitForIngress(await system.createService({ name: 'brief', family: 'IPv4' }))) as [
      string,
    ];
    await nextHopsBecome(ip, system.lab.nodes, `every node as a next hop of ${ip}`);
    await system.core.deleteNamespacedService({ namespace: SERVICE_NAMESPACE, name: 'brief' });
    await nextHopsBecome(ip, [], `the route of the deleted Service's ${ip} gone from the router`);
    expect(await bgp.nextHops(`${ip}/32`)).toEqual([]);
    expect(await bgp.nextHops(`${vip}/32`)).toEqual(system.lab.nodes.map((n) => n.ipv4));
    for (const p of ['node1', 'node2', 'node3']) expect((await bgp.protocols()).get(p)?.info).toMatch(/^Established/);
  });

  it("an advertisement's nodeSelectors: the node it does not select is no next hop, its session stays up", async () => {
    const [n1, n2] = [system.lab.node(1), system.lab.node(2)];
    await system.applyPool('rack', ['192.0.2.230-192.0.2.239']);
    await system.applyObject('bgpadvertisements', 'BGPAdvertisement', 'rack', {
      ipAddressPools: ['rack'],
      nodeSelectors: [
        { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [n1.name, n2.name] }] },
      ],
    });
    const [ip] = (await system.waitForIngress(
      await system.createService({
        name: 'racked',
        family: 'IPv4',
        annotations: { [ANNOTATION_ADDRESS_POOL]: 'rack' },
      }),
    )) as [string];
    expect(ip).toMatch(/^192\.0\.2\.23\d$/);
    await nextHopsBecome(ip, [n1, n2], `${n1.name} and ${n2.name} as the next hops of ${ip}`);
    expect(await bgp.nextHops(`${ip}/32`)).toEqual([n1.ipv4, n2.ipv4]);
    expect((await bgp.protocols()).get('node3')?.info).toMatch(/^Established/);
  });

  it('a speaker killed -9 and started again: no session flap, the route stays (graceful restart on)', async () => {
    const node = system.lab.node(2);
    const before = (await bgp.protocols()).get('node2');
    expect(before?.info).toMatch(/^Established/);
    const watch = bgp.watchRoute(`${vip}/32`);
    let withdrawn = false;
    void watch.withdrawn(node.ipv4).then(() => {
      withdrawn = true;
    });
    try {
      await system.killNode(node.name, 'SIGKILL');
      await system.restartSpeaker(node.name);
      // The new speaker has applied its configuration (or found FRR running it) and read the session back.
      await waitFor(
        `${node.name}'s new speaker to apply and see its session`,
        async () =>
          (await metric(node, 'ironlb_bgp_frr_config_applied')) === '1' &&
          (await metric(node, 'ironlb_bgp_sessions_established')) === '1'
            ? true
            : undefined,
        60_000,
      );
      const after = (await bgp.protocols()).get('node2');
      expect(after).toEqual(before);
      expect(await bgp.nextHops(`${vip}/32`)).toContain(node.ipv4);
      expect(withdrawn).toBe(false);
    } finally {
      await watch.stop();
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
