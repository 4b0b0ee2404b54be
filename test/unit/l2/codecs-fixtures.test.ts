// Real frames captured from arping, ndisc6 and the Linux kernel (fixtures/capture.sh):
// our decoders read them, and our encoders produce the same bytes for the same forms.
import { describe, expect, it } from 'vitest';
import {
  arpProbeFrame,
  arpReplyFrame,
  arpRequestFrame,
  decodeArp,
  gratuitousArpReplyFrame,
  gratuitousArpRequestFrame,
  ipv4ToBytes,
  ipv4ToString,
  isArpProbe,
  isGratuitousArp,
  type ArpPacket,
} from '../../../src/l2/arp.js';
import { decodeEthernet, formatMac } from '../../../src/l2/ethernet.js';
import {
  decodeNeighborFrame,
  decodeNdp,
  ipv6ToBytes,
  ipv6ToString,
  neighborSolicitationFrame,
  solicitedAdvertisementFrame,
  unicastSolicitationFrame,
  unsolicitedAdvertisementFrame,
  type NdpMessage,
} from '../../../src/l2/ndp.js';
import { fixture, fixtureNames, mac } from './helpers.js';

const MAC_A = mac('02:00:00:00:0a:01');
const MAC_A2 = mac('02:00:00:00:0a:02');
const MAC_B = mac('02:00:00:00:0b:01');
const IP_A = ipv4ToBytes('192.0.2.1');
const IP_B = ipv4ToBytes('192.0.2.2');
const LINK_LOCAL_A = ipv6ToBytes('fe80::ff:fe00:a01');
const IP6_A = ipv6ToBytes('2001:db8::1');
const IP6_B = ipv6ToBytes('2001:db8::2');

function arpOf(name: string): ArpPacket {
  const eth = decodeEthernet(fixture(name));
  if (!eth.ok) throw new Error(eth.reason);
  const arp = decodeArp(eth.value.payload);
  if (!arp.ok) throw new Error(`${name}: ${arp.reason}`);
  return arp.value;
}

function ndpOf(name: string): NdpMessage {
  const eth = decodeEthernet(fixture(name));
  if (!eth.ok) throw new Error(eth.reason);
  const ndp = decodeNdp(eth.value.payload);
  if (!ndp.ok) throw new Error(`${name}: ${ndp.reason}`);
  return ndp.value;
}

describe('captured frames decode', () => {
  it.each(fixtureNames)('%s is accepted', (name) => {
    const decoded = decodeNeighborFrame(fixture(name));
    expect(decoded.ok ? 'ok' : decoded.reason).toBe('ok');
  });

  it('arping request: who-has 192.0.2.2 tell 192.0.2.1', () => {
    const arp = arpOf('arp-request');
    expect(arp.op).toBe(1);
    expect(formatMac(arp.senderMac)).toBe('02:00:00:00:0a:01');
    expect(ipv4ToString(arp.senderIp)).toBe('192.0.2.1');
    expect(ipv4ToString(arp.targetIp)).toBe('192.0.2.2');
    expect(isArpProbe(arp)).toBe(false);
    expect(isGratuitousArp(arp)).toBe(false);
  });

  it('arping -D is a probe, arping -U and -A are gratuitous', () => {
    expect(isArpProbe(arpOf('arp-probe'))).toBe(true);
    expect(isGratuitousArp(arpOf('arp-gratuitous-request-arping'))).toBe(true);
    expect(arpOf('arp-gratuitous-reply-arping').op).toBe(2);
    expect(isGratuitousArp(arpOf('arp-gratuitous-reply-arping'))).toBe(true);
  });

  it('kernel DAD NS: from ::, to the solicited-node group, no SLLA, nonce option skipped', () => {
    const ns = ndpOf('ns-dad-kernel');
    expect(ns.type).toBe('ns');
    expect(ipv6ToString(ns.src)).toBe('::');
    expect(ipv6ToString(ns.dst)).toBe('ff02::1:ff00:2');
    expect(ipv6ToString(ns.target)).toBe('2001:db8::2');
    expect(ns.type === 'ns' && ns.sourceLinkLayer).toBeFalsy();
  });

  it('ndisc6 NS carries its MAC; kernel NA answers with S=1 O=1 and the target MAC', () => {
    const ns = ndpOf('ns-multicast-ndisc6');
    expect(ns.type === 'ns' && ns.sourceLinkLayer && formatMac(ns.sourceLinkLayer)).toBe('02:00:00:00:0a:01');
    const na = ndpOf('na-solicited-kernel');
    expect(na).toMatchObject({ type: 'na', solicited: true, override: true, router: false, hopLimit: 255 });
    expect(na.type === 'na' && na.targetLinkLayer && formatMac(na.targetLinkLayer)).toBe('02:00:00:00:0b:01');
  });

  it('NA answering a unicast NUD may omit the target link-layer option', () => {
    const na = ndpOf('na-solicited-no-tlla-kernel');
    expect(na.type === 'na' && na.targetLinkLayer).toBeUndefined();
    expect(na.type === 'na' && na.solicited).toBe(true);
  });
});

describe('our encoders match the captured bytes', () => {
  it('ARP reply equals the kernel reply to the same request', () => {
    expect(arpReplyFrame(MAC_B, IP_B, arpOf('arp-request')).toString('hex')).toBe(fixture('arp-reply').toString('hex'));
  });

  it('ARP reply to a probe equals the kernel one (to the prober, TPA 0.0.0.0)', () => {
    expect(arpReplyFrame(MAC_B, IP_B, arpOf('arp-probe')).toString('hex')).toBe(
      fixture('arp-probe-reply').toString('hex'),
    );
  });

  it('gratuitous request form equals the kernel arp_notify frame (THA zero)', () => {
    expect(gratuitousArpRequestFrame(MAC_A2, IP_A).toString('hex')).toBe(
      fixture('arp-gratuitous-request-kernel').toString('hex'),
    );
  });

  it('gratuitous reply form equals arping -A (THA = SHA, broadcast)', () => {
    expect(gratuitousArpReplyFrame(MAC_A, IP_A).toString('hex')).toBe(
      fixture('arp-gratuitous-reply-arping').toString('hex'),
    );
  });

  it('probe and request equal arping except THA, which arping fills with broadcast', () => {
    const ours = arpProbeFrame(MAC_A, IP_B);
    const theirs = fixture('arp-probe');
    expect(ours.subarray(0, 32).toString('hex')).toBe(theirs.subarray(0, 32).toString('hex'));
    expect(ours.subarray(38).toString('hex')).toBe(theirs.subarray(38).toString('hex'));
    expect(ours.subarray(32, 38).toString('hex')).toBe('000000000000');
    const request = arpRequestFrame(MAC_A, IP_A, IP_B);
    expect(request.subarray(0, 32).toString('hex')).toBe(fixture('arp-request').subarray(0, 32).toString('hex'));
    expect(request.subarray(38).toString('hex')).toBe(fixture('arp-request').subarray(38).toString('hex'));
  });

  it('multicast NS equals ndisc6 but for the flow label its socket picked', () => {
    const theirs = Buffer.from(fixture('ns-multicast-ndisc6'));
    expect(theirs.readUInt32BE(14) & 0xfffff).not.toBe(0);
    theirs.writeUInt32BE(theirs.readUInt32BE(14) & 0xfff00000, 14);
    expect(neighborSolicitationFrame(MAC_A, LINK_LOCAL_A, IP6_B).toString('hex')).toBe(theirs.toString('hex'));
  });

  it('unicast NUD NS equals the kernel probe', () => {
    expect(unicastSolicitationFrame(MAC_A, LINK_LOCAL_A, IP6_B, MAC_B).toString('hex')).toBe(
      fixture('ns-unicast-nud-kernel').toString('hex'),
    );
  });

  it('solicited NA equals the kernel answer to ndisc6', () => {
    expect(solicitedAdvertisementFrame(MAC_B, IP6_B, LINK_LOCAL_A, MAC_A).toString('hex')).toBe(
      fixture('na-solicited-kernel').toString('hex'),
    );
  });

  it('unsolicited NA equals the kernel ndisc_notify frame', () => {
    expect(unsolicitedAdvertisementFrame(MAC_A2, IP6_A).toString('hex')).toBe(
      fixture('na-unsolicited-kernel').toString('hex'),
    );
  });
});
