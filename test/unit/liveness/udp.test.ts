// The liveness transport on real UDP sockets, loopback only (127.0.0.1, ::1).
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { realScheduler } from '../../../src/clock/scheduler.js';
import { AuthenticatedChannel } from '../../../src/liveness/channel.js';
import { FailureDetector, type LivenessEvent } from '../../../src/liveness/detector.js';
import { KeyRing } from '../../../src/liveness/keyring.js';
import type { Message, Peer } from '../../../src/liveness/types.js';
import { DEFAULT_LIVENESS_PORT, PortInUseError, UdpTransport } from '../../../src/liveness/udp.js';

const KEYS = new KeyRing([Buffer.alloc(32, 3)]);
const MEMBERS = new Set(['node-a', 'node-b', 'node-c', 'node-d']);
const open: UdpTransport[] = [];
afterEach(() => {
  for (const t of open.splice(0)) t.close();
});

async function transport(): Promise<{ t: UdpTransport; channel: AuthenticatedChannel; port: number }> {
  const channel = new AuthenticatedChannel({ keys: KEYS, isMember: (n) => MEMBERS.has(n) });
  const t = await UdpTransport.open({ port: 0, channel, ipv4: '127.0.0.1', ipv6: '::1' });
  open.push(t);
  const { ipv4, ipv6 } = t.address();
  expect(ipv4).toBe(ipv6);
  return { t, channel, port: ipv4 as number };
}

const next = (t: UdpTransport) => new Promise<Message>((resolve) => t.onMessage(resolve));
const hello = (sender: string): Message => ({
  type: 'notice',
  sender,
  incarnation: 1,
  subscribed: false,
  apiCutOff: false,
  records: [{ kind: 'alive', node: sender, incarnation: 1 }],
});

describe('UdpTransport', () => {
  it('carries authenticated messages over IPv4 and IPv6 loopback', async () => {
    const a = await transport();
    const b = await transport();
    const v4 = next(b.t);
    a.t.send({ node: 'node-b', address: '127.0.0.1', port: b.port }, hello('node-a'));
    expect(await v4).toEqual(hello('node-a'));
    const v6 = next(b.t);
    a.t.send({ node: 'node-b', address: '::1', port: b.port }, { ...hello('node-a'), incarnation: 2 });
    expect((await v6).incarnation).toBe(2);
    expect(a.t.counters.sent).toBe(2);
  });

  it('drops junk, forgeries and replays, counts them, and goes on receiving', async () => {
    const b = await transport();
    const raw = createSocket('udp4');
    const sealed = new AuthenticatedChannel({ keys: KEYS, isMember: () => true }).seal(hello('node-c'));
    const forged = new AuthenticatedChannel({ keys: new KeyRing([Buffer.alloc(32, 9)]), isMember: () => true }).seal(
      hello('node-c'),
    );
    const stranger = new AuthenticatedChannel({ keys: KEYS, isMember: () => true }).seal(hello('node-x'));
    const arrived = next(b.t);
    for (const bytes of [Buffer.from('junk'), Buffer.alloc(2000), forged, stranger, sealed, sealed]) {
      await new Promise<void>((resolve, reject) =>
        raw.send(bytes, b.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
      );
    }
    expect(await arrived).toEqual(hello('node-c'));
    // Datagrams on one socket arrive in order: by the time a last valid one is in, all were judged.
    const last = next(b.t);
    raw.send(new AuthenticatedChannel({ keys: KEYS, isMember: () => true }).seal(hello('node-d')), b.port, '127.0.0.1');
    await last;
    raw.close();
    expect(b.channel.dropped).toMatchObject({
      'bad-magic': 1,
      oversized: 1,
      'unknown-key': 1,
      'unknown-sender': 1,
      replayed: 1,
    });
  });

  it('names the port and the likely holder when the port is taken', async () => {
    const a = await transport();
    const channel = new AuthenticatedChannel({ keys: KEYS, isMember: () => true });
    const clash = UdpTransport.open({ port: a.port, channel, ipv4: '127.0.0.1', ipv6: null });
    await expect(clash).rejects.toBeInstanceOf(PortInUseError);
    await expect(clash).rejects.toThrow(
      new RegExp(
        `liveness port ${a.port}/udp is already in use.*MetalLB speaker \\(memberlist, 7946\\) or another ` +
          `ironlb.*--liveness-port`,
      ),
    );
    expect(new PortInUseError(7946, '0.0.0.0').message).toMatch(/7946 is MetalLB's memberlist port.*default 7947/);
    expect(DEFAULT_LIVENESS_PORT).toBe(7947);
  });

  it('refuses a bad port or no address family', async () => {
    const channel = new AuthenticatedChannel({ keys: KEYS, isMember: () => true });
    await expect(UdpTransport.open({ port: 70000, channel })).rejects.toThrow(/0-65535/);
    await expect(UdpTransport.open({ port: 0, channel, ipv4: null, ipv6: null })).rejects.toThrow(/IPv4 or an IPv6/);
  });

  it('counts a peer of an address family it has no socket for, instead of throwing', async () => {
    const channel = new AuthenticatedChannel({ keys: KEYS, isMember: () => true });
    const t = await UdpTransport.open({ port: 0, channel, ipv4: '127.0.0.1', ipv6: null });
    open.push(t);
    t.send({ node: 'node-b', address: '::1', port: 9 }, hello('node-a'));
    t.send({ node: 'node-b', address: 'not-an-ip', port: 9 }, hello('node-a'));
    expect(t.counters.unreachable).toBe(2);
  });

  it('a send after close is dropped quietly, never thrown', async () => {
    const a = await transport();
    a.t.close();
    expect(() => a.t.send({ node: 'node-b', address: '127.0.0.1', port: 9 }, hello('node-a'))).not.toThrow();
    expect(a.t.counters.sent).toBe(0);
  });

  it.each(['127.0.0.1', '::1'])(
    'four detectors on real sockets (%s): a killed node is declared dead by the other three',
    async (address) => {
      const nodes = ['node-a', 'node-b', 'node-c', 'node-d'];
      const transports = await Promise.all(nodes.map(() => transport()));
      const peers: Peer[] = nodes.map((node, i) => ({ node, address, port: (transports[i] as { port: number }).port }));
      const events: Array<[string, LivenessEvent]> = [];
      let resolveDead: () => void = () => undefined;
      const allDead = new Promise<void>((resolve) => (resolveDead = resolve));
      const detectors = nodes.map((self, i) => {
        const fd = new FailureDetector({
          self,
          scheduler: realScheduler(),
          transport: (transports[i] as { t: UdpTransport }).t,
          intervalMs: 50,
          onChange: (e) => {
            events.push([self, e]);
            const dead = events
              .filter(([, ev]) => ev.type === 'verdict' && ev.node === 'node-d' && ev.verdict === 'dead')
              .map(([o]) => o);
            if (new Set(dead).size === 3) resolveDead();
          },
        });
        fd.setMembers(peers);
        return fd;
      });
      for (const fd of detectors) fd.start();
      // Up and heard: every node has had heartbeats from its monitors' side.
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (detectors.every((fd) => fd.counters.received.heartbeat >= 10)) {
            clearInterval(check);
            resolve();
          }
        }, 10);
      });
      detectors[3]?.stop();
      transports[3]?.t.close();
      await allDead;
      for (const fd of detectors.slice(0, 3)) {
        expect(fd.verdict('node-d')).toBe('dead');
        expect(fd.reason('node-d')).toBe('confirmed');
        for (const other of nodes.slice(0, 3)) expect(fd.verdict(other)).toBe('alive');
        fd.stop();
      }
    },
  );
});
