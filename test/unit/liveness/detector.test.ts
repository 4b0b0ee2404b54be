// The failure detector on the simulated network and virtual clock: what every
// node concludes when a peer dies, leaves, or when only part of the network
// breaks. Times are virtual; nothing here sleeps.
import { describe, expect, it } from 'vitest';
import { FailureDetector } from '../../../src/liveness/detector.js';
import type { LivenessEvent } from '../../../src/liveness/detector.js';
import { SimCluster } from '../../sim/cluster.js';
import { SimNetwork } from '../../sim/network.js';
import { VirtualScheduler } from '../../../src/clock/virtual.js';

const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${i}`);
/** intervalMs 100 x detectMultiplier 4, plus a tick, an exchange and a notice. */
const DETECT_BOUND_MS = 700;

function cluster(n: number, options: Partial<ConstructorParameters<typeof SimCluster>[0]> = {}): SimCluster {
  const c = new SimCluster({ nodes: names(n), loss: 0.01, jitterMs: 2, seed: 7, ...options });
  c.startAll();
  c.scheduler.advance(5_000);
  return c;
}

/** The monitors of `node` as the first running detector sees them. */
function monitorsOf(c: SimCluster, node: string): string[] {
  const out: string[] = [];
  for (const observer of c.running) if (c.detector(observer).status().monitoring.includes(node)) out.push(observer);
  return out;
}

describe('failure detector: a killed node', () => {
  it.each([3, 10, 40])('is declared dead by every live node within the bound (%i nodes, 1%% loss)', (n) => {
    const c = cluster(n);
    for (const victim of ['node-1', 'node-2']) {
      const at = c.scheduler.now();
      c.kill(victim);
      expect(c.scheduler.runUntilDone(() => c.allSay(victim, 'dead'), DETECT_BOUND_MS)).toBe(true);
      expect(c.scheduler.now() - at).toBeGreaterThanOrEqual(300);
      if (n === 3) break; // two nodes left: no quorum possible any more
    }
    c.scheduler.advance(10_000);
    expect(c.wronglyDead()).toEqual([]);
    expect([...c.falseDeaths]).toEqual([]);
  });

  it('comes back alive everywhere when it restarts (a new incarnation)', () => {
    const c = cluster(20);
    c.kill('node-4');
    c.scheduler.advance(2_000);
    expect(c.allSay('node-4', 'dead')).toBe(true);
    c.restart('node-4');
    expect(c.scheduler.runUntilDone(() => c.allSay('node-4', 'alive'), 300)).toBe(true);
    c.scheduler.advance(5_000);
    expect(c.wronglyDead()).toEqual([]);
  });

  it('comes back alive everywhere when it restarts with a clock behind its last life (a lower incarnation)', () => {
    const c = cluster(10);
    const last = c.detector('node-4').incarnation;
    c.kill('node-4');
    c.scheduler.advance(2_000);
    expect(c.allSay('node-4', 'dead')).toBe(true);
    const restarted = c.restart('node-4', last - 500);
    expect(c.scheduler.runUntilDone(() => c.allSay('node-4', 'alive'), 1_000)).toBe(true);
    expect(restarted.incarnation).toBeGreaterThan(last);
    c.scheduler.advance(5_000);
    expect(c.wronglyDead()).toEqual([]);
  });

  it('with three ring neighbours dying at once, all three are found (no monitor left behind)', () => {
    const c = cluster(30);
    const victim = 'node-9';
    const [m1, m2] = c.detector(victim).status().monitoredBy;
    const dying = [victim, m1 as string, m2 as string];
    for (const node of dying) c.kill(node);
    const found = c.scheduler.runUntilDone(() => dying.every((d) => c.allSay(d, 'dead')), 2_000);
    expect(found).toBe(true);
    for (const node of c.running) expect(c.detector(node).isolated()).toBe(false);
  });
});

describe('failure detector: partial failures', () => {
  it('(a) UDP blocked between a node and one of its monitors: no death, the suspicion is refuted', () => {
    const c = cluster(10);
    const x = 'node-3';
    const [m1] = monitorsOf(c, x);
    const before = c.detector(x).incarnation;
    c.network.blockPair(x, m1 as string);
    c.scheduler.advance(60_000);
    expect(c.wronglyDead()).toEqual([]);
    expect([...c.falseDeaths]).toEqual([]);
    expect(c.detector(m1 as string).verdict(x)).toBe('suspect');
    // The other monitors told x, which refuted with a higher incarnation.
    expect(c.detector(x).incarnation).toBeGreaterThan(before);
    for (const m of monitorsOf(c, x).filter((m) => m !== m1)) expect(c.detector(m).verdict(x)).toBe('alive');
    c.network.heal();
    c.scheduler.advance(2_000);
    expect(c.allSay(x, 'alive')).toBe(true);
  });

  it('(a) UDP blocked between two arbitrary pairs of nodes: no death', () => {
    const c = cluster(10);
    c.network.blockPair('node-1', 'node-2');
    c.network.blockPair('node-5', 'node-8');
    c.scheduler.advance(60_000);
    expect(c.wronglyDead()).toEqual([]);
  });

  it('(b) a node that hears no one while its peers hear it blames itself; nobody declares it dead', () => {
    const events: Array<[string, LivenessEvent]> = [];
    const c = cluster(10, { onEvent: (o, e) => events.push([o, e]) });
    const x = 'node-6';
    c.network.blockInbound(x);
    c.scheduler.advance(1_000);
    expect(c.detector(x).isolated()).toBe(true);
    expect(events).toContainEqual([x, { type: 'isolated', isolated: true }]);
    expect(c.detector(x).verdict('node-1')).toBe('unknown');
    expect(c.detector(x).status().msSinceHeartbeat).toBeGreaterThan(400);
    c.scheduler.advance(30_000);
    expect(c.allSay(x, 'alive')).toBe(true);
    expect(c.wronglyDead()).toEqual([]);
    for (const node of c.running) if (node !== x) expect(c.detector(node).isolated()).toBe(false);
    c.network.heal();
    c.scheduler.advance(1_000);
    expect(c.detector(x).isolated()).toBe(false);
    expect(c.detector(x).verdict('node-1')).toBe('alive');
  });

  it('(b) a node cut off both ways is unreachable: its monitors declare it dead, and it knows it hears no one', () => {
    const c = cluster(10);
    const x = 'node-6';
    c.network.blockInbound(x);
    c.network.blockOutbound(x);
    expect(c.scheduler.runUntilDone(() => c.allSay(x, 'dead'), DETECT_BOUND_MS)).toBe(true);
    c.scheduler.advance(1_000);
    expect(c.detector(x).isolated()).toBe(true);
    // Self-blame: an isolated node declares no one dead.
    for (const node of c.running) if (node !== x) expect(c.detector(x).verdict(node)).toBe('unknown');
    expect(c.detector(x).counters.deathsDeclared).toBe(0);
    c.network.heal();
    expect(c.scheduler.runUntilDone(() => c.allSay(x, 'alive'), 1_000)).toBe(true);
  });

  it('(c) the whole mesh blocked: every node is isolated, no one is declared dead; healing restores all', () => {
    const c = cluster(10);
    c.network.blockAll();
    c.scheduler.advance(5_000);
    for (const node of c.running) {
      expect(c.detector(node).isolated()).toBe(true);
      expect(c.detector(node).verdict(node === 'node-0' ? 'node-1' : 'node-0')).toBe('unknown');
      expect(c.detector(node).counters.deathsDeclared).toBe(0);
    }
    c.network.heal();
    c.scheduler.advance(2_000);
    for (const node of c.running) expect(c.detector(node).isolated()).toBe(false);
    expect(c.wronglyDead()).toEqual([]);
    for (const node of c.running) expect(c.allSay(node, 'alive')).toBe(true);
  });

  it('(e) a node cut off from the API only: monitors reaching the API declare it dead; it refutes once back', () => {
    const c = cluster(10);
    const x = 'node-4';
    const before = c.detector(x).incarnation;
    c.apiStanding.set(x, { cutOff: true, steady: false });
    expect(c.scheduler.runUntilDone(() => c.allSay(x, 'dead'), DETECT_BOUND_MS)).toBe(true);
    c.scheduler.advance(30_000);
    expect(c.allSay(x, 'dead')).toBe(true);
    expect(c.detector(x).incarnation).toBe(before);
    expect(c.detector(x).counters.unrefuted).toBeGreaterThan(0);
    expect([...c.falseDeaths]).toEqual([`${x}@${before}`]);
    // Its heartbeats reached the mesh all along: the others heard them and did not count them.
    const ignored = [...c.running].reduce((n, node) => n + c.detector(node).counters.cutOffHeartbeats, 0);
    expect(ignored).toBeGreaterThan(0);
    c.apiStanding.delete(x);
    expect(c.scheduler.runUntilDone(() => c.allSay(x, 'alive'), 500)).toBe(true);
    expect(c.detector(x).incarnation).toBeGreaterThan(before);
    c.scheduler.advance(10_000);
    expect(c.wronglyDead()).toEqual([]);
  });

  it('(d) every node cut off from the API server (an outage of it): nobody is declared dead', () => {
    const c = cluster(10);
    for (const node of c.running) c.apiStanding.set(node, { cutOff: true, steady: false });
    c.scheduler.advance(60_000);
    expect(c.wronglyDead()).toEqual([]);
    expect([...c.falseDeaths]).toEqual([]);
  });

  it('(d) after an outage of the API server, a node still flagged is not declared dead by peers not yet steady', () => {
    const c = cluster(10);
    for (const node of c.running) c.apiStanding.set(node, { cutOff: false, steady: false });
    c.apiStanding.set('node-4', { cutOff: true, steady: false });
    c.scheduler.advance(60_000);
    expect(c.wronglyDead()).toEqual([]);
    expect([...c.falseDeaths]).toEqual([]);
  });

  it('(f) leave(): every member knows within one network delay, with reason "left"', () => {
    const c = cluster(50, { loss: 0, jitterMs: 0, latencyMs: 0.3 });
    c.leave('node-11');
    c.scheduler.advance(0.3);
    expect(c.allSay('node-11', 'dead')).toBe(true);
    for (const node of c.running) expect(c.detector(node).reason('node-11')).toBe('left');
  });

  it('(f) leave() under 1% loss: everyone knows within 50 ms', () => {
    const c = cluster(100);
    for (const node of ['node-20', 'node-21', 'node-22']) {
      c.leave(node);
      expect(c.scheduler.runUntilDone(() => c.allSay(node, 'dead'), 50)).toBe(true);
    }
  });
});

describe('failure detector: refutation', () => {
  it('a node declared dead while alive (a stall of its outbound) refutes with a higher incarnation', () => {
    const c = cluster(20);
    const x = 'node-8';
    const before = c.detector(x).incarnation;
    c.network.blockOutbound(x);
    expect(c.scheduler.runUntilDone(() => c.allSay(x, 'dead'), DETECT_BOUND_MS)).toBe(true);
    c.scheduler.advance(50);
    expect(c.detector(x).incarnation).toBeGreaterThan(before);
    c.network.heal();
    expect(c.scheduler.runUntilDone(() => c.allSay(x, 'alive'), 500)).toBe(true);
    c.scheduler.advance(10_000);
    expect(c.wronglyDead()).toEqual([]);
  });

  it('refutes above the incarnation it is told of, even one above its own (a previous life with a clock ahead)', () => {
    const c = cluster(10, { loss: 0 });
    const x = c.detector('node-2');
    const claimed = x.incarnation + 1_000;
    c.endpoints.get('node-7')?.send(SimNetwork.peer('node-2'), {
      type: 'notice',
      sender: 'node-7',
      incarnation: c.detector('node-7').incarnation,
      subscribed: false,
      apiCutOff: false,
      records: [{ kind: 'dead', node: 'node-2', incarnation: claimed }],
    });
    c.scheduler.advance(10);
    expect(x.incarnation).toBe(claimed + 1);
    expect(x.counters.refutations).toBe(1);
    c.scheduler.advance(2_000);
    expect(c.allSay('node-2', 'alive')).toBe(true);
  });

  it('a dead verdict for an older incarnation does not override a newer alive one', () => {
    const c = cluster(10, { loss: 0 });
    const x = 'node-2';
    const inc = c.detector(x).incarnation;
    const observer = c.detector('node-5');
    // A late relayed record from before a refutation.
    c.endpoints.get('node-7')?.send(SimNetwork.peer('node-5'), {
      type: 'notice',
      sender: 'node-7',
      incarnation: c.detector('node-7').incarnation,
      subscribed: false,
      apiCutOff: false,
      records: [{ kind: 'dead', node: x, incarnation: inc - 1 }],
    });
    c.scheduler.advance(10);
    expect(observer.verdict(x)).toBe('alive');
  });
});

describe('failure detector: the false-death count', () => {
  it('sees false deaths when the network is bad enough (40% loss), and none at 1%', () => {
    const bad = cluster(20, { loss: 0.4 });
    bad.scheduler.advance(60_000);
    expect(bad.falseDeaths.size).toBeGreaterThan(0);
    const fine = cluster(20, { loss: 0.01 });
    fine.scheduler.advance(600_000);
    expect(fine.falseDeaths.size).toBe(0);
  });
});

describe('failure detector: a stalled process', () => {
  it('after a 1 s stall it blames nobody, does not call itself isolated; declared dead, it refutes', () => {
    const events: Array<[string, LivenessEvent]> = [];
    const c = cluster(10, { onEvent: (o, e) => events.push([o, e]) });
    const x = 'node-4';
    const before = c.detector(x).incarnation;
    events.length = 0;
    c.stall(x, 1_000);
    c.scheduler.advance(1_000);
    expect(c.allSay(x, 'dead')).toBe(true);
    c.scheduler.advance(500);
    const own = events.filter(([o]) => o === x).map(([, e]) => e);
    expect(own.filter((e) => e.type === 'isolated')).toEqual([]);
    expect(own.filter((e) => e.type === 'verdict' && e.verdict !== 'alive')).toEqual([]);
    expect(c.detector(x).counters.suspicions).toBe(0);
    expect(c.detector(x).incarnation).toBeGreaterThan(before);
    expect(c.allSay(x, 'alive')).toBe(true);
  });
});

describe('failure detector: membership changes', () => {
  it('nodes joining and leaving the member list, learned at different times, cause no false death', () => {
    const all = names(40);
    const c = new SimCluster({ nodes: all.slice(0, 30), loss: 0.01, jitterMs: 2, seed: 3 });
    c.startAll();
    c.scheduler.advance(5_000);
    // Ten nodes join; each running node learns of them at its own moment (Lease watch lag up to 2 s).
    const grown = all;
    c.members = grown;
    for (const node of grown.slice(30)) {
      c.setMembersOf(node, grown);
      c.start(node);
    }
    for (const node of grown.slice(0, 30)) c.scheduler.setTimer(c.random() * 2_000, () => c.setMembersOf(node, grown));
    c.scheduler.advance(30_000);
    expect([...c.falseDeaths]).toEqual([]);
    expect(c.wronglyDead()).toEqual([]);
    // Ten leave the list (their Leases deleted) and stop, learned at different moments.
    const shrunk = all.filter((_, i) => i % 4 !== 1);
    for (const node of all.filter((n) => !shrunk.includes(n))) c.kill(node);
    c.members = shrunk;
    for (const node of shrunk) c.scheduler.setTimer(c.random() * 2_000, () => c.setMembersOf(node, shrunk));
    c.scheduler.advance(30_000);
    expect([...c.falseDeaths]).toEqual([]);
    expect(c.wronglyDead()).toEqual([]);
  });

  it('says "unknown" when no quorum of monitors is possible (two nodes)', () => {
    const c = cluster(2);
    expect(c.detector('node-0').verdict('node-1')).toBe('unknown');
    c.kill('node-1');
    c.scheduler.advance(5_000);
    expect(c.detector('node-0').verdict('node-1')).toBe('unknown');
    expect(c.detector('node-0').status().quorumPossible).toBe(false);
  });

  it('says "unknown" for a node that is not a member', () => {
    const c = cluster(3);
    expect(c.detector('node-0').verdict('node-99')).toBe('unknown');
  });
});

describe('failure detector: options and input', () => {
  const base = () => {
    const scheduler = new VirtualScheduler();
    const network = new SimNetwork({ scheduler, random: () => 0.5 });
    return { self: 'node-a', scheduler, transport: network.endpoint('node-a') };
  };

  it('refuses settings that break the protocol', () => {
    expect(() => new FailureDetector({ ...base(), quorum: 1 })).toThrow(/no single observer/);
    expect(() => new FailureDetector({ ...base(), monitors: 1 })).toThrow(/monitors/);
    expect(() => new FailureDetector({ ...base(), intervalMs: 0 })).toThrow(/interval/);
    expect(() => new FailureDetector({ ...base(), detectMultiplier: 1 })).toThrow(/multiplier/);
    expect(() => new FailureDetector({ ...base(), self: 'Not A Name' })).toThrow(/valid node name/);
    expect(() => new FailureDetector({ ...base(), incarnation: -1 })).toThrow(/incarnation/);
    expect(() => new FailureDetector({ ...base(), relayRounds: 0 })).toThrow(/relay rounds/);
    expect(() => new FailureDetector({ ...base(), gossipFanout: -1 })).toThrow(/fanout/);
    expect(() => new FailureDetector({ ...base(), subscriptionMs: 100 })).toThrow(/subscription/);
  });

  it('refuses a bad member list and keeps the one it had', () => {
    const fd = new FailureDetector(base());
    fd.setMembers([SimNetwork.peer('node-a'), SimNetwork.peer('node-b'), SimNetwork.peer('node-c')]);
    expect(() => fd.setMembers([{ node: 'node-b', address: 'node-b', port: 70000 }])).toThrow(/port/);
    expect(() => fd.setMembers([{ node: 'bad name', address: 'x', port: 1 }])).toThrow(/valid node name/);
    expect(() => fd.setMembers([{ node: 'node-b', address: '', port: 1 }])).toThrow(/address/);
    // Never heard on the mesh: no verdict yet (the Leases judge it).
    expect(fd.verdict('node-b')).toBe('unknown');
    expect(fd.status().livePeers).toBe(2);
  });
});
