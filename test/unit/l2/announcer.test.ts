import { describe, expect, it } from 'vitest';
import { Announcer, type AnnouncementEnd, type AnnouncementSent } from '../../../src/l2/announcer.js';
import { ipv4ToString } from '../../../src/l2/arp.js';
import { decodeNeighborFrame, ipv6ToString } from '../../../src/l2/ndp.js';
import { FakeWire, ManualScheduler } from './helpers.js';

function setup() {
  const wire = new FakeWire();
  const eth0 = wire.socket('eth0', '02:00:00:00:00:01');
  const eth1 = wire.socket('eth1', '02:00:00:00:00:02');
  const clock = new ManualScheduler();
  const announcer = new Announcer(clock);
  const sent: AnnouncementSent[] = [];
  const ends: AnnouncementEnd[] = [];
  return { wire, eth0, eth1, clock, announcer, sent, ends };
}

function describeFrame(frame: Buffer): string {
  const d = decodeNeighborFrame(frame);
  if (!d.ok) return `invalid: ${d.reason}`;
  const dst = d.value.ethernet.dst.toString('hex');
  if (d.value.protocol === 'arp') {
    const a = d.value.arp;
    const sender = `sha=${a.senderMac.toString('hex')} spa=${ipv4ToString(a.senderIp)}`;
    return `arp op=${a.op} dst=${dst} ${sender} tha=${a.targetMac.toString('hex')} tpa=${ipv4ToString(a.targetIp)}`;
  }
  const n = d.value.ndp;
  if (n.type !== 'na') return `ns`;
  const flags = `S=${n.solicited} O=${n.override}`;
  const tlla = n.targetLinkLayer?.toString('hex');
  return `na dst=${dst} ip=${ipv6ToString(n.dst)} target=${ipv6ToString(n.target)} ${flags} tlla=${tlla}`;
}

describe('Announcer', () => {
  it('IPv4: each round sends the request form then the reply form, broadcast', () => {
    const { wire, eth0, announcer } = setup();
    announcer.announce('192.0.2.10', [eth0], { stillOwned: () => true, rounds: 1 });
    expect(wire.sentBy('eth0').map(describeFrame)).toEqual([
      'arp op=1 dst=ffffffffffff sha=020000000001 spa=192.0.2.10 tha=000000000000 tpa=192.0.2.10',
      'arp op=2 dst=ffffffffffff sha=020000000001 spa=192.0.2.10 tha=020000000001 tpa=192.0.2.10',
    ]);
  });

  it('IPv6: each round sends one unsolicited NA to ff02::1 with O=1, S=0 and our MAC', () => {
    const { wire, eth0, announcer } = setup();
    announcer.announce('2001:db8::a', [eth0], { stillOwned: () => true, rounds: 1 });
    expect(wire.sentBy('eth0').map(describeFrame)).toEqual([
      'na dst=333300000001 ip=ff02::1 target=2001:db8::a S=false O=true tlla=020000000001',
    ]);
  });

  it('sends 3 rounds 1.1 s apart by default, on every socket, then ends', () => {
    const { wire, eth0, eth1, clock, announcer, sent, ends } = setup();
    announcer.announce('192.0.2.10', [eth0, eth1], {
      stillOwned: () => true,
      onSent: (s) => sent.push(s),
      onEnd: (e) => ends.push(e),
    });
    expect(wire.sentBy('eth0')).toHaveLength(2);
    expect(wire.sentBy('eth1')).toHaveLength(2);
    clock.advance(1099);
    expect(wire.sentBy('eth0')).toHaveLength(2);
    clock.advance(1);
    expect(wire.sentBy('eth0')).toHaveLength(4);
    clock.advance(1100);
    expect(wire.sentBy('eth0')).toHaveLength(6);
    expect(ends).toEqual(['completed']);
    clock.advance(60_000);
    expect(wire.sentBy('eth0')).toHaveLength(6);
    expect(sent.map((s) => `${s.ifname}:${s.round}:${s.protocol}:${s.frames}`)).toEqual([
      'eth0:1:arp:2',
      'eth1:1:arp:2',
      'eth0:2:arp:2',
      'eth1:2:arp:2',
      'eth0:3:arp:2',
      'eth1:3:arp:2',
    ]);
    expect(announcer.isAnnouncing('192.0.2.10')).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('stops when ownership is lost between rounds, and asks before every round', () => {
    const { wire, eth0, clock, announcer, ends } = setup();
    let owned = true;
    let asked = 0;
    announcer.announce('192.0.2.10', [eth0], {
      stillOwned: () => {
        asked++;
        return owned;
      },
      onEnd: (e) => ends.push(e),
    });
    expect(asked).toBe(1);
    owned = false;
    clock.advance(1100);
    expect(asked).toBe(2);
    expect(wire.sentBy('eth0')).toHaveLength(2);
    expect(ends).toEqual(['not-owned']);
    clock.advance(10_000);
    expect(wire.sentBy('eth0')).toHaveLength(2);
  });

  it('sends nothing at all when the IP is not owned at the start', () => {
    const { wire, eth0, announcer, ends } = setup();
    announcer.announce('192.0.2.10', [eth0], { stillOwned: () => false, onEnd: (e) => ends.push(e) });
    expect(wire.log).toHaveLength(0);
    expect(ends).toEqual(['not-owned']);
  });

  it('treats a throwing ownership check as not owned and reports it', () => {
    const { wire, eth0, announcer } = setup();
    const errors: string[] = [];
    announcer.announce('192.0.2.10', [eth0], {
      stillOwned: () => {
        throw new Error('view unavailable');
      },
      onError: (e) => errors.push(e.message),
    });
    expect(wire.log).toHaveLength(0);
    expect(errors).toEqual(['view unavailable']);
  });

  it('refreshes periodically after the takeover rounds while still owned', () => {
    const { wire, eth0, clock, announcer } = setup();
    let owned = true;
    announcer.announce('2001:db8::a', [eth0], {
      stillOwned: () => owned,
      rounds: 2,
      intervalMs: 1000,
      refreshMs: 30_000,
    });
    clock.advance(1000);
    expect(wire.sentBy('eth0')).toHaveLength(2);
    clock.advance(29_999);
    expect(wire.sentBy('eth0')).toHaveLength(2);
    clock.advance(1);
    expect(wire.sentBy('eth0')).toHaveLength(3);
    clock.advance(30_000);
    expect(wire.sentBy('eth0')).toHaveLength(4);
    owned = false;
    clock.advance(30_000);
    expect(wire.sentBy('eth0')).toHaveLength(4);
    expect(announcer.isAnnouncing('2001:db8::a')).toBe(false);
  });

  it('stop() cancels the remaining rounds; stop of an unknown IP says false', () => {
    const { wire, eth0, clock, announcer, ends } = setup();
    announcer.announce('2001:db8::a', [eth0], { stillOwned: () => true, onEnd: (e) => ends.push(e) });
    expect(announcer.stop('2001:DB8:0::A')).toBe(true);
    clock.advance(10_000);
    expect(wire.sentBy('eth0')).toHaveLength(1);
    expect(ends).toEqual(['stopped']);
    expect(announcer.stop('2001:db8::a')).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('stopAll() cancels every announcement', () => {
    const { wire, eth0, clock, announcer } = setup();
    announcer.announce('192.0.2.10', [eth0], { stillOwned: () => true });
    announcer.announce('192.0.2.11', [eth0], { stillOwned: () => true });
    announcer.stopAll();
    clock.advance(10_000);
    expect(wire.sentBy('eth0')).toHaveLength(4);
    expect(clock.pending).toBe(0);
  });

  it('announcing an IP again restarts its rounds instead of running twice', () => {
    const { wire, eth0, clock, announcer, ends } = setup();
    announcer.announce('192.0.2.10', [eth0], { stillOwned: () => true, onEnd: (e) => ends.push(e) });
    clock.advance(500);
    announcer.announce('192.0.2.10', [eth0], { stillOwned: () => true, onEnd: (e) => ends.push(e) });
    clock.advance(10_000);
    // 1 round of the first, 3 of the second.
    expect(wire.sentBy('eth0')).toHaveLength(8);
    expect(ends).toEqual(['stopped', 'completed']);
  });

  it('a stop() from inside onSent schedules nothing more', () => {
    const { wire, eth0, clock, announcer } = setup();
    announcer.announce('192.0.2.10', [eth0], { stillOwned: () => true, onSent: () => announcer.stop('192.0.2.10') });
    clock.advance(10_000);
    expect(wire.sentBy('eth0')).toHaveLength(2);
    expect(clock.pending).toBe(0);
  });

  it('a failing socket is reported and the other sockets still get their frames', () => {
    const { wire, eth0, eth1, announcer, sent } = setup();
    eth0.close();
    const errors: string[] = [];
    announcer.announce('192.0.2.10', [eth0, eth1], {
      stillOwned: () => true,
      rounds: 1,
      onSent: (s) => sent.push(s),
      onError: (e, ifname) => errors.push(`${ifname}: ${e.message}`),
    });
    expect(errors).toEqual(['eth0: socket eth0 is closed', 'eth0: socket eth0 is closed']);
    expect(wire.sentBy('eth1')).toHaveLength(2);
    expect(sent.map((s) => s.ifname)).toEqual(['eth1']);
  });

  it.each([
    [{ rounds: 0 }, /rounds must be an integer >= 1/],
    [{ rounds: 1.5 }, /rounds must be an integer >= 1/],
    [{ intervalMs: -1 }, /intervalMs must be a finite number >= 0/],
    [{ intervalMs: Number.NaN }, /intervalMs must be a finite number >= 0/],
    [{ refreshMs: Number.POSITIVE_INFINITY }, /refreshMs must be a finite number >= 0/],
  ])('refuses options %o', (bad, message) => {
    const { eth0, announcer, wire } = setup();
    expect(() => announcer.announce('192.0.2.10', [eth0], { stillOwned: () => true, ...bad })).toThrow(message);
    expect(wire.log).toHaveLength(0);
  });

  it('refuses a bad IP and an empty socket list', () => {
    const { eth0, announcer } = setup();
    expect(() => announcer.announce('192.0.2.300', [eth0], { stillOwned: () => true })).toThrow(/not an IP address/);
    expect(() => announcer.announce('192.0.2.10', [], { stillOwned: () => true })).toThrow(
      /no interface to announce 192.0.2.10 on/,
    );
  });
});
