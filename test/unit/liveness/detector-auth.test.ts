// The failure detector with every datagram through the real codec, MAC and
// replay window on the simulated network: key rotation, replays, forgeries.
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../../src/liveness/codec.js';
import { KeyRing, keyId } from '../../../src/liveness/keyring.js';
import { SimCluster } from '../../sim/cluster.js';
import type { Datagram } from '../../sim/network.js';

const OLD = Buffer.alloc(32, 0x01);
const NEW = Buffer.alloc(32, 0x02);
const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${i}`);

const ADOPT_MS = 10_000;

function authenticated(n: number, rings: Map<string, KeyRing>): SimCluster {
  let c: SimCluster | undefined;
  const now = () => c?.scheduler.now() ?? 0;
  for (const node of names(n)) rings.set(node, new KeyRing([OLD], { now, adoptAfterMs: ADOPT_MS }));
  c = new SimCluster({
    nodes: names(n),
    loss: 0.01,
    jitterMs: 2,
    seed: 11,
    keys: (node) => rings.get(node) as KeyRing,
  });
  c.startAll();
  c.scheduler.advance(5_000);
  return c;
}

const dropped = (c: SimCluster, reason: string) =>
  [...c.endpoints.values()].reduce((sum, e) => sum + (e.channel?.dropped[reason as 'replayed'] ?? 0), 0);

describe('failure detector over the authenticated codec', () => {
  it('a key rotation (add new, sign with new, drop old), node by node, causes no suspicion and no death', () => {
    const rings = new Map<string, KeyRing>();
    const c = authenticated(12, rings);
    const step = (keys: Buffer[]) => {
      for (const node of names(12)) {
        rings.get(node)?.set(keys);
        c.scheduler.advance(500); // nodes pick the new Secret up at different moments
      }
      c.scheduler.advance(ADOPT_MS);
    };
    step([NEW, OLD]);
    for (const node of names(12)) expect(rings.get(node)?.signing().id).toBe(keyId(NEW));
    step([NEW]);
    expect(c.wronglyDead()).toEqual([]);
    expect([...c.falseDeaths]).toEqual([]);
    for (const node of names(12)) expect(c.detector(node).counters.suspicions).toBe(0);
    expect(dropped(c, 'unknown-key')).toBe(0);
  });

  it('a node that jumps to the new key alone is refused by the others (the rotation window prevents that)', () => {
    const rings = new Map<string, KeyRing>();
    const c = authenticated(8, rings);
    rings.get('node-3')?.set([NEW]);
    expect(c.scheduler.runUntilDone(() => c.allSay('node-3', 'dead'), 2_000)).toBe(true);
    expect(dropped(c, 'unknown-key')).toBeGreaterThan(0);
  });

  it('replayed datagrams of a killed node do not keep it alive', () => {
    const rings = new Map<string, KeyRing>();
    const c = authenticated(8, rings);
    const captured: Datagram[] = [];
    c.network.tap = (d) => {
      if (d.from === 'node-5' && d.message.type === 'heartbeat') captured.push(d);
    };
    c.scheduler.advance(1_000);
    c.network.tap = undefined;
    c.kill('node-5');
    // Replay its recent heartbeats, over and over, to whoever they were for.
    let i = 0;
    const replay = () => {
      const d = captured[i++ % captured.length] as Datagram;
      c.network.inject(d.to.node, d.bytes as Buffer);
      c.scheduler.setTimer(10, replay);
    };
    replay();
    expect(c.scheduler.runUntilDone(() => c.allSay('node-5', 'dead'), 1_000)).toBe(true);
    expect(dropped(c, 'replayed')).toBeGreaterThan(10);
  });

  it('replayed death notices do not kill the restarted node; forged ones kill no one', () => {
    const rings = new Map<string, KeyRing>();
    const c = authenticated(8, rings);
    const deaths: Datagram[] = [];
    c.network.tap = (d) => {
      if (d.message.records.some((r) => r.kind === 'dead' && r.node === 'node-2')) deaths.push(d);
    };
    c.kill('node-2');
    c.scheduler.advance(2_000);
    c.network.tap = undefined;
    expect(deaths.length).toBeGreaterThan(0);
    c.restart('node-2');
    c.scheduler.advance(1_000);
    expect(c.allSay('node-2', 'alive')).toBe(true);
    // (To node-2 itself they are news: a restarted process has no replay window yet; its incarnation makes them stale.)
    const toOthers = deaths.filter((d) => d.to.node !== 'node-2');
    for (const d of toOthers) c.network.inject(d.to.node, d.bytes as Buffer);
    // Forged: a death notice about node-4 signed with a key nobody holds, under a known key id.
    const forged = encodeMessage(
      {
        type: 'notice',
        sender: 'node-1',
        incarnation: c.detector('node-1').incarnation,
        subscribed: false,
        apiCutOff: false,
        records: [{ kind: 'dead', node: 'node-4', incarnation: c.detector('node-4').incarnation }],
      },
      1_000_000,
      { id: keyId(OLD), secret: Buffer.alloc(32, 0xee) },
    );
    for (const node of names(8)) c.network.inject(node, forged);
    c.scheduler.advance(1_000);
    expect(c.allSay('node-2', 'alive')).toBe(true);
    expect(
      names(8)
        .filter((n) => n !== 'node-4')
        .map((n) => c.detector(n).verdict('node-4')),
    ).toEqual(names(7).map(() => 'alive'));
    expect(dropped(c, 'replayed')).toBeGreaterThanOrEqual(toOthers.length);
    expect(dropped(c, 'bad-mac')).toBe(8);
  });
});
