// The production PacketSocket: the AF_PACKET addon bound to one interface.
//
// A link going down and up keeps the socket (the kernel re-hooks it; the
// addon reports ENETDOWN and keeps polling). An interface that is deleted and
// created again gets a new ifindex, which leaves a bound packet socket deaf:
// that case is detected here and the socket is reopened on the new ifindex,
// with every multicast group joined again.
import type { PacketSocket, RxFrame } from './packet-socket.js';
import { isNativeError, loadPacketAddon, type NativeInterface, type NativePacketSocket } from '../native/addon.js';

export interface PacketSocketStats {
  rxFrames: number;
  txFrames: number;
  txErrors: number;
  /** Socket errors reported (ENETDOWN on link down, ...). */
  errors: number;
  /** Times the socket was reopened after its interface was recreated. */
  reopens: number;
}

export interface OpenPacketSocketOptions {
  /** Let the process exit while only this socket is open (default false: a speaker stays up). */
  unref?: boolean;
  /** How often to look for the interface again after it disappeared (default 1000 ms). */
  reopenIntervalMs?: number;
}

export interface AfPacketSocket extends PacketSocket {
  readonly stats: Readonly<PacketSocketStats>;
  /** Kernel receive counters since the previous call: frames queued and frames dropped (buffer full). */
  kernelStatistics(): { packets: number; drops: number };
}

const ARPHRD_ETHER = 1;

function findInterface(ifname: string): NativeInterface | undefined {
  return loadPacketAddon()
    .listInterfaces()
    .find((i) => i.name === ifname);
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** The 33:33:xx:xx:xx:xx MAC an IPv6 multicast group maps to (RFC 2464). */
export function multicastMac(group: Buffer): Buffer {
  return Buffer.from([0x33, 0x33, group[12]!, group[13]!, group[14]!, group[15]!]);
}

function checkGroup(group: Buffer): void {
  if (!Buffer.isBuffer(group) || group.length !== 16) throw new Error('an IPv6 multicast group is a 16-byte Buffer');
  if (group[0] !== 0xff)
    throw new Error(`${group.toString('hex')} is not an IPv6 multicast address (must start with ff)`);
}

/** Opens a packet socket on `ifname` (needs CAP_NET_RAW). Throws when the interface is missing or not Ethernet. */
export function openPacketSocket(ifname: string, options: OpenPacketSocketOptions = {}): AfPacketSocket {
  if (typeof ifname !== 'string' || ifname.length === 0 || ifname.length > 15) {
    throw new Error(`openPacketSocket: "${String(ifname)}" is not a valid interface name`);
  }
  const info = findInterface(ifname);
  if (!info) throw new Error(`openPacketSocket: no interface named ${ifname} in this network namespace`);
  if (info.hwType !== ARPHRD_ETHER) {
    throw new Error(`openPacketSocket: ${ifname} is not an Ethernet interface (hardware type ${info.hwType})`);
  }
  return new ReopeningPacketSocket(info, options);
}

class ReopeningPacketSocket implements AfPacketSocket {
  readonly ifname: string;
  private current: NativeInterface;
  private socket: NativePacketSocket | undefined;
  private readonly frameListeners: Array<(frame: RxFrame) => void> = [];
  private readonly errorListeners: Array<(err: Error) => void> = [];
  /** Joined groups (hex) with how many callers joined each. */
  private readonly groups = new Map<string, number>();
  private reopenTimer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly stats: PacketSocketStats = { rxFrames: 0, txFrames: 0, txErrors: 0, errors: 0, reopens: 0 };

  constructor(
    info: NativeInterface,
    private readonly options: OpenPacketSocketOptions,
  ) {
    this.ifname = info.name;
    this.current = info;
    this.socket = this.openSocket(info.ifindex);
  }

  get ifindex(): number {
    return this.current.ifindex;
  }

  get mac(): Buffer {
    return Buffer.from(this.current.mac);
  }

  private openSocket(ifindex: number): NativePacketSocket {
    const addon = loadPacketAddon();
    const socket = new addon.PacketSocket(
      ifindex,
      (frames, outgoing) => this.deliver(frames, outgoing),
      (err) => this.socketError(err),
    );
    if (this.options.unref) socket.unref();
    return socket;
  }

  private deliver(frames: Buffer[], outgoing: boolean[]): void {
    for (let i = 0; i < frames.length; i++) {
      this.stats.rxFrames++;
      const frame: RxFrame = { data: frames[i]!, outgoing: outgoing[i] === true };
      for (const listener of this.frameListeners) listener(frame);
    }
  }

  private report(err: Error): void {
    this.stats.errors++;
    for (const listener of this.errorListeners) listener(err);
  }

  private socketError(err: Error): void {
    this.report(new Error(`${this.ifname}: ${err.message}`, { cause: err }));
    this.checkInterface();
  }

  /** After an error: if the interface is gone or was recreated, reopen once it is back. */
  private checkInterface(): void {
    if (this.closed || this.reopenTimer) return;
    const now = findInterface(this.ifname);
    if (now && now.ifindex === this.current.ifindex) return; // plain link down: the kernel re-hooks on up
    this.socket?.close();
    this.socket = undefined;
    this.reopenTimer = setInterval(() => this.tryReopen(), this.options.reopenIntervalMs ?? 1000);
    if (this.options.unref) this.reopenTimer.unref();
    this.tryReopen();
  }

  private tryReopen(): void {
    const now = findInterface(this.ifname);
    if (!now || this.closed) return;
    try {
      this.socket = this.openSocket(now.ifindex);
      this.current = now;
      clearInterval(this.reopenTimer);
      this.reopenTimer = undefined;
      this.stats.reopens++;
      for (const hex of this.groups.keys()) this.joinOnSocket(Buffer.from(hex, 'hex'));
    } catch (err) {
      this.report(
        new Error(`${this.ifname}: reopening the packet socket failed: ${toError(err).message}`, { cause: err }),
      );
    }
  }

  send(frame: Buffer): void {
    if (this.closed) throw new Error(`packet socket ${this.ifname} is closed`);
    if (!this.socket) {
      this.stats.txErrors++;
      this.report(new Error(`${this.ifname}: interface is gone, frame not sent`));
      return;
    }
    try {
      this.socket.send(frame);
      this.stats.txFrames++;
    } catch (err) {
      this.stats.txErrors++;
      // Caller bugs (not a Buffer, runt frame) throw; wire trouble is reported.
      if (!isNativeError(err)) throw err;
      this.report(new Error(`${this.ifname}: send failed: ${err.message}`, { cause: err }));
      if (err.code === 'ENXIO' || err.code === 'ENODEV') this.checkInterface();
    }
  }

  onFrame(listener: (frame: RxFrame) => void): void {
    this.frameListeners.push(listener);
  }

  onError(listener: (err: Error) => void): void {
    this.errorListeners.push(listener);
  }

  private joinOnSocket(group: Buffer): void {
    if (!this.socket) return; // joined again when the socket is reopened
    this.socket.addMembership(multicastMac(group));
    try {
      // MLD reports for snooping switches; fails where IPv6 is disabled on the link.
      this.socket.joinGroup6(group);
    } catch (err) {
      this.report(
        new Error(
          `${this.ifname}: IPv6 join of ${group.toString('hex')} ` +
            `failed (frames still received): ${toError(err).message}`,
        ),
      );
    }
  }

  joinMulticast(group: Buffer): void {
    if (this.closed) throw new Error(`packet socket ${this.ifname} is closed`);
    checkGroup(group);
    const key = group.toString('hex');
    const count = this.groups.get(key) ?? 0;
    if (count === 0) this.joinOnSocket(group);
    this.groups.set(key, count + 1);
  }

  leaveMulticast(group: Buffer): void {
    if (this.closed) throw new Error(`packet socket ${this.ifname} is closed`);
    checkGroup(group);
    const key = group.toString('hex');
    const count = this.groups.get(key) ?? 0;
    if (count === 0) throw new Error(`${this.ifname}: leaveMulticast of ${key}, which was not joined`);
    if (count > 1) {
      this.groups.set(key, count - 1);
      return;
    }
    this.groups.delete(key);
    if (!this.socket) return;
    this.socket.dropMembership(multicastMac(group));
    try {
      this.socket.leaveGroup6(group);
    } catch {
      // The IPv6 join may have failed too (reported then); nothing left to undo.
    }
  }

  kernelStatistics(): { packets: number; drops: number } {
    return this.socket ? this.socket.statistics() : { packets: 0, drops: 0 };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.reopenTimer);
    this.reopenTimer = undefined;
    this.socket?.close();
    this.socket = undefined;
  }
}
