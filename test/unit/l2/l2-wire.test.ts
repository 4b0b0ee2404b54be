import { describe, expect, it } from 'vitest';
import { arpRequestFrame, decodeArp, gratuitousArpReplyFrame, ipv4ToBytes, ARP_OP_REPLY } from '../../../src/l2/arp.js';
import type { NetInterface } from '../../../src/l2/interfaces.js';
import { silentLogger } from '../../../src/log/logger.js';
import { L2Wire } from '../../../src/l2/l2-wire.js';
import { FakeWire, mac, type FakeSocket } from './helpers.js';

const IP = '192.0.2.10';
const OUR_MAC = '02:00:5e:00:53:01';
const PEER_MAC = '02:00:5e:00:53:02';
const STRANGER_MAC = '02:00:5e:00:53:99';
const CLIENT_MAC = '02:00:5e:00:53:42';
const PROBE = { probe: true };

function iface(name: string, overrides: Partial<NetInterface> = {}): NetInterface {
  return {
    name,
    ifindex: 1,
    mac: OUR_MAC,
    up: true,
    broadcast: true,
    loopback: false,
    noarp: false,
    mtu: 1500,
    addresses: [{ address: '192.0.2.1', family: 'IPv4', prefixLength: 24 }],
    ...overrides,
  };
}

function setup(
  options: {
    isSpeakerMac?: (mac: string) => boolean;
    interfaces?: NetInterface[];
    override?: string[];
    linkStates?: () => ReadonlyMap<string, boolean>;
    refreshInterfaces?: () => void;
  } = {},
) {
  const segment = new FakeWire();
  const sockets = new Map<string, FakeSocket>();
  const wire = new L2Wire({
    interfaces: () => options.interfaces ?? [iface('eth0')],
    override: options.override,
    interfacesForIp: () => 'auto',
    openSocket: (ifname) => {
      const socket = segment.socket(ifname, OUR_MAC);
      sockets.set(ifname, socket);
      return socket;
    },
    isSpeakerMac: options.isSpeakerMac ?? ((m) => m === PEER_MAC),
    garpRounds: 1,
    garpRefreshMs: 0,
    logger: silentLogger(),
    linkStates: options.linkStates,
    refreshInterfaces: options.refreshInterfaces,
    // Polled by hand in the tests.
    linkPollMs: 3_600_000,
  });
  const client = segment.socket('client0', CLIENT_MAC);
  return { segment, wire, client, sockets };
}

/** ARP replies the segment carried from our interface for `ip`. */
function repliesFor(segment: FakeWire, ip: string): number {
  return segment.sentBy('eth0').filter((frame) => {
    const arp = decodeArp(frame.subarray(14));
    return (
      arp.ok &&
      arp.value.op === ARP_OP_REPLY &&
      arp.value.senderIp.equals(ipv4ToBytes(ip)) &&
      !arp.value.targetIp.equals(ipv4ToBytes(ip))
    );
  }).length;
}

describe("L2Wire (the election's Wire over the layer-2 module)", () => {
  it('probes, announces, answers ARP for an owned IP, and falls silent on withdraw', async () => {
    const { segment, wire, client } = setup();
    expect(await wire.announce(IP, PROBE)).toEqual({});
    expect(segment.sentBy('eth0').length).toBeGreaterThanOrEqual(2);
    client.send(arpRequestFrame(mac(CLIENT_MAC), ipv4ToBytes('192.0.2.50'), ipv4ToBytes(IP)));
    expect(repliesFor(segment, IP)).toBe(1);
    wire.withdraw(IP);
    client.send(arpRequestFrame(mac(CLIENT_MAC), ipv4ToBytes('192.0.2.50'), ipv4ToBytes(IP)));
    expect(repliesFor(segment, IP)).toBe(1);
  });

  it('a probe answered by a host that is no speaker reports its MAC and announces nothing', async () => {
    const { segment, wire, client } = setup();
    const result = wire.announce(IP, PROBE);
    await new Promise((resolve) => setImmediate(resolve));
    client.send(gratuitousArpReplyFrame(mac(STRANGER_MAC), ipv4ToBytes(IP)));
    expect(await result).toEqual({ conflictMac: STRANGER_MAC });
    client.send(arpRequestFrame(mac(CLIENT_MAC), ipv4ToBytes('192.0.2.50'), ipv4ToBytes(IP)));
    expect(repliesFor(segment, IP)).toBe(0);
  });

  it('a probe answered by another speaker (a stale owner) does not stop the announcement', async () => {
    const { segment, wire, client } = setup();
    const result = wire.announce(IP, PROBE);
    await new Promise((resolve) => setImmediate(resolve));
    client.send(gratuitousArpReplyFrame(mac(PEER_MAC), ipv4ToBytes(IP)));
    expect(await result).toEqual({});
    client.send(arpRequestFrame(mac(CLIENT_MAC), ipv4ToBytes('192.0.2.50'), ipv4ToBytes(IP)));
    expect(repliesFor(segment, IP)).toBe(1);
  });

  it('a takeover from another speaker announces at once, without a probe', async () => {
    const { segment, wire, client } = setup();
    const result = wire.announce(IP, { probe: false });
    // Without a probe the gratuitous round is on the wire before announce resolves.
    const sent = segment.sentBy('eth0').map((frame) => decodeArp(frame.subarray(14)));
    expect(sent.some((arp) => arp.ok && arp.value.senderIp.equals(ipv4ToBytes('0.0.0.0')))).toBe(false);
    expect(
      sent.some(
        (arp) => arp.ok && arp.value.senderIp.equals(ipv4ToBytes(IP)) && arp.value.targetIp.equals(ipv4ToBytes(IP)),
      ),
    ).toBe(true);
    expect(await result).toEqual({});
    client.send(arpRequestFrame(mac(CLIENT_MAC), ipv4ToBytes('192.0.2.50'), ipv4ToBytes(IP)));
    expect(repliesFor(segment, IP)).toBe(1);
  });

  it('check: no answer gives no MAC; a host answering the probe gives its MAC, and nothing is announced', async () => {
    const { segment, wire, client } = setup();
    expect(await wire.check(IP)).toEqual({});
    const answered = wire.check(IP);
    await new Promise((resolve) => setImmediate(resolve));
    client.send(gratuitousArpReplyFrame(mac(PEER_MAC), ipv4ToBytes(IP)));
    expect(await answered).toEqual({ mac: PEER_MAC });
    client.send(arpRequestFrame(mac(CLIENT_MAC), ipv4ToBytes('192.0.2.50'), ipv4ToBytes(IP)));
    expect(repliesFor(segment, IP)).toBe(0);
    // The probes came from 0.0.0.0: they teach no neighbour cache our MAC for the IP.
    const probes = segment.sentBy('eth0').map((frame) => decodeArp(frame.subarray(14)));
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.every((arp) => arp.ok && arp.value.senderIp.equals(ipv4ToBytes('0.0.0.0')))).toBe(true);
  });

  it('check rejects when there is no interface to ask on', async () => {
    const { wire } = setup({ interfaces: [] });
    await expect(wire.check(IP)).rejects.toThrow(/no interface/);
  });

  it('reports a link going down and back up on an interface it answers on, with the IPs it answers there', async () => {
    const states = new Map([['eth0', true]]);
    const changes: string[] = [];
    const { wire } = setup({ linkStates: () => states, refreshInterfaces: () => changes.push('refresh') });
    wire.onLink((ifname, up) => changes.push(`${ifname} ${up ? 'up' : 'down'}`));
    await wire.announce(IP, { probe: false });
    wire.pollLinks();
    expect(changes).toEqual([]);
    states.set('eth0', false);
    wire.pollLinks();
    wire.pollLinks();
    // The interface listing is refreshed before the change is told, so announcing follows it at once.
    expect(changes).toEqual(['refresh', 'eth0 down']);
    expect(wire.ipsOn('eth0')).toEqual([IP]);
    expect(wire.ipsOn('eth1')).toEqual([]);
    // An interface missing from the listing cannot carry frames either.
    states.delete('eth0');
    wire.pollLinks();
    states.set('eth0', true);
    wire.pollLinks();
    expect(changes).toEqual(['refresh', 'eth0 down', 'refresh', 'eth0 up']);
    wire.close();
  });

  it('reports frames claiming an owned IP for another MAC to the fence', async () => {
    const { wire, client } = setup();
    const claims: string[] = [];
    wire.onClaim((ip, claimed) => claims.push(`${ip} ${claimed}`));
    await wire.announce(IP, PROBE);
    client.send(gratuitousArpReplyFrame(mac(PEER_MAC), ipv4ToBytes(IP)));
    client.send(gratuitousArpReplyFrame(mac(PEER_MAC), ipv4ToBytes('192.0.2.77')));
    expect(claims).toEqual([`${IP} ${PEER_MAC}`]);
  });

  it('publishes the interfaces it may announce on (down ones too: a flap keeps candidacy), or --interfaces', () => {
    const interfaces = [
      iface('eth0'),
      iface('eth1', { mac: '02:00:5e:00:53:03' }),
      iface('lo', { loopback: true }),
      iface('veth12', {}),
      iface('eth2', { up: false }),
      iface('eth3', { master: 'br0' }),
    ];
    expect(
      setup({ interfaces })
        .wire.publishedInterfaces()
        .map((i) => i.ifname),
    ).toEqual(['eth0', 'eth1', 'eth2']);
    expect(setup({ interfaces, override: ['eth1'] }).wire.publishedInterfaces()).toEqual([
      { ifname: 'eth1', mac: '02:00:5e:00:53:03' },
    ]);
  });
});
