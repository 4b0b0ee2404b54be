import { describe, expect, it } from 'vitest';
import { ElectionMachine, type Intent } from '../../../src/election/machine.js';
import { planTakeovers } from '../../../src/election/plan.js';

const LD = 3000;
const STAGGER = 150;
const IP = '192.0.2.10';
const MAC_A = '02:00:5e:00:53:0a';
const MAC_B = '02:00:5e:00:53:0b';
const MAC_C = '02:00:5e:00:53:0c';

/**
 * A machine for node `self` with peers b and c alive at t=0, synced one lease-duration earlier (view complete at t=0).
 */
function setup(self = 'a', peers: Record<string, string> = { b: MAC_B, c: MAC_C }) {
  const m = new ElectionMachine({ self, leaseDurationMs: LD, staggerMs: STAGGER, retryBackoffMs: 500 });
  m.observeHeartbeat(self, { resourceVersion: 's1', macs: [MAC_A] }, 0);
  for (const [node, mac] of Object.entries(peers))
    m.observeHeartbeat(node, { resourceVersion: `${node}1`, macs: [mac] }, 0);
  m.markSynced(-LD);
  return m;
}

function kinds(intents: Intent[]): string[] {
  return intents.map((i) => `${i.kind} ${i.ip}`);
}

/** The node each speaker of `nodes` would plan first for `ip` with nothing held. */
function plannedOwner(ip: string, nodes: string[]): string {
  const ranked = planTakeovers([{ ip, candidates: nodes }], new Map()).get(ip);
  if (ranked?.[0] === undefined) throw new Error('no plan');
  return ranked[0];
}

/** Puts m in the state of holding ip (Lease version rv) as of time t, as if its acquire had succeeded. */
function own(m: ElectionMachine, ip: string, rv: string, t: number) {
  m.evaluate(t);
  m.writeFinished(ip, { kind: 'ok', lease: { holder: m.self, resourceVersion: rv } }, t);
  return m.evaluate(t);
}

describe('ElectionMachine configuration', () => {
  it('rejects an empty node name', () => {
    expect(() => new ElectionMachine({ self: '', leaseDurationMs: LD, staggerMs: STAGGER })).toThrow(
      /node name is empty/,
    );
  });
  it('rejects a non-positive lease duration', () => {
    expect(() => new ElectionMachine({ self: 'a', leaseDurationMs: 0, staggerMs: STAGGER })).toThrow(/lease duration/);
  });
  it('rejects a negative stagger', () => {
    expect(() => new ElectionMachine({ self: 'a', leaseDurationMs: LD, staggerMs: -1 })).toThrow(/stagger/);
  });
});

describe('acquiring an IP that needs an owner', () => {
  it('does nothing before the caches are synced', () => {
    const m = new ElectionMachine({ self: 'a', leaseDurationMs: LD, staggerMs: STAGGER });
    m.setEligible(IP, new Set(['a']));
    expect(m.evaluate(0).intents).toEqual([]);
    m.markSynced(0);
    // A fresh view first listens for live peers for one lease-duration.
    const e = m.evaluate(0);
    expect(e.intents).toEqual([]);
    expect(e.wakeAt).toBe(LD);
    expect(kinds(m.evaluate(LD).intents)).toEqual([`acquire ${IP}`]);
  });

  it('creates the Lease at once when it is the only candidate and no Lease exists', () => {
    const m = setup();
    m.setEligible(IP, new Set(['a']));
    const [intent] = m.evaluate(10).intents;
    expect(intent).toEqual({ kind: 'acquire', ip: IP, expectedResourceVersion: undefined, reason: 'no lease; rank 0' });
  });

  it('the planned owner acts at once, the next one rank x stagger later, after re-checking', () => {
    const owner = plannedOwner(IP, ['a', 'b']);
    const other = owner === 'a' ? 'b' : 'a';
    const first = setup(owner, { [other]: MAC_C });
    const second = setup(other, { [owner]: MAC_C });
    for (const m of [first, second]) m.setEligible(IP, new Set(['a', 'b']));
    expect(kinds(first.evaluate(0).intents)).toEqual([`acquire ${IP}`]);
    const waiting = second.evaluate(0);
    expect(waiting.intents).toEqual([]);
    expect(waiting.wakeAt).toBe(STAGGER);
    expect(second.evaluate(STAGGER - 1).intents).toEqual([]);
    // The planned owner did not act: the next in rank steps in.
    expect(kinds(second.evaluate(STAGGER).intents)).toEqual([`acquire ${IP}`]);
  });

  it('counts rank waits from when a fresh view completes, not from when the IP was first seen', () => {
    const owner = plannedOwner(IP, ['a', 'b']);
    const other = owner === 'a' ? 'b' : 'a';
    const m = new ElectionMachine({ self: other, leaseDurationMs: LD, staggerMs: STAGGER });
    m.observeHeartbeat(owner, { resourceVersion: '1', macs: [MAC_B] }, 0);
    m.setEligible(IP, new Set(['a', 'b']));
    m.markSynced(0);
    m.observeHeartbeat(owner, { resourceVersion: '2', macs: [MAC_B] }, LD - 10);
    expect(m.evaluate(0).intents).toEqual([]);
    expect(m.evaluate(LD).intents).toEqual([]);
    expect(m.evaluate(LD + STAGGER - 1).intents).toEqual([]);
    expect(kinds(m.evaluate(LD + STAGGER).intents)).toEqual([`acquire ${IP}`]);
  });

  it('stretches the stagger to twice the write latency when the API server is slow', () => {
    const owner = plannedOwner(IP, ['a', 'b']);
    const other = owner === 'a' ? 'b' : 'a';
    const m = setup(other, { [owner]: MAC_C });
    m.setEligible(IP, new Set(['a', 'b']));
    m.observeWriteLatency(400);
    expect(m.effectiveStaggerMs()).toBe(800);
    expect(m.evaluate(0).wakeAt).toBe(800);
    expect(m.evaluate(799).intents).toEqual([]);
    expect(kinds(m.evaluate(800).intents)).toEqual([`acquire ${IP}`]);
  });

  it('does not acquire when the planned owner took the IP during the wait', () => {
    const owner = plannedOwner(IP, ['a', 'b']);
    const other = owner === 'a' ? 'b' : 'a';
    const m = setup(other, { [owner]: MAC_C });
    m.setEligible(IP, new Set(['a', 'b']));
    expect(m.evaluate(0).intents).toEqual([]);
    m.observeLease(IP, { holder: owner, resourceVersion: '5' }, 100);
    expect(m.evaluate(STAGGER).intents).toEqual([]);
  });

  it('announces after the write succeeds, carrying when the IP first needed an owner', () => {
    const m = setup();
    m.setEligible(IP, new Set(['a']));
    m.evaluate(7);
    m.writeFinished(IP, { kind: 'ok', lease: { holder: 'a', resourceVersion: '9' } }, 20);
    expect(m.evaluate(20).intents).toEqual([
      { kind: 'announce', ip: IP, reason: 'lease names this node', probe: true, ownerNeededSince: 7 },
    ]);
    expect(m.isAnnouncing(IP)).toBe(true);
  });

  it('probes only an IP that had no Lease before: a takeover from another speaker announces at once', () => {
    const m = setup();
    m.setEligible(IP, new Set(['a']));
    m.observeLease(IP, { holder: '', resourceVersion: '4' }, 0);
    const acquire = m.evaluate(7).intents;
    expect(acquire).toEqual([expect.objectContaining({ kind: 'acquire', expectedResourceVersion: '4' })]);
    m.writeFinished(IP, { kind: 'ok', lease: { holder: 'a', resourceVersion: '9' } }, 20);
    expect(m.evaluate(20).intents).toEqual([expect.objectContaining({ kind: 'announce', ip: IP, probe: false })]);
  });

  it('issues no second acquire while one is in flight, and retries after the backoff when it failed', () => {
    const m = setup();
    m.setEligible(IP, new Set(['a']));
    expect(kinds(m.evaluate(0).intents)).toEqual([`acquire ${IP}`]);
    expect(m.evaluate(1).intents).toEqual([]);
    m.writeFinished(IP, { kind: 'failed' }, 2);
    const e = m.evaluate(3);
    expect(e.intents).toEqual([]);
    expect(e.wakeAt).toBe(502);
    expect(kinds(m.evaluate(502).intents)).toEqual([`acquire ${IP}`]);
  });

  it('after a 409 and a re-read that shows another holder, stays out', () => {
    const m = setup();
    m.setEligible(IP, new Set(['a', 'b']));
    m.observeLease(IP, { holder: '', resourceVersion: '3' }, 0);
    // Whatever a's rank, its turn has come 2 x stagger after it noticed.
    const [acquire] = [...m.evaluate(0).intents, ...m.evaluate(2 * STAGGER).intents];
    expect(acquire).toMatchObject({ kind: 'acquire', expectedResourceVersion: '3' });
    m.writeFinished(IP, { kind: 'conflict' }, 400);
    m.observeLeaseRead(IP, { holder: 'b', resourceVersion: '4' }, 401);
    m.observeHeartbeat('b', { resourceVersion: 'b2', macs: [MAC_B] }, 1000);
    expect(m.evaluate(2000).intents).toEqual([]);
    expect(m.heldIps()).toEqual([]);
  });

  it('acquires nothing while the API server is unreachable', () => {
    const m = setup();
    m.setEligible(IP, new Set(['a']));
    m.setApiReachable(false, 0);
    expect(m.evaluate(0).intents).toEqual([]);
    m.setApiReachable(true, 10);
    // A short loss of our own renewals: acquire again at once.
    expect(kinds(m.evaluate(10).intents)).toEqual([`acquire ${IP}`]);
  });

  it('after an outage of at least lease-duration listens for one lease-duration before acquiring', () => {
    const m = setup();
    m.setEligible(IP, new Set(['a']));
    m.setApiReachable(false, 0);
    m.setApiReachable(true, LD);
    expect(m.evaluate(LD).intents).toEqual([]);
    expect(kinds(m.evaluate(2 * LD).intents)).toEqual([`acquire ${IP}`]);
  });

  it('evaluating twice in a row issues nothing new (level-triggered)', () => {
    const m = setup();
    m.setEligible(IP, new Set(['a']));
    own(m, IP, '1', 0);
    expect(m.evaluate(0).intents).toEqual([]);
    expect(m.evaluate(1).intents).toEqual([]);
  });
});

describe('sticky ownership and liveness', () => {
  it('leaves a live candidate holder alone, even when it would not be planned first (no failback)', () => {
    const m = setup();
    m.setEligible(IP, new Set(['a', 'b', 'c']));
    m.observeLease(IP, { holder: 'b', resourceVersion: '2' }, 0);
    for (const t of [0, 1000, 2000]) {
      m.observeHeartbeat('b', { resourceVersion: `b${t}`, macs: [MAC_B] }, t);
      expect(m.evaluate(t).intents).toEqual([]);
    }
  });

  it('takes over from a holder whose Lease stopped changing for lease-duration, with CAS on its version', () => {
    const m = setup('a', { b: MAC_B });
    m.setEligible(IP, new Set(['a', 'b']));
    m.observeLease(IP, { holder: 'b', resourceVersion: '2' }, 0);
    const e = m.evaluate(LD - 1);
    expect(e.intents).toEqual([]);
    expect(e.wakeAt).toBe(LD);
    const [acquire] = m.evaluate(LD).intents;
    expect(acquire).toMatchObject({ kind: 'acquire', ip: IP, expectedResourceVersion: '2' });
    expect(acquire?.reason).toMatch(/holder b is not live/);
  });

  it('a renewal seen before the deadline keeps the holder live', () => {
    const m = setup('a', { b: MAC_B });
    m.setEligible(IP, new Set(['a', 'b']));
    m.observeLease(IP, { holder: 'b', resourceVersion: '2' }, 0);
    m.observeHeartbeat('b', { resourceVersion: 'b2', macs: [MAC_B] }, LD - 1);
    expect(m.evaluate(LD).intents).toEqual([]);
    // The same version again is no renewal.
    m.observeHeartbeat('b', { resourceVersion: 'b2', macs: [MAC_B] }, 2 * LD - 2);
    expect(m.evaluate(2 * LD - 1).intents.map((i) => i.kind)).toEqual(['acquire']);
  });

  it('counts itself live without any heartbeat of its own', () => {
    const m = new ElectionMachine({ self: 'a', leaseDurationMs: LD, staggerMs: STAGGER });
    m.markSynced(0);
    expect(m.isLive('a', 1e9)).toBe(true);
    expect(m.isLive('b', 0)).toBe(false);
  });

  it('a deleted node Lease makes the node not live at once', () => {
    const m = setup('a', { b: MAC_B });
    m.setEligible(IP, new Set(['a', 'b']));
    m.observeLease(IP, { holder: 'b', resourceVersion: '2' }, 0);
    m.observeHeartbeat('b', undefined, 10);
    expect(m.evaluate(10).intents.map((i) => i.kind)).toEqual(['acquire']);
  });

  it('waits 2 x lease-duration before taking over from a live holder that is no longer a candidate', () => {
    const m = setup('a', { b: MAC_B });
    m.setEligible(IP, new Set(['a']));
    m.observeLease(IP, { holder: 'b', resourceVersion: '2' }, 0);
    const keepAlive = (t: number) => m.observeHeartbeat('b', { resourceVersion: `b${t}`, macs: [MAC_B] }, t);
    keepAlive(100);
    expect(m.evaluate(100).intents).toEqual([]);
    for (let t = 1000; t < 100 + 2 * LD; t += 1000) {
      keepAlive(t);
      expect(m.evaluate(t).intents).toEqual([]);
    }
    keepAlive(100 + 2 * LD);
    const [acquire] = m.evaluate(100 + 2 * LD).intents;
    expect(acquire?.reason).toMatch(/not a candidate for 2 x lease-duration/);
  });

  it('after a stall of the observer gives every peer a fresh lease-duration', () => {
    const m = setup('a', { b: MAC_B });
    m.setEligible(IP, new Set(['a', 'b']));
    m.observeLease(IP, { holder: 'b', resourceVersion: '2' }, 0);
    m.restartView(5000);
    expect(m.isLive('b', 5000)).toBe(true);
    expect(m.evaluate(5000 + LD - 1).intents).toEqual([]);
    expect(m.evaluate(5000 + LD).intents.map((i) => i.kind)).toEqual(['acquire']);
  });

  it('knows the MACs speakers publish, whatever their case', () => {
    const m = setup();
    expect(m.isSpeakerMac(MAC_B.toUpperCase())).toBe(true);
    expect(m.isSpeakerMac(MAC_A)).toBe(true);
    expect(m.isSpeakerMac('02:00:5e:00:53:99')).toBe(false);
  });

  it('after an API outage gives every peer a fresh lease-duration instead of taking over', () => {
    const m = setup('a', { b: MAC_B });
    m.setEligible(IP, new Set(['a', 'b']));
    m.observeLease(IP, { holder: 'b', resourceVersion: '2' }, 0);
    m.setApiReachable(false, 500);
    expect(m.evaluate(30_000).intents).toEqual([]);
    m.setApiReachable(true, 30_000);
    expect(m.evaluate(30_001).intents).toEqual([]);
    m.observeHeartbeat('b', { resourceVersion: 'b9', macs: [MAC_B] }, 30_100);
    expect(m.evaluate(30_000 + LD).intents).toEqual([]);
  });
});

describe('holding an IP', () => {
  it('withdraws at once when the Lease moves to another node', () => {
    const m = setup();
    m.setEligible(IP, new Set(['a', 'b']));
    own(m, IP, '1', 0);
    m.observeLease(IP, { holder: 'a', resourceVersion: '1' }, 1);
    m.observeLease(IP, { holder: 'b', resourceVersion: '2' }, 2);
    expect(m.evaluate(2).intents).toEqual([{ kind: 'withdraw', ip: IP, reason: 'lease moved to b' }]);
    expect(m.isAnnouncing(IP)).toBe(false);
  });

  it('ignores watch events older than its own write until that write shows up', () => {
    const m = setup();
    m.setEligible(IP, new Set(['a', 'b']));
    own(m, IP, '7', 0);
    m.observeLease(IP, { holder: 'b', resourceVersion: '6' }, 1);
    expect(m.evaluate(1).intents).toEqual([]);
    m.observeLease(IP, { holder: 'a', resourceVersion: '7' }, 2);
    m.observeLease(IP, { holder: 'b', resourceVersion: '8' }, 3);
    expect(kinds(m.evaluate(3).intents)).toEqual([`withdraw ${IP}`]);
  });

  it('a write whose watch event came before its response does not block later events', () => {
    const m = setup();
    m.setEligible(IP, new Set(['a', 'b']));
    m.evaluate(0);
    m.observeLease(IP, { holder: 'a', resourceVersion: '7' }, 1);
    m.observeLease(IP, { holder: 'b', resourceVersion: '8' }, 2);
    // The response of our write (version 7) arrives last: it must not roll the view back.
    m.writeFinished(IP, { kind: 'ok', lease: { holder: 'a', resourceVersion: '7' } }, 3);
    expect(m.heldIps()).toEqual([]);
    m.observeLease(IP, undefined, 4);
    m.observeHeartbeat('b', undefined, 4);
    expect(m.evaluate(4).intents.map((i) => i.kind)).toEqual(['acquire']);
  });

  it('stops answering, then releases when it is no longer a candidate', () => {
    const m = setup();
    m.setEligible(IP, new Set(['a', 'b']));
    own(m, IP, '1', 0);
    m.setEligible(IP, new Set(['b']));
    expect(m.evaluate(5).intents).toEqual([
      { kind: 'withdraw', ip: IP, reason: 'this node is no longer a candidate' },
      { kind: 'release', ip: IP, expectedResourceVersion: '1', reason: 'this node is no longer a candidate' },
    ]);
    expect(m.evaluate(6).intents).toEqual([]);
  });

  it('deletes its Lease when the IP is no longer allocated', () => {
    const m = setup();
    m.setEligible(IP, new Set(['a']));
    own(m, IP, '1', 0);
    m.removeIp(IP);
    expect(kinds(m.evaluate(5).intents)).toEqual([`withdraw ${IP}`, `delete ${IP}`]);
    m.writeFinished(IP, { kind: 'ok', lease: undefined }, 6);
    expect(m.evaluate(6).intents).toEqual([]);
    expect(m.heldIps()).toEqual([]);
  });

  it('keeps announcing what it holds while the API server is unreachable', () => {
    const m = setup('a', { b: MAC_B });
    m.setEligible(IP, new Set(['a', 'b']));
    own(m, IP, '1', 0);
    m.setApiReachable(false, 10);
    expect(m.evaluate(LD).intents).toEqual([]);
    // A lease-duration unseen: it asks the wire, still answering; a clear wire changes nothing.
    const gap = m.evaluate(10 + LD).intents;
    expect(kinds(gap)).toEqual([`confirm ${IP}`]);
    m.confirmedByWire(IP, confirmId(gap));
    expect(m.evaluate(60_000).intents).toEqual([]);
    expect(m.isAnnouncing(IP)).toBe(true);
  });

  it('on shutdown withdraws everything, releases every held IP and then does nothing', () => {
    const m = setup();
    const other = '192.0.2.11';
    m.setEligible(IP, new Set(['a']));
    m.setEligible(other, new Set(['a']));
    m.evaluate(0);
    m.writeFinished(IP, { kind: 'ok', lease: { holder: 'a', resourceVersion: '1' } }, 0);
    m.writeFinished(other, { kind: 'ok', lease: { holder: 'a', resourceVersion: '2' } }, 0);
    m.evaluate(0);
    expect(kinds(m.shutdown())).toEqual([`withdraw ${IP}`, `withdraw ${other}`, `release ${IP}`, `release ${other}`]);
    m.observeLease(IP, undefined, 1);
    expect(m.evaluate(1).intents).toEqual([]);
  });
});

function confirmId(intents: Intent[]): number {
  const confirm = intents.find((i) => i.kind === 'confirm');
  if (confirm?.kind !== 'confirm') throw new Error(`no confirm intent in ${kinds(intents).join(', ')}`);
  return confirm.id;
}

describe('yield first, then answer: a takeover may have been missed', () => {
  function owned() {
    const m = setup();
    m.setEligible(IP, new Set(['a', 'b']));
    own(m, IP, '1', 0);
    return m;
  }

  it('a link going down silences the IPs held there at once, and asks nothing until the link is back', () => {
    const m = owned();
    m.linkDown('eth0', [IP], 1);
    expect(kinds(m.evaluate(1).intents)).toEqual([`withdraw ${IP}`]);
    expect(m.isConfirming(IP)).toBe(true);
    expect(m.evaluate(5000).intents).toEqual([]);
    m.linkUp('eth0');
    expect(kinds(m.evaluate(5001).intents)).toEqual([`confirm ${IP}`]);
    expect(m.evaluate(5002).intents).toEqual([]);
  });

  it('a link down for 2 x lease-duration hands the IP over: released, so a node that can serve it takes it', () => {
    const m = owned();
    m.linkDown('eth0', [IP], 100);
    expect(kinds(m.evaluate(100).intents)).toEqual([`withdraw ${IP}`]);
    expect(m.evaluate(200).wakeAt).toBeLessThanOrEqual(100 + 2 * LD);
    expect(m.evaluate(99 + 2 * LD).intents).toEqual([]);
    const released = m.evaluate(100 + 2 * LD).intents;
    expect(released).toEqual([
      { kind: 'release', ip: IP, expectedResourceVersion: '1', reason: 'link eth0 down for 2 x lease-duration' },
    ]);
  });

  it('a link down elsewhere leaves the IP alone', () => {
    const m = owned();
    m.linkDown('eth1', [], 1);
    expect(m.evaluate(1).intents).toEqual([]);
    expect(m.isAnnouncing(IP)).toBe(true);
  });

  it('resumes after one Lease read that still names this node', () => {
    const m = owned();
    m.linkDown('eth0', [IP], 1);
    m.evaluate(1);
    m.linkUp('eth0');
    const id = confirmId(m.evaluate(1000).intents);
    m.confirmRead(IP, id, { holder: 'a', resourceVersion: '1' }, 1010);
    const resumed = m.evaluate(1010).intents;
    expect(resumed).toEqual([
      { kind: 'announce', ip: IP, reason: 'lease names this node', probe: false, ownerNeededSince: undefined },
    ]);
  });

  it('a late read showing the missed takeover withdraws what a clear wire check let through', () => {
    const m = owned();
    m.linkDown('eth0', [IP], 1);
    m.evaluate(1);
    m.linkUp('eth0');
    const id = confirmId(m.evaluate(1000).intents);
    // The read is slow: the wire check, clear, lets it answer again...
    m.confirmedByWire(IP, id);
    expect(kinds(m.evaluate(1150).intents)).toEqual([`announce ${IP}`]);
    // ... and the read, when it comes, overrides: the missed takeover silences it.
    m.confirmRead(IP, id, { holder: 'b', resourceVersion: '2' }, 1400);
    expect(kinds(m.evaluate(1400).intents)).toEqual([`withdraw ${IP}`]);
    expect(m.heldIps()).toEqual([]);
  });

  it('a read showing the takeover before the wire check ends keeps it silent', () => {
    const m = owned();
    m.linkDown('eth0', [IP], 1);
    m.evaluate(1);
    m.linkUp('eth0');
    const id = confirmId(m.evaluate(1000).intents);
    m.confirmRead(IP, id, { holder: 'b', resourceVersion: '2' }, 1010);
    m.confirmedByWire(IP, id);
    expect(m.evaluate(1010).intents).toEqual([]);
    expect(m.isAnnouncing(IP)).toBe(false);
    expect(m.heldIps()).toEqual([]);
  });

  it('another speaker answering the wire check fences the IP: silent until a re-read settles it', () => {
    const m = owned();
    m.linkDown('eth0', [IP], 1);
    m.evaluate(1);
    m.linkUp('eth0');
    confirmId(m.evaluate(1000).intents);
    expect(m.observeWireClaim(IP, MAC_B).effect).toBe('fenced');
    expect(kinds(m.evaluate(1001).intents)).toEqual([`reread ${IP}`]);
    expect(m.isAnnouncing(IP)).toBe(false);
  });

  it('asks again after the backoff when neither the read nor the wire could settle it', () => {
    const m = owned();
    m.linkDown('eth0', [IP], 1);
    m.evaluate(1);
    m.linkUp('eth0');
    const id = confirmId(m.evaluate(1000).intents);
    m.confirmFailed(IP, id, 1200);
    const waiting = m.evaluate(1200);
    expect(waiting.intents).toEqual([]);
    expect(waiting.wakeAt).toBe(1700);
    expect(confirmId(m.evaluate(1700).intents)).toBe(id);
  });

  it('ignores the result of an older confirmation once the link went down again', () => {
    const m = owned();
    m.linkDown('eth0', [IP], 1);
    m.evaluate(1);
    m.linkUp('eth0');
    const stale = confirmId(m.evaluate(1000).intents);
    m.linkDown('eth0', [IP], 1);
    m.confirmedByWire(IP, stale);
    m.confirmRead(IP, stale, { holder: 'a', resourceVersion: '1' }, 1010);
    expect(m.evaluate(1010).intents).toEqual([]);
    expect(m.isConfirming(IP)).toBe(true);
  });

  it('own heartbeat unseen for a lease-duration: confirms once per outage, answering meanwhile', () => {
    const m = owned();
    m.setApiReachable(false, 100);
    const early = m.evaluate(200);
    expect(early.intents).toEqual([]);
    expect(early.wakeAt).toBe(100 + LD);
    const gap = m.evaluate(100 + LD).intents;
    expect(kinds(gap)).toEqual([`confirm ${IP}`]);
    expect(m.isAnnouncing(IP)).toBe(true);
    m.confirmedByWire(IP, confirmId(gap));
    expect(m.evaluate(100 + 5 * LD).intents).toEqual([]);
    // A new outage confirms again.
    m.setApiReachable(true, 100 + 6 * LD);
    m.evaluate(100 + 6 * LD);
    m.setApiReachable(false, 100 + 7 * LD);
    expect(kinds(m.evaluate(100 + 8 * LD).intents)).toEqual([`confirm ${IP}`]);
  });

  it('an outage during a link-down keeps the IP silent until the link is back and it is confirmed', () => {
    const m = owned();
    m.linkDown('eth0', [IP], 1);
    expect(kinds(m.evaluate(1).intents)).toEqual([`withdraw ${IP}`]);
    m.setApiReachable(false, 100);
    expect(m.evaluate(100 + LD).intents).toEqual([]);
    expect(m.isAnnouncing(IP)).toBe(false);
    m.linkUp('eth0');
    const id = confirmId(m.evaluate(200 + LD).intents);
    m.confirmedByWire(IP, id);
    expect(kinds(m.evaluate(300 + LD).intents)).toEqual([`announce ${IP}`]);
  });

  it('another speaker answering the check of an outage silences the IP at once', () => {
    const m = owned();
    m.setApiReachable(false, 100);
    confirmId(m.evaluate(100 + LD).intents);
    expect(m.observeWireClaim(IP, MAC_B).effect).toBe('fenced');
    expect(kinds(m.evaluate(100 + LD + 1).intents)).toEqual([`withdraw ${IP}`, `reread ${IP}`]);
  });
});

describe('the wire fence', () => {
  function owned() {
    const m = setup();
    m.setEligible(IP, new Set(['a', 'b']));
    own(m, IP, '1', 0);
    return m;
  }

  it('a claim from another speaker MAC stops answering at once and asks for a re-read, once', () => {
    const m = owned();
    expect(m.observeWireClaim(IP, MAC_B.toUpperCase()).effect).toBe('fenced');
    expect(m.evaluate(1).intents.map((i) => i.kind)).toEqual(['withdraw', 'reread']);
    m.observeWireClaim(IP, MAC_B);
    expect(m.evaluate(2).intents).toEqual([]);
  });

  it('resumes and reports a conflict when the re-read still names this node', () => {
    const m = owned();
    m.observeWireClaim(IP, MAC_B);
    m.evaluate(1);
    m.observeLeaseRead(IP, { holder: 'a', resourceVersion: '1' }, 2);
    expect(m.evaluate(2).intents.map((i) => `${i.kind}${i.kind === 'conflict' ? ' ' + i.mac : ''}`)).toEqual([
      'announce',
      `conflict ${MAC_B}`,
    ]);
  });

  it('stays silent when the re-read shows the new owner', () => {
    const m = owned();
    m.observeWireClaim(IP, MAC_B);
    m.evaluate(1);
    m.observeLeaseRead(IP, { holder: 'b', resourceVersion: '2' }, 2);
    expect(m.evaluate(2).intents).toEqual([]);
    expect(m.heldIps()).toEqual([]);
  });

  it('stays fenced (silent) while the re-read cannot be done', () => {
    const m = owned();
    m.setApiReachable(false, 1);
    m.observeWireClaim(IP, MAC_B);
    expect(m.evaluate(1).intents.map((i) => i.kind)).toEqual(['withdraw', 'reread']);
    expect(m.evaluate(60_000).intents).toEqual([]);
    expect(m.isAnnouncing(IP)).toBe(false);
  });

  it('a MAC no speaker publishes is a conflict, reported once, and the owner keeps announcing', () => {
    const m = owned();
    const stranger = '02:00:5e:00:53:99';
    const first = m.observeWireClaim(IP, stranger);
    expect(first.effect).toBe('conflict');
    expect(first.intents).toEqual([
      { kind: 'conflict', ip: IP, mac: stranger, reason: 'a host that is no speaker answers for this IP' },
    ]);
    expect(m.observeWireClaim(IP, stranger).intents).toEqual([]);
    expect(m.evaluate(1).intents).toEqual([]);
    expect(m.isAnnouncing(IP)).toBe(true);
  });

  it('ignores claims with its own MAC and claims for IPs it does not hold', () => {
    const m = owned();
    expect(m.observeWireClaim(IP, MAC_A).effect).toBe('ignored');
    expect(m.observeWireClaim('192.0.2.99', MAC_B).effect).toBe('ignored');
    expect(m.evaluate(1).intents).toEqual([]);
  });
});
