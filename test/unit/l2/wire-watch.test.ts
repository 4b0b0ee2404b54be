import { describe, expect, it } from 'vitest';
import { Announcer } from '../../../src/l2/announcer.js';
import {
  arpProbeFrame,
  arpRequestFrame,
  gratuitousArpReplyFrame,
  gratuitousArpRequestFrame,
  ipv4ToBytes,
} from '../../../src/l2/arp.js';
import {
  dadSolicitationFrame,
  encodeNdpFrame,
  ipv6ToBytes,
  neighborSolicitationFrame,
  ALL_NODES_IPV6,
  ALL_NODES_MAC,
  unsolicitedAdvertisementFrame,
} from '../../../src/l2/ndp.js';
import { WireWatch, type WireClaim } from '../../../src/l2/wire-watch.js';
import { FakeWire, ManualScheduler, mac } from './helpers.js';

const OTHER = mac('02:00:00:00:0d:01');
const HELD = new Set(['192.0.2.10', '2001:db8::a']);

function setup(ownMacs: string[] = []) {
  const wire = new FakeWire();
  const eth0 = wire.socket('eth0', '02:00:00:00:0b:01');
  const claims: WireClaim[] = [];
  const errors: string[] = [];
  const watch = new WireWatch([eth0], {
    holds: (ip) => HELD.has(ip),
    onClaim: (c) => claims.push(c),
    ownMacs,
    onError: (e) => errors.push(e.message),
  });
  return { wire, eth0, claims, errors, watch };
}

describe('WireWatch', () => {
  it.each([
    ['gratuitous request', gratuitousArpRequestFrame(OTHER, ipv4ToBytes('192.0.2.10')), 'arp-announcement'],
    ['gratuitous reply', gratuitousArpReplyFrame(OTHER, ipv4ToBytes('192.0.2.10')), 'arp-reply'],
    [
      'request sent from the IP',
      arpRequestFrame(OTHER, ipv4ToBytes('192.0.2.10'), ipv4ToBytes('192.0.2.1')),
      'arp-request',
    ],
    ['unsolicited NA', unsolicitedAdvertisementFrame(OTHER, ipv6ToBytes('2001:db8::a')), 'na'],
  ])('reports a %s claiming a held IP from another MAC', (_, frame, kind) => {
    const { wire, claims } = setup();
    wire.inject(frame);
    expect(claims).toEqual([
      { ip: kind === 'na' ? '2001:db8::a' : '192.0.2.10', mac: '02:00:00:00:0d:01', ifname: 'eth0', kind },
    ]);
  });

  it('takes the MAC of an NA without a target option from its Ethernet source', () => {
    const { wire, claims } = setup();
    const target = ipv6ToBytes('2001:db8::a');
    wire.inject(
      encodeNdpFrame(
        { srcMac: OTHER, dstMac: ALL_NODES_MAC, src: target, dst: ALL_NODES_IPV6 },
        { type: 'na', target, solicited: false, override: true },
      ),
    );
    expect(claims.map((c) => c.mac)).toEqual(['02:00:00:00:0d:01']);
  });

  it('says nothing about IPs it does not hold', () => {
    const { wire, claims } = setup();
    wire.inject(gratuitousArpRequestFrame(OTHER, ipv4ToBytes('192.0.2.11')));
    wire.inject(unsolicitedAdvertisementFrame(OTHER, ipv6ToBytes('2001:db8::b')));
    expect(claims).toEqual([]);
  });

  it('ignores questions that claim nothing: requests for the IP, probes, NS and DAD', () => {
    const { wire, claims } = setup();
    wire.inject(arpRequestFrame(OTHER, ipv4ToBytes('192.0.2.1'), ipv4ToBytes('192.0.2.10')));
    wire.inject(arpProbeFrame(OTHER, ipv4ToBytes('192.0.2.10')));
    wire.inject(neighborSolicitationFrame(OTHER, ipv6ToBytes('2001:db8::1'), ipv6ToBytes('2001:db8::a')));
    wire.inject(dadSolicitationFrame(OTHER, ipv6ToBytes('2001:db8::a')));
    expect(claims).toEqual([]);
  });

  it("ignores outgoing frames, our sockets' MACs and the extra own MACs", () => {
    const { wire, eth0, claims } = setup(['02:00:00:00:0e:01']);
    eth0.deliver({ data: gratuitousArpRequestFrame(OTHER, ipv4ToBytes('192.0.2.10')), outgoing: true });
    wire.inject(gratuitousArpRequestFrame(mac('02:00:00:00:0b:01'), ipv4ToBytes('192.0.2.10')));
    wire.inject(gratuitousArpRequestFrame(mac('02:00:00:00:0e:01'), ipv4ToBytes('192.0.2.10')));
    // Relayed by another box, but binding the IP to our own MAC: harmless.
    const target = ipv6ToBytes('2001:db8::a');
    wire.inject(
      encodeNdpFrame(
        { srcMac: OTHER, dstMac: ALL_NODES_MAC, src: target, dst: ALL_NODES_IPV6 },
        { type: 'na', target, solicited: false, override: true, targetLinkLayer: mac('02:00:00:00:0b:01') },
      ),
    );
    expect(claims).toEqual([]);
  });

  it('survives hostile frames and a throwing callback', () => {
    const wire = new FakeWire();
    const eth0 = wire.socket('eth0', '02:00:00:00:0b:01');
    const errors: string[] = [];
    let calls = 0;
    new WireWatch([eth0], {
      holds: () => true,
      onClaim: () => {
        calls++;
        throw new Error('speaker busy');
      },
      onError: (e) => errors.push(e.message),
    });
    wire.inject(Buffer.alloc(5));
    wire.inject(Buffer.alloc(2000, 0xff));
    wire.inject(gratuitousArpRequestFrame(OTHER, ipv4ToBytes('192.0.2.10')));
    wire.inject(gratuitousArpRequestFrame(OTHER, ipv4ToBytes('192.0.2.10')));
    expect(calls).toBe(2);
    expect(errors).toEqual(['speaker busy', 'speaker busy']);
  });

  it('watches a socket added later, once however often it is added', () => {
    const { wire, watch, claims } = setup();
    const eth1 = wire.socket('eth1', '02:00:00:00:0b:02');
    watch.watch(eth1);
    watch.watch(eth1);
    wire.inject(gratuitousArpRequestFrame(OTHER, ipv4ToBytes('192.0.2.10')));
    expect(claims.map((c) => c.ifname)).toEqual(['eth0', 'eth1']);
  });

  it("follows a socket's MAC when the interface comes back with a new one", () => {
    const { wire, eth0, claims } = setup();
    eth0.mac = mac('02:00:00:00:0b:99');
    wire.inject(gratuitousArpRequestFrame(mac('02:00:00:00:0b:99'), ipv4ToBytes('192.0.2.10')));
    expect(claims).toEqual([]);
    wire.inject(gratuitousArpRequestFrame(mac('02:00:00:00:0b:01'), ipv4ToBytes('192.0.2.10')));
    expect(claims.map((c) => c.mac)).toEqual(['02:00:00:00:0b:01']);
  });

  it('close() stops reporting', () => {
    const { wire, watch, claims } = setup();
    watch.close();
    wire.inject(gratuitousArpRequestFrame(OTHER, ipv4ToBytes('192.0.2.10')));
    expect(claims).toEqual([]);
  });

  it("sees another speaker's takeover announcement for an IP it still holds", () => {
    const wire = new FakeWire();
    const nodeA = wire.socket('eth0', '02:00:00:00:0a:01');
    const nodeB = wire.socket('eth0', '02:00:00:00:0b:01');
    const claims: WireClaim[] = [];
    new WireWatch([nodeB], { holds: (ip) => HELD.has(ip), onClaim: (c) => claims.push(c) });
    const announcer = new Announcer(new ManualScheduler());
    announcer.announce('192.0.2.10', [nodeA], { stillOwned: () => true, rounds: 1 });
    announcer.announce('2001:db8::a', [nodeA], { stillOwned: () => true, rounds: 1 });
    expect(claims.map((c) => `${c.kind} ${c.ip} ${c.mac}`)).toEqual([
      'arp-announcement 192.0.2.10 02:00:00:00:0a:01',
      'arp-reply 192.0.2.10 02:00:00:00:0a:01',
      'na 2001:db8::a 02:00:00:00:0a:01',
    ]);
  });
});
