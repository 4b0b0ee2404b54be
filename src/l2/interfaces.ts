// Which interfaces an IP is announced on, and noticing interfaces that come and
// go. The choice (chooseInterfaces) and the diff are pure; listInterfaces reads
// the host (packet addon ioctls + os.networkInterfaces + /sys for bridge
// membership).
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { formatMac } from './ethernet.js';
import {
  IFF_BROADCAST,
  IFF_LOOPBACK,
  IFF_NOARP,
  IFF_RUNNING,
  IFF_UP,
  loadPacketAddon,
  type NativeInterface,
} from '../native/addon.js';

export interface InterfaceAddress {
  address: string;
  family: 'IPv4' | 'IPv6';
  prefixLength: number;
}

export interface NetInterface {
  name: string;
  ifindex: number;
  /** Lower-case colon form, e.g. 02:00:5e:10:00:01. */
  mac: string;
  up: boolean;
  broadcast: boolean;
  loopback: boolean;
  /** IFF_NOARP: the link does no neighbour resolution (tunnels, point-to-point). */
  noarp: boolean;
  mtu: number;
  /** The bridge or bond this interface is enslaved to; frames for the host arrive on the master instead. */
  master?: string;
  addresses: InterfaceAddress[];
}

/** Interfaces created by container runtimes, CNIs and kube-proxy: never announce on them by default. */
const VIRTUAL_PREFIXES = ['veth', 'cali', 'flannel', 'cni', 'docker', 'kube-ipvs'];

export function isVirtualInterface(name: string): boolean {
  return name === 'lo' || VIRTUAL_PREFIXES.some((prefix) => name.startsWith(prefix));
}

function parseIp(ip: string, what: string): ipaddr.IPv4 | ipaddr.IPv6 {
  if (isIP(ip) === 0) throw new Error(`${what}: "${ip}" is not an IPv4 or IPv6 address`);
  const parsed = ipaddr.parse(ip);
  // An IPv4-mapped IPv6 address is announced as the IPv4 address it stands for.
  return parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()
    ? (parsed as ipaddr.IPv6).toIPv4Address()
    : parsed;
}

function subnetHolds(iface: NetInterface, ip: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return iface.addresses.some((a) => {
    if (isIP(a.address) === 0) return false;
    const own = ipaddr.parse(a.address);
    // A host route (/32, /128) is an address of the interface, not a subnet
    // the VIP lives in (kube-ipvs0 holds every VIP as a /32).
    const hostPrefix = own.kind() === 'ipv4' ? 32 : 128;
    return own.kind() === ip.kind() && a.prefixLength < hostPrefix && ip.match(own, a.prefixLength);
  });
}

/** Whether frames for an IP can be announced on this interface at all. */
function canAnnounce(iface: NetInterface): boolean {
  return iface.up && iface.broadcast && !iface.loopback && !iface.noarp && iface.master === undefined;
}

/**
 * The interfaces to announce `ip` on (design.md section 5), sorted by name.
 * - `override` (the L2Advertisement's interfaces): those of them that exist
 *   here and can announce; an empty result means this node is not a candidate.
 * - else the non-virtual interfaces whose subnet holds the IP;
 * - else every up, broadcast-capable, non-virtual interface that is not a
 *   bridge/bond member.
 */
export function chooseInterfaces(
  ip: string,
  interfaces: readonly NetInterface[],
  override?: readonly string[],
): NetInterface[] {
  const target = parseIp(ip, 'chooseInterfaces');
  const byName = (a: NetInterface, b: NetInterface) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  if (override !== undefined && override.length > 0) {
    for (const name of override) {
      if (typeof name !== 'string' || name.length === 0 || name.length > 15 || /[\s/:]/.test(name)) {
        throw new Error(`chooseInterfaces: "${String(name)}" is not a valid interface name`);
      }
    }
    const wanted = new Set(override);
    return interfaces.filter((i) => wanted.has(i.name) && canAnnounce(i)).sort(byName);
  }
  const eligible = interfaces.filter((i) => canAnnounce(i) && !isVirtualInterface(i.name));
  const holding = eligible.filter((i) => subnetHolds(i, target));
  return (holding.length > 0 ? holding : eligible).sort(byName);
}

export interface InterfaceChanges {
  added: NetInterface[];
  removed: NetInterface[];
  /** Same name, but ifindex, MAC, flags, master or addresses differ. */
  changed: NetInterface[];
}

function fingerprint(i: NetInterface): string {
  const addrs = i.addresses
    .map((a) => `${a.address}/${a.prefixLength}`)
    .sort()
    .join(',');
  return [i.ifindex, i.mac, i.up, i.broadcast, i.loopback, i.noarp, i.mtu, i.master ?? '', addrs].join('|');
}

export function diffInterfaces(before: readonly NetInterface[], after: readonly NetInterface[]): InterfaceChanges {
  const old = new Map(before.map((i) => [i.name, i]));
  const now = new Map(after.map((i) => [i.name, i]));
  const changes: InterfaceChanges = { added: [], removed: [], changed: [] };
  for (const [name, iface] of now) {
    const prev = old.get(name);
    if (!prev) changes.added.push(iface);
    else if (fingerprint(prev) !== fingerprint(iface)) changes.changed.push(iface);
  }
  for (const [name, iface] of old) if (!now.has(name)) changes.removed.push(iface);
  return changes;
}

export function hasChanges(c: InterfaceChanges): boolean {
  return c.added.length + c.removed.length + c.changed.length > 0;
}

/** The bridge/bond master from /sys, trusted only if /sys shows our namespace (same ifindex). */
function readMaster(name: string, ifindex: number): string | undefined {
  const dir = path.join('/sys/class/net', name);
  try {
    if (Number(readFileSync(path.join(dir, 'ifindex'), 'utf8').trim()) !== ifindex) return undefined;
    if (!existsSync(path.join(dir, 'master'))) return undefined;
    return path.basename(readlinkSync(path.join(dir, 'master')));
  } catch {
    return undefined; // the interface vanished between the listing and this read
  }
}

function toNetInterface(n: NativeInterface, addresses: os.NetworkInterfaceInfo[] | undefined): NetInterface {
  return {
    name: n.name,
    ifindex: n.ifindex,
    mac: formatMac(n.mac),
    up: (n.flags & IFF_UP) !== 0,
    broadcast: (n.flags & IFF_BROADCAST) !== 0,
    loopback: (n.flags & IFF_LOOPBACK) !== 0,
    noarp: (n.flags & IFF_NOARP) !== 0,
    mtu: n.mtu,
    master: readMaster(n.name, n.ifindex),
    addresses: (addresses ?? []).map((a) => ({
      address: a.address,
      family: a.family,
      prefixLength: Number((a.cidr ?? `/${a.family === 'IPv4' ? 32 : 128}`).split('/')[1]),
    })),
  };
}

/** Every interface of this network namespace, with its addresses. */
export function listInterfaces(): NetInterface[] {
  const addresses = os.networkInterfaces();
  return loadPacketAddon()
    .listInterfaces()
    .map((n) => toNetInterface(n, addresses[n.name]));
}

/**
 * Per interface, whether it can carry frames now: administratively up with
 * carrier (IFF_UP and IFF_RUNNING). One ioctl per interface, cheap enough to
 * poll every 100 ms; the addresses are not read.
 */
export function readLinkStates(): Map<string, boolean> {
  return new Map(
    loadPacketAddon()
      .listInterfaces()
      .map((n) => [n.name, (n.flags & IFF_UP) !== 0 && (n.flags & IFF_RUNNING) !== 0]),
  );
}

export interface InterfaceWatcher {
  /** The latest listing. */
  current(): NetInterface[];
  /** Lists now instead of at the next poll (a link just changed). */
  refresh(): void;
  stop(): void;
}

/**
 * Polls the interface list (default every 2 s: one ioctl per interface and a
 * getifaddrs) and reports every difference. Listing errors go to onError; the
 * watcher keeps polling.
 */
export function watchInterfaces(
  onChange: (changes: InterfaceChanges, current: NetInterface[]) => void,
  options: { intervalMs?: number; list?: () => NetInterface[]; onError?: (err: Error) => void } = {},
): InterfaceWatcher {
  const intervalMs = options.intervalMs ?? 2000;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0)
    throw new Error(`watchInterfaces: intervalMs must be a positive number, got ${intervalMs}`);
  const list = options.list ?? listInterfaces;
  let latest = list();
  const poll = () => {
    let next: NetInterface[];
    try {
      next = list();
    } catch (err) {
      options.onError?.(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const changes = diffInterfaces(latest, next);
    latest = next;
    if (hasChanges(changes)) onChange(changes, next);
  };
  const timer = setInterval(poll, intervalMs);
  timer.unref(); // the watcher alone should not keep a process alive
  return {
    current: () => latest,
    refresh: poll,
    stop: () => clearInterval(timer),
  };
}
