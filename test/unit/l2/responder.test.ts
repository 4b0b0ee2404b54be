import { describe, expect, it } from 'vitest';
import {
  arpProbeFrame,
  arpRequestFrame,
  encodeArpFrame,
  gratuitousArpReplyFrame,
  gratuitousArpRequestFrame,
  ipv4ToBytes,
  ipv4ToString,
} from '../../../src/l2/arp.js';
import { BROADCAST_MAC, ZERO_MAC } from '../../../src/l2/ethernet.js';
import {
  dadSolicitationFrame,
  decodeNeighborFrame,
  encodeNdpFrame,
  ipv6ToBytes,
  ipv6ToString,
  multicastMacForIpv6,
  neighborSolicitationFrame,
  solicitedNodeAddress,
  unicastSolicitationFrame,
  unsolicitedAdvertisementFrame,
} from '../../../src/l2/ndp.js';
import { Responder, type ResponderEvent } from '../../../src/l2/responder.js';
import { FakeWire, fixture, mac } from './helpers.js';

const SPEAKER_MAC = '02:00:00:00:0b:01';
const CLIENT_MAC = mac('02:00:00:00:0c:01');
const CLIENT_IP = ipv4ToBytes('192.0.2.100');
const CLIENT_IP6 = ipv6ToBytes('2001:db8::100');
const OWNED = new Set(['192.0.2.2', '192.0.2.10', '2001:db8::2', '2001:db8::a']);

function setup(owned: Set<string> = OWNED, speakerMac = SPEAKER_MAC) {
  const wire = new FakeWire();
  const socket = wire.socket('eth0', speakerMac);
  const events: ResponderEvent[] = [];
  const errors: string[] = [];
  const asked: string[] = [];
  const responder = new Responder(socket, {
    owns: (ip, ifname) => {
      asked.push(`${ip}@${ifname}`);
      return ifname === 'eth0' && owned.has(ip);
    },
    onEvent: (e) => events.push(e),
    onError: (e) => errors.push(e.message),
  });
  const replies = () => wire.sentBy('eth0');
  return { wire, socket, responder, events, errors, asked, replies };
}

function decodeReply(frame: Buffer | undefined) {
  if (!frame) throw new Error('no reply sent');
  const d = decodeNeighborFrame(frame);
  if (!d.ok) throw new Error(d.reason);
  return d.value;
}

describe('Responder: ARP', () => {
  it('answers a broadcast request for an owned IP with a unicast reply', () => {
    const { wire, replies, responder, events } = setup();
    wire.inject(arpRequestFrame(CLIENT_MAC, CLIENT_IP, ipv4ToBytes('192.0.2.10')));
    expect(replies()).toHaveLength(1);
    const reply = decodeReply(replies()[0]);
    expect(reply.protocol).toBe('arp');
    if (reply.protocol !== 'arp') return;
    expect(reply.ethernet.dst).toEqual(CLIENT_MAC);
    expect(reply.ethernet.src).toEqual(mac(SPEAKER_MAC));
    expect(reply.arp.op).toBe(2);
    expect(reply.arp.senderMac).toEqual(mac(SPEAKER_MAC));
    expect(ipv4ToString(reply.arp.senderIp)).toBe('192.0.2.10');
    expect(reply.arp.targetMac).toEqual(CLIENT_MAC);
    expect(ipv4ToString(reply.arp.targetIp)).toBe('192.0.2.100');
    expect(responder.counters).toMatchObject({ arpRequests: 1, arpReplies: 1 });
    expect(events).toEqual([
      { ifname: 'eth0', protocol: 'arp', kind: 'request', ip: '192.0.2.10' },
      { ifname: 'eth0', protocol: 'arp', kind: 'reply', ip: '192.0.2.10' },
    ]);
  });

  it("answers arping's captured request exactly as the kernel did", () => {
    const { wire, replies } = setup();
    wire.inject(fixture('arp-request'));
    expect(replies().map((f) => f.toString('hex'))).toEqual([fixture('arp-reply').toString('hex')]);
  });

  it('answers an RFC 5227 probe for an owned IP (to the prober, TPA 0.0.0.0), as the kernel does', () => {
    const { wire, replies } = setup();
    wire.inject(fixture('arp-probe'));
    expect(replies().map((f) => f.toString('hex'))).toEqual([fixture('arp-probe-reply').toString('hex')]);
    wire.inject(arpProbeFrame(CLIENT_MAC, ipv4ToBytes('192.0.2.10')));
    expect(replies()).toHaveLength(2);
  });

  it('answers a request unicast to our MAC, not one unicast to another MAC', () => {
    const { wire, replies } = setup();
    const request = {
      op: 1 as const,
      senderMac: CLIENT_MAC,
      senderIp: CLIENT_IP,
      targetMac: ZERO_MAC,
      targetIp: ipv4ToBytes('192.0.2.10'),
    };
    wire.inject(encodeArpFrame(mac(SPEAKER_MAC), CLIENT_MAC, request));
    expect(replies()).toHaveLength(1);
    wire.inject(encodeArpFrame(mac('02:00:00:00:0d:01'), CLIENT_MAC, request));
    expect(replies()).toHaveLength(1);
  });

  it("answers the kernel's captured unicast NUD request exactly as the kernel did", () => {
    const { wire, replies } = setup();
    wire.inject(fixture('arp-unicast-request-kernel'));
    expect(replies().map((f) => f.toString('hex'))).toEqual([fixture('arp-reply').toString('hex')]);
  });

  it('stays silent for an IP it does not own, and counts nothing', () => {
    const { wire, replies, responder, asked } = setup();
    wire.inject(arpRequestFrame(CLIENT_MAC, CLIENT_IP, ipv4ToBytes('192.0.2.11')));
    expect(replies()).toHaveLength(0);
    expect(asked).toEqual(['192.0.2.11@eth0']);
    expect(responder.counters).toMatchObject({ arpRequests: 0, arpReplies: 0 });
  });

  it('asks about the interface it listens on: an IP owned only elsewhere gets no answer', () => {
    const wire = new FakeWire();
    const eth1 = wire.socket('eth1', SPEAKER_MAC);
    new Responder(eth1, { owns: (ip, ifname) => ifname === 'eth0' && OWNED.has(ip) });
    wire.inject(arpRequestFrame(CLIENT_MAC, CLIENT_IP, ipv4ToBytes('192.0.2.10')));
    expect(wire.sentBy('eth1')).toHaveLength(0);
  });

  it('ignores our own outgoing frames and frames from our MAC', () => {
    const { wire, socket, replies, asked } = setup();
    socket.deliver({ data: arpRequestFrame(CLIENT_MAC, CLIENT_IP, ipv4ToBytes('192.0.2.10')), outgoing: true });
    wire.inject(arpRequestFrame(mac(SPEAKER_MAC), CLIENT_IP, ipv4ToBytes('192.0.2.10')));
    const spoofedSender = {
      op: 1 as const,
      senderMac: mac(SPEAKER_MAC),
      senderIp: CLIENT_IP,
      targetMac: ZERO_MAC,
      targetIp: ipv4ToBytes('192.0.2.10'),
    };
    wire.inject(encodeArpFrame(BROADCAST_MAC, CLIENT_MAC, spoofedSender));
    expect(replies()).toHaveLength(0);
    expect(asked).toEqual([]);
  });

  it('does not answer replies, gratuitous announcements, or a multicast sender', () => {
    const { wire, replies } = setup();
    wire.inject(gratuitousArpReplyFrame(CLIENT_MAC, ipv4ToBytes('192.0.2.10')));
    wire.inject(gratuitousArpRequestFrame(CLIENT_MAC, ipv4ToBytes('192.0.2.10')));
    wire.inject(arpRequestFrame(mac('01:00:5e:00:00:01'), CLIENT_IP, ipv4ToBytes('192.0.2.10')));
    expect(replies()).toHaveLength(0);
  });

  it('counts hostile frames as invalid and never throws on them', () => {
    const { wire, replies, responder } = setup();
    const truncated = arpRequestFrame(CLIENT_MAC, CLIENT_IP, ipv4ToBytes('192.0.2.10')).subarray(0, 40);
    const wrongHtype = Buffer.from(arpRequestFrame(CLIENT_MAC, CLIENT_IP, ipv4ToBytes('192.0.2.10')));
    wrongHtype.writeUInt16BE(6, 14);
    for (const f of [Buffer.alloc(0), Buffer.alloc(3000), truncated, wrongHtype]) wire.inject(f);
    expect(replies()).toHaveLength(0);
    expect(responder.counters.invalid).toBe(4);
  });

  it('reports a failed send and does not count it as a reply', () => {
    const { wire, socket, replies, responder, errors } = setup();
    socket.close();
    wire.inject(arpRequestFrame(CLIENT_MAC, CLIENT_IP, ipv4ToBytes('192.0.2.10')));
    expect(replies()).toHaveLength(0);
    expect(errors).toEqual(['socket eth0 is closed']);
    expect(responder.counters).toMatchObject({ arpRequests: 1, arpReplies: 0 });
  });
});

describe('Responder: Neighbor Solicitation', () => {
  it("answers ndisc6's captured NS exactly as the kernel did", () => {
    const { wire, replies } = setup();
    wire.inject(fixture('ns-multicast-ndisc6'));
    expect(replies().map((f) => f.toString('hex'))).toEqual([fixture('na-solicited-kernel').toString('hex')]);
  });

  it('answers a multicast NS with a solicited NA (S=1, O=1, TLLA) to the soliciter', () => {
    const { wire, replies, responder, events } = setup();
    wire.inject(neighborSolicitationFrame(CLIENT_MAC, CLIENT_IP6, ipv6ToBytes('2001:db8::a')));
    const reply = decodeReply(replies()[0]);
    if (reply.protocol !== 'ndp' || reply.ndp.type !== 'na') throw new Error('not an NA');
    expect(reply.ethernet.dst).toEqual(CLIENT_MAC);
    expect(ipv6ToString(reply.ndp.dst)).toBe('2001:db8::100');
    expect(ipv6ToString(reply.ndp.target)).toBe('2001:db8::a');
    expect(reply.ndp).toMatchObject({ solicited: true, override: true, router: false, hopLimit: 255 });
    expect(reply.ndp.targetLinkLayer).toEqual(mac(SPEAKER_MAC));
    expect(responder.counters).toMatchObject({ ndpRequests: 1, ndpReplies: 1 });
    expect(events.map((e) => `${e.protocol}:${e.kind}:${e.ip}`)).toEqual([
      'ndp:request:2001:db8::a',
      'ndp:reply:2001:db8::a',
    ]);
  });

  it('answers a unicast NUD probe to our MAC, replying to the frame source when there is no SLLA', () => {
    const { wire, replies } = setup();
    wire.inject(fixture('ns-unicast-nud-kernel'));
    expect(replies()).toHaveLength(1);
    const noSlla = encodeNdpFrame(
      { srcMac: CLIENT_MAC, dstMac: mac(SPEAKER_MAC), src: CLIENT_IP6, dst: ipv6ToBytes('2001:db8::a') },
      { type: 'ns', target: ipv6ToBytes('2001:db8::a') },
    );
    wire.inject(noSlla);
    const reply = decodeReply(replies()[1]);
    expect(reply.ethernet.dst).toEqual(CLIENT_MAC);
    expect(reply.protocol === 'ndp' && reply.ndp.type === 'na' && reply.ndp.solicited).toBe(true);
  });

  it('ignores a unicast NUD probe sent to another MAC', () => {
    const { wire, replies } = setup();
    wire.inject(unicastSolicitationFrame(CLIENT_MAC, CLIENT_IP6, ipv6ToBytes('2001:db8::a'), mac('02:00:00:00:0d:01')));
    expect(replies()).toHaveLength(0);
  });

  it('ignores an NS to the wrong group or with a mismatched multicast MAC', () => {
    const { wire, replies } = setup();
    const target = ipv6ToBytes('2001:db8::a');
    const otherGroup = solicitedNodeAddress(ipv6ToBytes('2001:db8::b'));
    wire.inject(
      encodeNdpFrame(
        { srcMac: CLIENT_MAC, dstMac: multicastMacForIpv6(otherGroup), src: CLIENT_IP6, dst: otherGroup },
        { type: 'ns', target, sourceLinkLayer: CLIENT_MAC },
      ),
    );
    const group = solicitedNodeAddress(target);
    wire.inject(
      encodeNdpFrame(
        { srcMac: CLIENT_MAC, dstMac: BROADCAST_MAC, src: CLIENT_IP6, dst: group },
        { type: 'ns', target, sourceLinkLayer: CLIENT_MAC },
      ),
    );
    expect(replies()).toHaveLength(0);
  });

  it('answers DAD for an owned IP with an NA to all nodes, S=0 (RFC 4861 7.2.4)', () => {
    // The captured DAD came from 02:00:00:00:0b:01, so this speaker has another MAC.
    const { wire, replies } = setup(OWNED, '02:00:00:00:0a:01');
    wire.inject(fixture('ns-dad-kernel'));
    expect(replies().map((f) => f.toString('hex'))).toEqual([
      unsolicitedAdvertisementFrame(mac('02:00:00:00:0a:01'), ipv6ToBytes('2001:db8::2')).toString('hex'),
    ]);
    wire.inject(dadSolicitationFrame(CLIENT_MAC, ipv6ToBytes('2001:db8::a')));
    const reply = decodeReply(replies()[1]);
    expect(reply.ethernet.dst.toString('hex')).toBe('333300000001');
    expect(reply.protocol === 'ndp' && reply.ndp.type === 'na' && reply.ndp.solicited).toBe(false);
  });

  it('stays silent for a non-owned target, for NAs, for our own frames and forwarded ones', () => {
    const { wire, socket, replies, responder } = setup();
    wire.inject(neighborSolicitationFrame(CLIENT_MAC, CLIENT_IP6, ipv6ToBytes('2001:db8::b')));
    wire.inject(unsolicitedAdvertisementFrame(CLIENT_MAC, ipv6ToBytes('2001:db8::a')));
    socket.deliver({
      data: neighborSolicitationFrame(CLIENT_MAC, CLIENT_IP6, ipv6ToBytes('2001:db8::a')),
      outgoing: true,
    });
    wire.inject(neighborSolicitationFrame(mac(SPEAKER_MAC), CLIENT_IP6, ipv6ToBytes('2001:db8::a')));
    const forwarded = Buffer.from(neighborSolicitationFrame(CLIENT_MAC, CLIENT_IP6, ipv6ToBytes('2001:db8::a')));
    forwarded[21] = 254;
    wire.inject(forwarded);
    expect(replies()).toHaveLength(0);
    expect(responder.counters).toMatchObject({ ndpRequests: 0, invalid: 1 });
  });
});

describe('Responder: solicited-node groups', () => {
  const group = (ip: string) => solicitedNodeAddress(ipv6ToBytes(ip)).toString('hex');

  it('joins a group per owned IPv6 address, none for IPv4', () => {
    const { socket, responder } = setup();
    responder.addIp('192.0.2.10');
    responder.addIp('2001:db8::a');
    expect([...socket.joined.keys()]).toEqual([group('2001:db8::a')]);
  });

  it('reference-counts IPs that share a group', () => {
    const { socket, responder } = setup();
    // Same low 24 bits, so the same solicited-node group.
    responder.addIp('2001:db8::12:3456');
    responder.addIp('2001:db8:1::12:3456');
    responder.addIp('2001:db8:1::12:3456');
    expect(socket.joined.get(group('2001:db8::12:3456'))).toBe(1);
    responder.removeIp('2001:db8::12:3456');
    expect(socket.joined.get(group('2001:db8::12:3456'))).toBe(1);
    responder.removeIp('2001:db8::12:3456');
    expect(socket.joined.get(group('2001:db8::12:3456'))).toBe(1);
    responder.removeIp('2001:DB8:1:0::12:3456');
    expect(socket.joined.size).toBe(0);
  });

  it('setIps joins and leaves by difference', () => {
    const { socket, responder } = setup();
    responder.setIps(['2001:db8::a', '2001:db8::b', '192.0.2.10']);
    expect(new Set(socket.joined.keys())).toEqual(new Set([group('2001:db8::a'), group('2001:db8::b')]));
    responder.setIps(['2001:db8::b', '2001:db8::c']);
    expect(new Set(socket.joined.keys())).toEqual(new Set([group('2001:db8::b'), group('2001:db8::c')]));
    responder.setIps([]);
    expect(socket.joined.size).toBe(0);
  });

  it('reports a failed join and retries it on the next add', () => {
    const { socket, responder, errors } = setup();
    socket.failJoins = true;
    responder.addIp('2001:db8::a');
    expect(errors).toEqual(['join refused']);
    expect(responder.groups).toEqual([]);
    socket.failJoins = false;
    responder.addIp('2001:db8::a');
    expect(responder.groups).toEqual([group('2001:db8::a')]);
  });

  it('close() leaves every group and stops answering', () => {
    const { wire, socket, responder, replies } = setup();
    responder.setIps(['2001:db8::a', '2001:db8::b']);
    responder.close();
    expect(socket.joined.size).toBe(0);
    wire.inject(neighborSolicitationFrame(CLIENT_MAC, CLIENT_IP6, ipv6ToBytes('2001:db8::a')));
    wire.inject(arpRequestFrame(CLIENT_MAC, CLIENT_IP, ipv4ToBytes('192.0.2.10')));
    expect(replies()).toHaveLength(0);
  });

  it('refuses an address that is not an IP', () => {
    const { responder } = setup();
    expect(() => responder.addIp('2001:db8::zz')).toThrow(/not an IPv6 address/);
    expect(() => responder.setIps(['nope'])).toThrow(/not an IP address/);
  });
});
