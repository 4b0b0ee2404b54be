import { afterEach, describe, expect, it } from 'vitest';
import { ipLeaseName } from '../../src/api/leases.js';
import { createKubeClient } from '../../src/kube/client.js';
import { Cluster, ipRange, NS, sleep, TIMING, until } from './speaker-harness.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const NODES = ['node-a', 'node-b', 'node-c'];

async function placed(ips: string[]): Promise<Cluster> {
  const c = await Cluster.start();
  cluster = c; // registered before waiting, so afterEach stops it even when placement fails
  await c.place(NODES, ips);
  return c;
}

/** Every IP answered by exactly one node, the one its Lease names. */
async function consistent(c: Cluster, ips: string[]): Promise<boolean> {
  const holders = await c.holders().catch(() => new Map<string, string>());
  return ips.every((ip) => {
    const owner = c.segment.ownerOf(ip);
    return owner !== undefined && holders.get(ip) === owner;
  });
}

const ownershipSnapshot = (c: Cluster, ips: string[]) => ips.map((ip) => `${ip}=${c.segment.ownerOf(ip) ?? '?'}`);

describe('speaker election under faults', () => {
  it('an API outage of 10 x lease-duration changes no owner and silences nobody', async () => {
    const ips = ipRange(9);
    const c = await placed(ips);
    await sleep(TIMING.leaseDurationMs);
    const before = ownershipSnapshot(c, ips);
    const historyBefore = c.leaseHistory.length;
    const logBefore = c.segment.log.length;
    await c.server.faults.outage(true);
    await sleep(10 * TIMING.leaseDurationMs);
    await c.server.faults.outage(false);
    // Back up: everyone reconnects and keeps what it had.
    await sleep(3 * TIMING.leaseDurationMs);
    expect(ownershipSnapshot(c, ips)).toEqual(before);
    expect(c.segment.log.slice(logBefore)).toEqual([]);
    expect(c.leaseHistory.slice(historyBefore).filter((h) => ips.includes(h.ip))).toEqual([]);
    expect(await consistent(c, ips)).toBe(true);
  });

  it('a speaker cut off from the API loses its IPs to the others and yields through the wire fence', async () => {
    const ips = ipRange(9);
    const c = await placed(ips);
    const cutOff = 'node-a';
    const held = ips.filter((ip) => c.segment.ownerOf(ip) === cutOff);
    expect(held.length).toBeGreaterThan(0);
    const speaker = c.speakers.get(cutOff);
    if (speaker === undefined) throw new Error('no speaker');
    speaker.store.severed = true;
    await until(
      () => held.every((ip) => c.segment.ownerOf(ip) !== undefined && c.segment.ownerOf(ip) !== cutOff),
      30_000,
      'the others to take over and the cut-off owner to fall silent',
    );
    // It fell silent because of the fence: it could not have learnt of the takeover otherwise.
    expect(speaker.runtime.machine.heldIps().sort()).toEqual([...held].sort());
    const holders = await c.holders();
    for (const ip of held) expect(holders.get(ip)).toBe(c.segment.ownerOf(ip));
    // Reconnected, it catches up and stays out.
    speaker.store.severed = false;
    await sleep(4 * TIMING.leaseDurationMs);
    expect(speaker.runtime.machine.heldIps()).toEqual([]);
    expect(await consistent(c, ips)).toBe(true);
  });

  it('an owner whose link was down while the others took over yields before it answers again: never two answerers', async () => {
    const ips = ipRange(9);
    const c = await placed(ips);
    const flapped = c.speakers.get('node-a');
    if (flapped === undefined) throw new Error('no speaker');
    const held = ips.filter((ip) => c.segment.ownerOf(ip) === 'node-a');
    expect(held.length).toBeGreaterThan(0);
    // Its link carries its API traffic too: both go.
    flapped.wire.setLink(false);
    flapped.store.severed = true;
    await until(() => held.every((ip) => c.segment.ownerOf(ip) !== undefined), 30_000, 'the others to take over');
    await sleep(TIMING.leaseDurationMs);
    // The link comes back before its API connection does: only the wire can tell it now.
    flapped.wire.setLink(true);
    await sleep(2 * TIMING.heartbeatIntervalMs);
    flapped.store.severed = false;
    await until(() => consistent(c, ips), 30_000, 'one answering owner per IP, matching its Lease');
    for (const ip of held) expect(c.segment.maxAnswering.get(ip)).toBe(1);
    for (const ip of held) expect(c.segment.ownerOf(ip)).not.toBe('node-a');
  });

  it('an owner whose link flaps for less than a lease-duration keeps its IPs and answers again after one read', async () => {
    const ips = ipRange(9);
    const c = await placed(ips);
    const flapped = c.speakers.get('node-a');
    if (flapped === undefined) throw new Error('no speaker');
    const held = ips.filter((ip) => c.segment.ownerOf(ip) === 'node-a');
    const historyBefore = c.leaseHistory.length;
    flapped.wire.setLink(false);
    flapped.store.severed = true;
    await until(() => held.every((ip) => !flapped.runtime.machine.isAnnouncing(ip)), 5_000, 'the owner to fall silent on link-down');
    await sleep(TIMING.leaseDurationMs / 4);
    flapped.store.severed = false;
    flapped.wire.setLink(true);
    await until(() => held.every((ip) => c.segment.ownerOf(ip) === 'node-a'), 10_000, 'the owner to answer again');
    expect(c.leaseHistory.slice(historyBefore).filter((h) => held.includes(h.ip))).toEqual([]);
    for (const ip of held) expect(c.segment.maxAnswering.get(ip)).toBe(1);
    expect(await consistent(c, ips)).toBe(true);
  });

  it('survives a storm of 429 and 500 answers: afterwards every IP has exactly one answering owner', async () => {
    const ips = ipRange(12);
    const c = await placed(ips);
    c.server.faults.failNext(30, 429);
    c.server.faults.errorRate(0.3, 500);
    await sleep(5 * TIMING.leaseDurationMs);
    c.server.faults.errorRate(0);
    await until(() => consistent(c, ips), 30_000, 'one answering owner per IP, matching its Lease');
    await sleep(3 * TIMING.leaseDurationMs);
    expect(await consistent(c, ips)).toBe(true);
  });

  it('a Lease deleted by hand is re-created and the IP stays answered by one node', async () => {
    const ips = ipRange(3);
    const c = await placed(ips);
    const victim = ips[1] ?? '';
    const client = createKubeClient({ kubeConfig: c.server.kubeConfig });
    await client.coordination.deleteNamespacedLease({ name: ipLeaseName(victim), namespace: NS });
    await until(
      async () => (await c.holders()).get(victim) !== undefined && (await consistent(c, ips)),
      30_000,
      'the Lease to be re-created',
    );
    expect(c.leaseHistory.some((h) => h.ip === victim && h.deleted)).toBe(true);
    expect(c.segment.maxAnswering.get(victim)).toBe(1);
  });

  it('a holder blanked by hand is taken again and the IP stays answered by one node', async () => {
    const ips = ipRange(3);
    const c = await placed(ips);
    const victim = ips[2] ?? '';
    const client = createKubeClient({ kubeConfig: c.server.kubeConfig });
    const lease = await client.coordination.readNamespacedLease({ name: ipLeaseName(victim), namespace: NS });
    if (lease.spec === undefined) throw new Error('lease has no spec');
    lease.spec.holderIdentity = '';
    await client.coordination.replaceNamespacedLease({ name: ipLeaseName(victim), namespace: NS, body: lease });
    await until(async () => (await c.holders()).get(victim) !== '' && (await consistent(c, ips)), 30_000, 'a new holder');
    expect(c.leaseHistory.some((h) => h.ip === victim && h.holder === '')).toBe(true);
    expect(c.segment.maxAnswering.get(victim)).toBe(1);
  });
});
