import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  chooseInterfaces,
  diffInterfaces,
  isVirtualInterface,
  watchInterfaces,
  type NetInterface,
} from '../../../src/l2/interfaces.js';

function iface(name: string, overrides: Partial<NetInterface> = {}): NetInterface {
  return {
    name,
    ifindex: 1 + (name.length % 7),
    mac: '02:00:00:00:00:01',
    up: true,
    broadcast: true,
    loopback: false,
    noarp: false,
    mtu: 1500,
    addresses: [],
    ...overrides,
  };
}

const v4 = (address: string, prefixLength: number) => ({ address, family: 'IPv4' as const, prefixLength });
const v6 = (address: string, prefixLength: number) => ({ address, family: 'IPv6' as const, prefixLength });
const names = (list: NetInterface[]) => list.map((i) => i.name);

describe('isVirtualInterface', () => {
  it('recognises the CNI, container and kube-proxy interfaces and lo', () => {
    for (const n of ['lo', 'veth1a2b', 'cali123', 'flannel.1', 'cni0', 'docker0', 'kube-ipvs0'])
      expect(isVirtualInterface(n)).toBe(true);
  });
  it('leaves physical-looking names alone', () => {
    for (const n of ['eth0', 'ens3', 'enp0s31f6', 'br0', 'bond0', 'lo1', 'wlan0'])
      expect(isVirtualInterface(n)).toBe(false);
  });
});

describe('chooseInterfaces', () => {
  const host = [
    iface('lo', { loopback: true, broadcast: false, addresses: [v4('127.0.0.1', 8), v6('::1', 128)] }),
    iface('eth0', { addresses: [v4('192.0.2.11', 24), v6('2001:db8::11', 64), v6('fe80::1', 64)] }),
    iface('eth1', { addresses: [v4('198.51.100.11', 24)] }),
    iface('eth2'),
    iface('kube-ipvs0', { addresses: [v4('192.0.2.200', 32)] }),
    iface('cni0', { addresses: [v4('203.0.113.1', 24)] }),
  ];

  it('picks the interface whose IPv4 subnet holds the IP', () => {
    expect(names(chooseInterfaces('192.0.2.200', host))).toEqual(['eth0']);
    expect(names(chooseInterfaces('198.51.100.7', host))).toEqual(['eth1']);
  });

  it('picks the interface whose IPv6 subnet holds the IP, in any notation', () => {
    expect(names(chooseInterfaces('2001:db8::200', host))).toEqual(['eth0']);
    expect(names(chooseInterfaces('2001:0db8:0:0::0200', host))).toEqual(['eth0']);
  });

  it('treats an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(names(chooseInterfaces('::ffff:192.0.2.200', host))).toEqual(['eth0']);
  });

  it('ignores a host route holding the VIP itself (kube-ipvs0 /32) and virtual subnets', () => {
    // 203.0.113.0/24 is only on cni0, which is virtual: fall back to every eligible interface.
    expect(names(chooseInterfaces('203.0.113.9', host))).toEqual(['eth0', 'eth1', 'eth2']);
  });

  it('falls back to every up, broadcast, non-virtual, non-member interface', () => {
    const more = [
      ...host,
      iface('eth3', { up: false }),
      iface('eth4', { master: 'br0' }),
      iface('br0'),
      iface('tun0', { broadcast: false, noarp: true }),
      iface('veth9', {}),
    ];
    expect(names(chooseInterfaces('203.0.113.50', more))).toEqual(['br0', 'eth0', 'eth1', 'eth2']);
  });

  it('does not pick a down interface even when its subnet holds the IP', () => {
    const down = host.map((i) => (i.name === 'eth0' ? { ...i, up: false } : i));
    expect(names(chooseInterfaces('192.0.2.200', down))).toEqual(['eth1', 'eth2']);
  });

  it('with an override, returns only the named interfaces that exist and can announce', () => {
    expect(names(chooseInterfaces('192.0.2.200', host, ['eth2', 'eth1']))).toEqual(['eth1', 'eth2']);
    expect(names(chooseInterfaces('192.0.2.200', host, ['eth9']))).toEqual([]);
    expect(names(chooseInterfaces('192.0.2.200', host, ['lo']))).toEqual([]);
  });

  it('an empty override means no override', () => {
    expect(names(chooseInterfaces('192.0.2.200', host, []))).toEqual(['eth0']);
  });

  it('returns nothing when no interface can announce', () => {
    expect(chooseInterfaces('192.0.2.200', [host[0]!, host[4]!])).toEqual([]);
  });

  it('rejects an IP that is not an address, with the value in the message', () => {
    expect(() => chooseInterfaces('192.0.2.300', host)).toThrow(/"192.0.2.300" is not an IPv4 or IPv6 address/);
    expect(() => chooseInterfaces('', host)).toThrow(/is not an IPv4 or IPv6 address/);
    expect(() => chooseInterfaces('192.0.2.0/24', host)).toThrow(/is not an IPv4 or IPv6 address/);
  });

  it('rejects malformed interface names in the override', () => {
    expect(() => chooseInterfaces('192.0.2.200', host, [''])).toThrow(/not a valid interface name/);
    expect(() => chooseInterfaces('192.0.2.200', host, ['a-name-longer-than-15'])).toThrow(
      /not a valid interface name/,
    );
    expect(() => chooseInterfaces('192.0.2.200', host, ['eth 0'])).toThrow(/not a valid interface name/);
  });
});

describe('diffInterfaces', () => {
  it('reports added, removed and changed interfaces', () => {
    const before = [iface('eth0'), iface('eth1'), iface('eth2')];
    const after = [iface('eth0'), iface('eth1', { up: false }), iface('eth3')];
    const d = diffInterfaces(before, after);
    expect(names(d.added)).toEqual(['eth3']);
    expect(names(d.removed)).toEqual(['eth2']);
    expect(names(d.changed)).toEqual(['eth1']);
  });

  it('sees a recreated interface (new ifindex) and an address change', () => {
    const before = [iface('eth0', { ifindex: 2 }), iface('eth1', { addresses: [v4('192.0.2.11', 24)] })];
    const after = [iface('eth0', { ifindex: 9 }), iface('eth1', { addresses: [v4('192.0.2.12', 24)] })];
    expect(names(diffInterfaces(before, after).changed)).toEqual(['eth0', 'eth1']);
  });

  it('ignores address order', () => {
    const a = iface('eth0', { addresses: [v4('192.0.2.11', 24), v6('2001:db8::11', 64)] });
    const b = iface('eth0', { addresses: [v6('2001:db8::11', 64), v4('192.0.2.11', 24)] });
    const d = diffInterfaces([a], [b]);
    expect(d.added.length + d.removed.length + d.changed.length).toBe(0);
  });
});

describe('watchInterfaces', () => {
  afterEach(() => vi.useRealTimers());

  it('reports each change once and keeps going after a listing error', () => {
    vi.useFakeTimers();
    const listings: Array<NetInterface[] | Error> = [
      [iface('eth0')],
      [iface('eth0')],
      new Error('boom'),
      [iface('eth0'), iface('eth1')],
      [iface('eth1')],
    ];
    let call = 0;
    const list = () => {
      const next = listings[Math.min(call++, listings.length - 1)]!;
      if (next instanceof Error) throw next;
      return next;
    };
    const changes: string[] = [];
    const errors: string[] = [];
    const watcher = watchInterfaces(
      (c) => changes.push(`+${names(c.added).join(',')} -${names(c.removed).join(',')}`),
      { intervalMs: 2000, list, onError: (e) => errors.push(e.message) },
    );
    vi.advanceTimersByTime(2000 * 6);
    watcher.stop();
    expect(changes).toEqual(['+eth1 -', '+ -eth0']);
    expect(errors).toEqual(['boom']);
    expect(names(watcher.current())).toEqual(['eth1']);
  });

  it('stops polling when stopped', () => {
    vi.useFakeTimers();
    let calls = 0;
    const watcher = watchInterfaces(() => undefined, {
      list: () => {
        calls++;
        return [];
      },
    });
    watcher.stop();
    vi.advanceTimersByTime(10_000);
    expect(calls).toBe(1);
  });

  it('rejects a non-positive interval', () => {
    expect(() => watchInterfaces(() => undefined, { intervalMs: 0, list: () => [] })).toThrow(
      /intervalMs must be a positive number/,
    );
  });
});
