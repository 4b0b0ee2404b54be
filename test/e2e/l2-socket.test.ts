// The packet socket addon itself, inside a lab node: what it receives (the
// kernel filter), the PACKET_OUTGOING flag, errors for bad input and missing
// privileges, and that a closed or unref'd socket lets the process exit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../lab/lab.js';
import { labScript, startAgent, type Agent } from '../lab/agent.js';
import { decodeFrame } from '../lab/frames.js';

let lab: Lab;
let agent: Agent;

beforeAll(async () => {
  lab = await createLab({ nodes: 1 });
  agent = await startAgent(lab, lab.node(1));
});

afterAll(async () => {
  await lab?.teardown();
});

async function check(mode: string, ifname = 'eth0', wrap: string[] = []): Promise<Record<string, unknown>> {
  const out = await lab.exec(lab.node(1).name, [...wrap, process.execPath, labScript('socket-check.js'), mode, ifname]);
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

type Recorded = { hex: string; outgoing: boolean };

describe('packet socket (AF_PACKET addon)', () => {
  it('receives only ARP and ICMPv6 NS/NA: ping, UDP and ICMPv6 echo are filtered in the kernel', async () => {
    await agent.command({ op: 'record' }, 'recording');
    const node = lab.node(1);
    await lab.ping(node.ipv4, { count: 2 }); // ARP (passes) + ICMP echo (filtered)
    await lab.ping(node.ipv6, { count: 2 }); // NS/NA (pass) + ICMPv6 echo (filtered)
    await lab.exec(lab.client, ['bash', '-c', `echo hi > /dev/udp/${node.ipv4}/9`]);
    const { frames } = (await agent.command({ op: 'recorded' }, 'recorded')) as unknown as { frames: Recorded[] };
    const kinds = frames.map((f) => {
      const data = Buffer.from(f.hex, 'hex');
      return decodeFrame(data)?.kind ?? `other:${data.readUInt16BE(12).toString(16)}`;
    });
    expect(kinds.length).toBeGreaterThan(0);
    expect(kinds.filter((k) => k.startsWith('other'))).toEqual([]);
    expect(kinds).toContain('arp');
    expect(kinds).toContain('ns');
  });

  it('flags frames this host sent itself as outgoing, and received ones as not', async () => {
    // The node's kernel answers arping for its own address: that reply leaves
    // through eth0 and must come up flagged outgoing. (A socket never sees
    // the frames it sent itself: the kernel skips the sender.)
    await agent.command({ op: 'record' }, 'recording');
    const node = lab.node(1);
    const arping = await lab.arping(node.ipv4);
    expect(arping.macs).toEqual([node.mac]);
    const { frames } = (await agent.command({ op: 'recorded' }, 'recorded')) as unknown as { frames: Recorded[] };
    const arps = frames
      .map((f) => ({ f, arp: decodeFrame(Buffer.from(f.hex, 'hex')) }))
      .filter((x) => x.arp?.kind === 'arp');
    const replies = arps.filter((x) => x.arp!.ethSrc === node.mac);
    const requests = arps.filter((x) => x.arp!.ethSrc !== node.mac);
    expect(replies.length).toBeGreaterThan(0);
    expect(requests.length).toBeGreaterThan(0);
    expect(replies.every((x) => x.f.outgoing)).toBe(true);
    expect(requests.every((x) => !x.f.outgoing)).toBe(true);
  });

  it('opens on an existing Ethernet interface and reports its ifindex and MAC', async () => {
    const r = await check('open', 'eth0');
    expect(r.ok).toBe(true);
    expect(r.mac).toBe(lab.node(1).mac.replaceAll(':', ''));
  });

  it('refuses a missing interface and a non-Ethernet one with clear messages', async () => {
    expect(await check('open', 'nosuch0')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/no interface named nosuch0/),
    });
    expect(await check('open', 'lo')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/lo is not an Ethernet interface/),
    });
  });

  it('fails with EPERM, not silently, without CAP_NET_RAW', async () => {
    const r = await check('open', 'eth0', ['setpriv', '--bounding-set=-net_raw', '--inh-caps=-net_raw', '--']);
    expect(r).toMatchObject({ ok: false, code: 'EPERM', message: expect.stringMatching(/socket\(AF_PACKET\)/) });
  });

  it('rejects bad input with a reason each', async () => {
    const r = await check('bad-input');
    expect(r.runt).toMatch(/at least the 14-byte Ethernet header/);
    expect(r.notBuffer).toMatch(/send\(frame: Buffer\)/);
    expect(r.shortGroup).toMatch(/16-byte Buffer/);
    expect(r.unicastGroup).toMatch(/not an IPv6 multicast address/);
    expect(r.leaveUnjoined).toMatch(/which was not joined/);
    expect(r.badName).toMatch(/not a valid interface name/);
  });

  it('throws on use after close', async () => {
    const r = await check('send-closed');
    expect(r.error).toMatch(/packet socket eth0 is closed/);
    expect(r.joinError).toMatch(/packet socket eth0 is closed/);
  });

  it('lists interfaces with MAC, flags, addresses and bridge membership, and chooses by subnet', async () => {
    type Listed = {
      interfaces: Array<{
        name: string;
        mac: string;
        up: boolean;
        broadcast: boolean;
        loopback: boolean;
        master?: string;
        addresses: Array<{ address: string; prefixLength: number }>;
      }>;
      chosen: string[];
    };
    const node = lab.node(1);
    const inNode = (await check('interfaces', '192.0.2.200')) as unknown as Listed;
    const eth0 = inNode.interfaces.find((i) => i.name === 'eth0');
    expect(eth0).toMatchObject({ mac: node.mac, up: true, broadcast: true, loopback: false });
    expect(eth0?.master).toBeUndefined();
    expect(eth0?.addresses).toEqual(
      expect.arrayContaining([
        { address: node.ipv4, family: 'IPv4', prefixLength: 24 },
        { address: node.ipv6, family: 'IPv6', prefixLength: 64 },
      ]),
    );
    expect(inNode.interfaces.find((i) => i.name === 'lo')).toMatchObject({ loopback: true });
    expect(inNode.chosen).toEqual(['eth0']);
    // In the bridge namespace the node's port is a bridge member: never chosen.
    const out = await lab.exec(lab.lan, [process.execPath, labScript('socket-check.js'), 'interfaces', '203.0.113.9']);
    const inLan = JSON.parse(out.stdout.trim()) as Listed;
    expect(inLan.interfaces.find((i) => i.name === 'n1')).toMatchObject({ master: 'br0' });
    expect(inLan.chosen).toEqual(['br0']);
  });

  it('joins a solicited-node group (link level and MLD), counts joins, leaves on the last leave or close', async () => {
    const r = await check('groups');
    const both = (v: boolean) => ({ mac: v, ipv6: v });
    expect(r).toMatchObject({
      before: both(false),
      joinedOnce: both(true),
      joinedTwice: both(true),
      leftOnce: both(true),
      leftTwice: both(false),
      closedWhileJoined: both(false),
    });
  });

  it('lets the process exit once closed, and when unref-ed', async () => {
    // check() awaits the process: these would hang until the test timeout otherwise.
    expect(await check('close-exits')).toMatchObject({ ok: true });
    expect(await check('unref-exits')).toMatchObject({ ok: true });
  });
});
