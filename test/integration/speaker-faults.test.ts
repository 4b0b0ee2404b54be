// Speakers judged by their heartbeat Leases under API and link faults, on the
// virtual clock (test/sim/speakers.ts): the outages, storms and quiet spells
// last as long as they say, and "nothing changes" is checked over all of it.
import { afterEach, describe, expect, it } from 'vitest';
import { ipLeaseName } from '../../src/api/leases.js';
import { ipRange } from '../sim/segment.js';
import { SCALED_TIMING as TIMING, VirtualCluster as Cluster } from '../sim/speakers.js';

let cluster: Cluster | undefined;
afterEach(() => {
  cluster?.stopAll();
  cluster = undefined;
});

const NODES = ['node-a', 'node-b', 'node-c'];

async function placed(ips: string[], seed: number): Promise<Cluster> {
  const c = new Cluster({ seed, timing: TIMING, mesh: false });
  cluster = c; // registered before running, so afterEach stops it even when placement fails
  await c.place(NODES, ips);
  return c;
}

const ownershipSnapshot = (c: Cluster, ips: string[]) => ips.map((ip) => `${ip}=${c.segment.ownerOf(ip) ?? '?'}`);

describe('speaker election under faults', () => {
  it('an API outage of 10 x lease-duration changes no owner and silences nobody', async () => {
    const ips = ipRange(9);
    const c = await placed(ips, 1);
    await c.run(TIMING.leaseDurationMs);
    const before = ownershipSnapshot(c, ips);
    const historyBefore = c.store.history.length;
    const logBefore = c.segment.log.length;
    const refusalsBefore = c.store.refusals;
    c.store.outage(true);
    await c.run(10 * TIMING.leaseDurationMs);
    c.store.outage(false);
    // The outage hit: the speakers kept trying, and were refused.
    expect(c.store.refusals - refusalsBefore).toBeGreaterThan(0);
    // Back up: everyone reconnects and keeps what it had.
    await c.run(3 * TIMING.leaseDurationMs);
    expect(ownershipSnapshot(c, ips)).toEqual(before);
    expect(c.segment.log.slice(logBefore)).toEqual([]);
    expect(c.store.history.slice(historyBefore).filter((h) => ips.includes(h.ip))).toEqual([]);
    expect(c.consistent(ips)).toBe(true);
  });

  it('a speaker cut off from the API loses its IPs to the others and yields through the wire fence', async () => {
    const ips = ipRange(9);
    const c = await placed(ips, 2);
    const cutOff = 'node-a';
    const held = ips.filter((ip) => c.segment.ownerOf(ip) === cutOff);
    expect(held.length).toBeGreaterThan(0);
    const speaker = c.speaker(cutOff);
    speaker.store.severed = true;
    await c.until('the others to take over and the cut-off owner to fall silent', () =>
      held.every((ip) => c.segment.ownerOf(ip) !== undefined && c.segment.ownerOf(ip) !== cutOff),
    );
    // It fell silent because of the fence: it could not have learnt of the takeover otherwise.
    expect(speaker.runtime.machine.heldIps().sort()).toEqual([...held].sort());
    const holders = c.store.holders();
    for (const ip of held) expect(holders.get(ip)).toBe(c.segment.ownerOf(ip));
    // Reconnected, it catches up and stays out.
    speaker.store.severed = false;
    await c.run(4 * TIMING.leaseDurationMs);
    expect(speaker.runtime.machine.heldIps()).toEqual([]);
    expect(c.consistent(ips)).toBe(true);
  });

  it('an owner whose link was down while others took over yields before answering: never two answerers', async () => {
    const ips = ipRange(9);
    const c = await placed(ips, 3);
    const flapped = c.speaker('node-a');
    const held = ips.filter((ip) => c.segment.ownerOf(ip) === 'node-a');
    expect(held.length).toBeGreaterThan(0);
    // Its link carries its API traffic too: both go.
    flapped.wire.setLink(false);
    flapped.store.severed = true;
    await c.until('the others to take over', () => held.every((ip) => c.segment.ownerOf(ip) !== undefined));
    await c.run(TIMING.leaseDurationMs);
    // The link comes back before its API connection does: only the wire can tell it now.
    flapped.wire.setLink(true);
    await c.run(2 * TIMING.heartbeatIntervalMs);
    flapped.store.severed = false;
    await c.until('one answering owner per IP, matching its Lease', () => c.consistent(ips));
    for (const ip of held) expect(c.segment.maxAnswering.get(ip)).toBe(1);
    for (const ip of held) expect(c.segment.ownerOf(ip)).not.toBe('node-a');
  });

  it('an owner whose link flaps for under a lease-duration keeps its IPs, answers again after one read', async () => {
    const ips = ipRange(9);
    const c = await placed(ips, 4);
    const flapped = c.speaker('node-a');
    const held = ips.filter((ip) => c.segment.ownerOf(ip) === 'node-a');
    expect(held.length).toBeGreaterThan(0);
    const historyBefore = c.store.history.length;
    flapped.wire.setLink(false);
    flapped.store.severed = true;
    const silent = () => held.every((ip) => !flapped.runtime.machine.isAnnouncing(ip));
    await c.until('the owner to fall silent on link-down', silent, 5_000);
    await c.run(TIMING.leaseDurationMs / 4);
    flapped.store.severed = false;
    flapped.wire.setLink(true);
    await c.until('the owner to answer again', () => held.every((ip) => c.segment.ownerOf(ip) === 'node-a'), 10_000);
    expect(c.store.history.slice(historyBefore).filter((h) => held.includes(h.ip))).toEqual([]);
    for (const ip of held) expect(c.segment.maxAnswering.get(ip)).toBe(1);
    expect(c.consistent(ips)).toBe(true);
  });

  it('survives a storm of 429 and 500 answers: afterwards every IP has exactly one answering owner', async () => {
    const ips = ipRange(12);
    const c = await placed(ips, 5);
    const refusalsBefore = c.store.refusals;
    c.store.failNext(30);
    c.store.errorRate(0.3);
    await c.run(5 * TIMING.leaseDurationMs);
    c.store.errorRate(0);
    // The storm hit: the 30 and some of the rest were refused.
    expect(c.store.refusals - refusalsBefore).toBeGreaterThan(30);
    await c.until('one answering owner per IP, matching its Lease', () => c.consistent(ips));
    await c.run(3 * TIMING.leaseDurationMs);
    expect(c.consistent(ips)).toBe(true);
  });

  it('a Lease deleted by hand is re-created and the IP stays answered by one node', async () => {
    const ips = ipRange(3);
    const c = await placed(ips, 6);
    const victim = ips[1] ?? '';
    c.store.deleteByHand(ipLeaseName(victim));
    await c.until('the Lease to be re-created', () => c.store.holders().get(victim) !== undefined && c.consistent(ips));
    expect(c.store.history.some((h) => h.ip === victim && h.deleted)).toBe(true);
    expect(c.segment.maxAnswering.get(victim)).toBe(1);
  });

  it('a holder blanked by hand is taken again and the IP stays answered by one node', async () => {
    const ips = ipRange(3);
    const c = await placed(ips, 7);
    const victim = ips[2] ?? '';
    c.store.blankHolderByHand(ipLeaseName(victim));
    await c.until('a new holder', () => c.store.holders().get(victim) !== '' && c.consistent(ips));
    expect(c.store.history.some((h) => h.ip === victim && h.holder === '')).toBe(true);
    expect(c.segment.maxAnswering.get(victim)).toBe(1);
  });
});
