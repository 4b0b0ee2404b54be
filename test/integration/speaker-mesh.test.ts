// The election driven by the liveness mesh: the mesh's verdicts decide who is
// live, a speaker that hears no peer while they hear each other takes nothing
// (b), a firewalled mesh falls back to the heartbeat Leases (c), an API outage
// moves nothing (d), a speaker cut off from the API only loses its IPs to the
// others and is fenced (e), and SIGTERM tells the mesh (f). Against the API
// server double over HTTP, except (b) and (d), which wait with nothing
// happening and so run on the virtual clock. Case (a), UDP blocked between two
// nodes, is the detector's own. The mesh here is a stand-in whose verdicts the
// test sets; the real detector runs on a simulated lossy, partitionable
// network in test/unit/liveness and test/integration/speaker-virtual.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { memberLeaseName, MESH_ANNOTATION } from '../../src/api/leases.js';
import { createKubeClient } from '../../src/kube/client.js';
import { VirtualCluster } from '../sim/speakers.js';
import { candidatesFor, Cluster, FakeMesh, ipRange, NS, TIMING, until } from './speaker-harness.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const NODES = ['node-a', 'node-b', 'node-c'];

async function meshCluster(ips: string[]): Promise<{ c: Cluster; meshes: Map<string, FakeMesh> }> {
  const c = await Cluster.start();
  cluster = c;
  const meshes = new Map(NODES.map((n) => [n, new FakeMesh(n)]));
  for (const n of NODES) c.addSpeaker(n, undefined, undefined, meshes.get(n));
  await c.settled();
  c.setCandidates(candidatesFor(ips, NODES));
  await until(() => ips.every((ip) => c.segment.ownerOf(ip) !== undefined), 30_000, 'every IP answered');
  return { c, meshes };
}

function speaker(c: Cluster, node: string) {
  const s = c.speakers.get(node);
  if (s === undefined) throw new Error(`no speaker ${node}`);
  return s;
}

/** kill -9: no write, no goodbye, and its wire goes silent too. */
async function crash(c: Cluster, node: string, held: string[]): Promise<void> {
  await speaker(c, node).runtime.abandon();
  for (const ip of held) c.segment.stop(node, ip);
}

describe('speaker election on the liveness mesh', () => {
  it('publishes its mesh address in its member Lease; a death verdict moves IPs despite fresh heartbeats', async () => {
    const ips = ipRange(9);
    const { c, meshes } = await meshCluster(ips);
    const client = createKubeClient({ kubeConfig: c.server.kubeConfig });
    const member = await client.coordination.readNamespacedLease({ name: memberLeaseName('node-a'), namespace: NS });
    expect(member.metadata?.annotations?.['ironlb.io/liveness']).toBe('192.0.2.1:7947');
    expect(member.metadata?.labels?.['ironlb.io/role']).toBe('member');
    expect(
      meshes
        .get('node-b')
        ?.members.map((m) => m.node)
        .sort(),
    ).toEqual(NODES);

    const held = ips.filter((ip) => c.segment.ownerOf(ip) === 'node-a');
    expect(held.length).toBeGreaterThan(0);
    // node-a keeps renewing its heartbeat Lease: by the Leases alone it is live forever.
    for (const node of ['node-b', 'node-c']) meshes.get(node)?.set({ verdicts: { 'node-a': 'dead' } });
    await until(
      () => held.every((ip) => ['node-b', 'node-c'].includes(c.segment.ownerOf(ip) ?? '')),
      30_000,
      'the others to take over',
    );
    const holders = await c.holders();
    for (const ip of held) expect(holders.get(ip)).toBe(c.segment.ownerOf(ip));
    // node-a heard the new owners on the wire and fell silent (the fence).
    expect(held.filter((ip) => speaker(c, 'node-a').runtime.machine.isAnnouncing(ip))).toEqual([]);
  });

  it('(c) a firewalled mesh (all isolated): heartbeat Leases judge; a crashed owner is still replaced', async () => {
    const ips = ipRange(6);
    const { c, meshes } = await meshCluster(ips);
    for (const mesh of meshes.values()) mesh.set({ isolated: true });
    const held = ips.filter((ip) => c.segment.ownerOf(ip) === 'node-a');
    expect(held.length).toBeGreaterThan(0);
    await until(
      () => ['node-b', 'node-c'].every((n) => !speaker(c, n).runtime.isSelfBlamed()),
      10_000,
      'no self-blame when nobody hears anybody',
    );
    await crash(c, 'node-a', held);
    await until(
      () => held.every((ip) => ['node-b', 'node-c'].includes(c.segment.ownerOf(ip) ?? '')),
      30_000,
      'takeover by the heartbeat Leases',
    );
    expect(['node-b', 'node-c'].some((n) => speaker(c, n).runtime.isSelfBlamed())).toBe(false);
  });

  it('(e) cut off from the API only: its heartbeats say so, peers take its IPs, the fence silences it', async () => {
    const ips = ipRange(9);
    const { c, meshes } = await meshCluster(ips);
    const held = ips.filter((ip) => c.segment.ownerOf(ip) === 'node-a');
    expect(held.length).toBeGreaterThan(0);
    const standing = (node: string) => meshes.get(node)?.apiStanding?.();
    // Renewing for a lease-duration, every speaker reaches the API steadily; none is cut off.
    await until(() => NODES.every((n) => standing(n)?.steady === true), 10_000, 'every speaker steady on the API');
    speaker(c, 'node-a').store.severed = true;
    // The mesh carries the flag a lease-duration after node-a's last renewal (src/liveness; unit-tested there).
    await until(() => standing('node-a')?.cutOff === true, 10_000, 'node-a to report itself cut off');
    expect(['node-b', 'node-c'].map((n) => standing(n))).toEqual([
      { cutOff: false, steady: true },
      { cutOff: false, steady: true },
    ]);
    // Steady monitors do not count its heartbeats, so the mesh declares it dead, as the unit tests show.
    for (const node of ['node-b', 'node-c']) meshes.get(node)?.set({ verdicts: { 'node-a': 'dead' } });
    await until(
      () => held.every((ip) => ['node-b', 'node-c'].includes(c.segment.ownerOf(ip) ?? '')),
      30_000,
      'the others to take over',
    );
    // node-a could not learn of the takeover through the API: the new owners' announcements silenced it.
    expect(held.filter((ip) => speaker(c, 'node-a').runtime.machine.isAnnouncing(ip))).toEqual([]);
    speaker(c, 'node-a').store.severed = false;
    await until(() => standing('node-a')?.cutOff === false, 10_000, 'node-a back on the API');
    for (const node of ['node-b', 'node-c']) meshes.get(node)?.set({ verdicts: { 'node-a': 'alive' } });
    await until(
      async () => {
        const holders = await c.holders();
        return ips.every((ip) => holders.get(ip) === c.segment.ownerOf(ip));
      },
      10_000,
      'every Lease holder to be the one answering',
    );
    // The fence acts on the new owner's first announcement; from then on one answer per IP.
    for (const ip of ips) expect(c.segment.answering.get(ip)?.size).toBe(1);
  });

  it('(f) SIGTERM releases, tells the mesh, and deletes the member Lease', async () => {
    const ips = ipRange(3);
    const { c, meshes } = await meshCluster(ips);
    await speaker(c, 'node-a').runtime.stop();
    expect(meshes.get('node-a')?.left).toBe(true);
    const client = createKubeClient({ kubeConfig: c.server.kubeConfig });
    const names = (await client.coordination.listNamespacedLease({ namespace: NS })).items.map((l) => l.metadata?.name);
    expect(names).not.toContain(memberLeaseName('node-a'));
    expect(names).not.toContain('ironlb-node-node-a');
  });
});

// The cases that need time to pass with nothing happening run on the virtual
// clock (test/sim/speakers.ts), with the same stand-in mesh and timings.
describe('speaker election on the liveness mesh, on a virtual clock', () => {
  let virtual: VirtualCluster | undefined;
  afterEach(() => {
    virtual?.stopAll();
    virtual = undefined;
  });

  async function virtualMeshCluster(ips: string[], seed: number) {
    const meshes = new Map(NODES.map((n) => [n, new FakeMesh(n)]));
    const c = new VirtualCluster({ seed, timing: TIMING, mesh: false, liveness: (n) => meshes.get(n) as FakeMesh });
    virtual = c;
    await c.place(NODES, ips);
    return { c, meshes };
  }

  it('(b) a speaker hearing no peer (they hear each other) blames itself, takes no IP; others take over', async () => {
    const ips = ipRange(12);
    const { c, meshes } = await virtualMeshCluster(ips, 3);
    meshes.get('node-c')?.set({ isolated: true });
    await c.until('node-c to blame itself', () => c.speaker('node-c').runtime.isSelfBlamed());
    await c.until(
      'node-c to publish that it is isolated',
      () => c.store.lease(memberLeaseName('node-c'))?.annotations[MESH_ANNOTATION] === 'isolated',
    );
    const heldByC = ips.filter((ip) => c.segment.ownerOf(ip) === 'node-c');
    const heldByA = ips.filter((ip) => c.segment.ownerOf(ip) === 'node-a');
    expect(heldByA.length).toBeGreaterThan(0);
    // node-a crashes. node-c, judging it by its heartbeat Lease, would see it
    // dead after a lease-duration; blaming itself, it takes nothing.
    c.kill('node-a');
    await c.run(3 * TIMING.leaseDurationMs);
    expect(c.speaker('node-c').runtime.machine.heldIps().sort()).toEqual([...heldByC].sort());
    // node-b's mesh declares node-a dead: node-b takes over.
    meshes.get('node-b')?.set({ verdicts: { 'node-a': 'dead' } });
    await c.until('node-b to take over node-a', () => heldByA.every((ip) => c.segment.ownerOf(ip) === 'node-b'));
    // What node-c held, it keeps (it is live to the others and answers); it acquired nothing new.
    expect(c.speaker('node-c').runtime.machine.heldIps().sort()).toEqual([...heldByC].sort());
  });

  it('(d) an API outage changes no owner and silences nobody; the mesh keeps judging', async () => {
    const ips = ipRange(9);
    const { c } = await virtualMeshCluster(ips, 5);
    const before = c.owners(ips);
    const logBefore = c.segment.log.length;
    const refusalsBefore = c.store.refusals;
    c.store.outage(true);
    await c.run(3 * TIMING.leaseDurationMs);
    // The outage hit: the speakers kept trying, and were refused.
    expect(c.store.refusals - refusalsBefore).toBeGreaterThan(0);
    c.store.outage(false);
    await c.run(2 * TIMING.leaseDurationMs);
    expect(c.owners(ips)).toEqual(before);
    expect(c.segment.log.slice(logBefore)).toEqual([]);
  });
});
