// Loads the AF_PACKET addon (build/Release/ironlb_packet.node, built by
// `npm ci`) and describes what it exports. Loaded on first use, so importing
// this module never needs the binary.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** An error from the addon: `code` is the errno name (ENETDOWN, ENXIO, EPERM...). */
export interface NativeError extends Error {
  code: string;
  errno: number;
}

export interface NativePacketSocket {
  /** Sends one whole Ethernet frame; returns the bytes sent. Throws NativeError. */
  send(frame: Buffer): number;
  /** PACKET_ADD_MEMBERSHIP / PACKET_DROP_MEMBERSHIP with a multicast MAC. */
  addMembership(mac: Buffer): void;
  dropMembership(mac: Buffer): void;
  /** IPV6_JOIN_GROUP / IPV6_LEAVE_GROUP on the bound interface (sends MLD). */
  joinGroup6(group: Buffer): void;
  leaveGroup6(group: Buffer): void;
  /** Kernel counters since the previous call (reading resets them). */
  statistics(): { packets: number; drops: number };
  /** Whether an open socket keeps the process alive (it does by default). */
  ref(): void;
  unref(): void;
  close(): void;
}

export interface NativeInterface {
  name: string;
  ifindex: number;
  /** IFF_* flags from SIOCGIFFLAGS. */
  flags: number;
  mtu: number;
  /** ARPHRD_* hardware type (1 = Ethernet, 772 = loopback). */
  hwType: number;
  mac: Buffer;
}

export interface PacketAddon {
  PacketSocket: new (
    ifindex: number,
    onFrames: (frames: Buffer[], outgoing: boolean[]) => void,
    onError: (err: NativeError) => void,
  ) => NativePacketSocket;
  listInterfaces(): NativeInterface[];
}

export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_NOARP = 0x80;
export const IFF_RUNNING = 0x40;
export const IFF_MULTICAST = 0x1000;

let loaded: PacketAddon | undefined;

/** The repo root: the nearest folder above this file holding binding.gyp. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'binding.gyp'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error('ironlb: cannot find the package root (binding.gyp) above the packet addon loader');
    dir = parent;
  }
}

export function loadPacketAddon(): PacketAddon {
  if (loaded) return loaded;
  const file = path.join(packageRoot(), 'build', 'Release', 'ironlb_packet.node');
  if (!existsSync(file)) {
    throw new Error(
      `ironlb: the packet addon is not built (${path.basename(file)} missing); ` +
        `run \`npm ci\` or \`node src/native/build.mjs\``,
    );
  }
  const require = createRequire(import.meta.url);
  loaded = require(file) as PacketAddon;
  return loaded;
}

export function isNativeError(err: unknown): err is NativeError {
  return err instanceof Error && typeof (err as Partial<NativeError>).code === 'string';
}
