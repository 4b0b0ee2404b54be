import { describe, expect, it } from 'vitest';
import { arpProbeFrame, gratuitousArpRequestFrame, ipv4ToBytes, ipv4ToString } from '../../../src/l2/arp.js';
import { decodeNeighborFrame, ipv6ToBytes, ipv6ToString, unsolicitedAdvertisementFrame } from '../../../src/l2/ndp.js';
import { ConflictProber, type ProbeResult } from '../../../src/l2/probe.js';
import { Responder } from '../../../src/l2/responder.js';
import { FakeWire, ManualScheduler, mac } from './helpers.js';

const OTHER = mac('02:00:00:00:0d:01');

function setup() {
  const wire = new FakeWire();
  const eth0 = wire.socket('eth0', '02:00:00:00:0b:01');
  const clock = new ManualScheduler();
  const errors: string[] = [];
  const prober = new ConflictProber({
    scheduler: clock,
    onError: (e, ifname) => errors.push(`${ifname}: ${e.message}`),
  });
  return { wire, eth0, clock, prober, errors };
}

/** Tracks a probe's promise so tests can check it settled without awaiting time. */
function track(promise: Promise<ProbeResult>) {
  const state: { result?: ProbeResult; error?: Error } = {};
  promise.then(
    (r) => (state.result = r),
    (e: Error) => (state.error = e),
  );
  return state;
}
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A foreign host on the wire that really uses `ip`: a responder owning it. */
function foreignHost(wire: FakeWire, ip: string) {
  const socket = wire.socket('host', '02:00:00:00:0d:01');
  new Responder(socket, { owns: (asked) => asked === ip });
  return socket;
}

describe('ConflictProber', () => {
  it('IPv4: sends RFC 5227 probes (SPA 0.0.0.0, THA zero, broadcast) at 0 and 150 ms, free after 300 ms', async () => {
    const { wire, clock, prober, eth0 } = setup();
    const state = track(prober.probe('192.0.2.10', [eth0]));
    expect(wire.sentBy('eth0')).toHaveLength(1);
    clock.advance(150);
    expect(wire.sentBy('eth0')).toHaveLength(2);
    clock.advance(149);
    await flush();
    expect(state.result).toBeUndefined();
    clock.advance(1);
    await flush();
    expect(state.result).toEqual({ inUse: false });
    for (const frame of wire.sentBy('eth0')) {
      const d = decodeNeighborFrame(frame);
      if (!d.ok || d.value.protocol !== 'arp') throw new Error('not ARP');
      expect(d.value.ethernet.dst.toString('hex')).toBe('ffffffffffff');
      expect(ipv4ToString(d.value.arp.senderIp)).toBe('0.0.0.0');
      expect(d.value.arp.targetMac.toString('hex')).toBe('000000000000');
      expect(ipv4ToString(d.value.arp.targetIp)).toBe('192.0.2.10');
    }
    expect(clock.pending).toBe(0);
  });

  it('IPv6: sends DAD solicitations from :: without a source link-layer option', async () => {
    const { wire, clock, prober, eth0 } = setup();
    const state = track(prober.probe('2001:db8::a', [eth0], { probes: 1, waitMs: 100 }));
    const d = decodeNeighborFrame(wire.sentBy('eth0')[0]!);
    if (!d.ok || d.value.protocol !== 'ndp' || d.value.ndp.type !== 'ns') throw new Error('not an NS');
    expect(ipv6ToString(d.value.ndp.src)).toBe('::');
    expect(ipv6ToString(d.value.ndp.dst)).toBe('ff02::1:ff00:a');
    expect(d.value.ndp.sourceLinkLayer).toBeUndefined();
    clock.advance(100);
    await flush();
    expect(state.result).toEqual({ inUse: false });
  });

  it('IPv4: a host answering the probe means in use, at once, with its MAC', async () => {
    const { wire, clock, prober, eth0 } = setup();
    foreignHost(wire, '192.0.2.10');
    const state = track(prober.probe('192.0.2.10', [eth0]));
    await flush();
    expect(state.result).toEqual({ inUse: true, mac: '02:00:00:00:0d:01', ifname: 'eth0', kind: 'arp-reply' });
    expect(clock.pending).toBe(0);
    expect(wire.sentBy('eth0')).toHaveLength(1);
  });

  it('IPv6: a host defending the address with an NA means in use', async () => {
    const { wire, prober, eth0 } = setup();
    foreignHost(wire, '2001:db8::a');
    const state = track(prober.probe('2001:db8::a', [eth0]));
    await flush();
    expect(state.result).toEqual({ inUse: true, mac: '02:00:00:00:0d:01', ifname: 'eth0', kind: 'na' });
  });

  it('a host answering for another IP does not count', async () => {
    const { wire, clock, prober, eth0 } = setup();
    foreignHost(wire, '192.0.2.11');
    const state = track(prober.probe('192.0.2.10', [eth0]));
    clock.advance(300);
    await flush();
    expect(state.result).toEqual({ inUse: false });
  });

  it.each([
    [
      'an announcement',
      () => gratuitousArpRequestFrame(OTHER, ipv4ToBytes('192.0.2.10')),
      '192.0.2.10',
      'arp-announcement',
    ],
    ['a simultaneous probe', () => arpProbeFrame(OTHER, ipv4ToBytes('192.0.2.10')), '192.0.2.10', 'arp-probe'],
    ['an unsolicited NA', () => unsolicitedAdvertisementFrame(OTHER, ipv6ToBytes('2001:db8::a')), '2001:db8::a', 'na'],
  ])('%s from another MAC during the wait means in use', async (_, frame, ip, kind) => {
    const { wire, clock, prober, eth0 } = setup();
    const state = track(prober.probe(ip, [eth0]));
    clock.advance(200);
    wire.inject(frame());
    await flush();
    expect(state.result).toMatchObject({ inUse: true, kind });
  });

  it('its own probes, seen on its other interface on the same segment, do not count', async () => {
    const { wire, clock, prober, eth0 } = setup();
    const eth1 = wire.socket('eth1', '02:00:00:00:0b:02');
    const state = track(prober.probe('192.0.2.10', [eth0, eth1]));
    clock.advance(300);
    await flush();
    expect(state.result).toEqual({ inUse: false });
    expect(wire.sentBy('eth0')).toHaveLength(2);
    expect(wire.sentBy('eth1')).toHaveLength(2);
  });

  it('ignores outgoing frames and claims for MACs configured as ours', async () => {
    const wire = new FakeWire();
    const eth0 = wire.socket('eth0', '02:00:00:00:0b:01');
    const clock = new ManualScheduler();
    const prober = new ConflictProber({ scheduler: clock, ownMacs: ['02:00:00:00:0e:01'] });
    const state = track(prober.probe('192.0.2.10', [eth0]));
    eth0.deliver({ data: gratuitousArpRequestFrame(OTHER, ipv4ToBytes('192.0.2.10')), outgoing: true });
    wire.inject(gratuitousArpRequestFrame(mac('02:00:00:00:0e:01'), ipv4ToBytes('192.0.2.10')));
    clock.advance(300);
    await flush();
    expect(state.result).toEqual({ inUse: false });
  });

  it('two probes at once settle independently', async () => {
    const { wire, clock, prober, eth0 } = setup();
    const a = track(prober.probe('192.0.2.10', [eth0]));
    const b = track(prober.probe('192.0.2.11', [eth0]));
    wire.inject(gratuitousArpRequestFrame(OTHER, ipv4ToBytes('192.0.2.11')));
    await flush();
    expect(b.result?.inUse).toBe(true);
    expect(a.result).toBeUndefined();
    clock.advance(300);
    await flush();
    expect(a.result).toEqual({ inUse: false });
  });

  it('a socket that cannot send is reported; the others still probe', async () => {
    const { wire, clock, prober, eth0, errors } = setup();
    const eth1 = wire.socket('eth1', '02:00:00:00:0b:02');
    eth1.close();
    const state = track(prober.probe('192.0.2.10', [eth0, eth1]));
    clock.advance(300);
    await flush();
    expect(state.result).toEqual({ inUse: false });
    expect(errors).toEqual(['eth1: socket eth1 is closed']);
    expect(wire.sentBy('eth0')).toHaveLength(2);
  });

  it('rejects when no probe could be sent at all', async () => {
    const { prober, eth0 } = setup();
    eth0.close();
    await expect(prober.probe('192.0.2.10', [eth0])).rejects.toThrow('no probe for 192.0.2.10 could be sent on eth0');
  });

  it.each([
    [{ probes: 0 }, /probes must be an integer >= 1/],
    [{ intervalMs: -5 }, /intervalMs must be a finite number >= 0/],
    [{ waitMs: Number.NaN }, /waitMs must be a finite number >= 0/],
    [
      { probes: 3, intervalMs: 150, waitMs: 300 },
      /the last of 3 probes 150 ms apart would go out after the 300 ms wait ends/,
    ],
  ])('refuses options %o', (bad, message) => {
    const { prober, eth0, wire } = setup();
    expect(() => prober.probe('192.0.2.10', [eth0], bad)).toThrow(message);
    expect(wire.log).toHaveLength(0);
  });

  it('refuses a bad IP and an empty socket list', () => {
    const { prober, eth0 } = setup();
    expect(() => prober.probe('192.0.2', [eth0])).toThrow(/not an IP address/);
    expect(() => prober.probe('192.0.2.10', [])).toThrow(/no interface to probe 192.0.2.10 on/);
  });
});
