import { createSocket, type Socket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import type { AuthenticatedChannel } from './channel.js';
import type { LivenessTransport, Message, Peer } from './types.js';

// The failure detector's datagrams over UDP on the node network: one IPv4 and
// one IPv6 socket on the same port (IPv6-only, so the two never overlap), each
// datagram sealed and opened by the authenticated channel. A peer is reached
// on the socket of its address's family.

/** MetalLB's memberlist uses 7946 (TCP+UDP); ironlb takes the next port so both can run during a migration. */
export const DEFAULT_LIVENESS_PORT = 7947;
export const METALLB_MEMBERLIST_PORT = 7946;

export interface UdpTransportOptions {
  port: number;
  channel: AuthenticatedChannel;
  /** IPv4 address to bind (default 0.0.0.0); null: no IPv4 socket. */
  ipv4?: string | null;
  /** IPv6 address to bind (default ::); null: no IPv6 socket. */
  ipv6?: string | null;
  /** A send failed or the message handler threw (the receive path goes on). */
  onError?: (error: Error) => void;
}

export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    address: string,
  ) {
    super(
      `liveness port ${port}/udp is already in use on ${address}: another process holds it. ` +
        (port === METALLB_MEMBERLIST_PORT
          ? `${METALLB_MEMBERLIST_PORT} is MetalLB's memberlist port: a MetalLB speaker is probably running on this ` +
            `node; use ironlb's default ${DEFAULT_LIVENESS_PORT} or another --liveness-port. `
          : `A MetalLB speaker (memberlist, ${METALLB_MEMBERLIST_PORT}) or another ironlb speaker may hold it. `) +
        'Choose a free port with --liveness-port (the same on every node).',
    );
    this.name = 'PortInUseError';
  }
}

export interface UdpCounters {
  sent: number;
  received: number;
  sendErrors: number;
  /** Peers whose address family has no socket here. */
  unreachable: number;
}

export class UdpTransport implements LivenessTransport {
  readonly counters: UdpCounters = { sent: 0, received: 0, sendErrors: 0, unreachable: 0 };
  private handler: ((m: Message) => void) | undefined;
  private closed = false;

  private constructor(
    private readonly options: UdpTransportOptions,
    private readonly v4: Socket | undefined,
    private readonly v6: Socket | undefined,
  ) {
    for (const socket of [v4, v6]) {
      socket?.on('message', (datagram) => this.receive(datagram));
      // An unhandled 'error' would crash the speaker; report it instead.
      socket?.on('error', (error) => this.options.onError?.(error));
    }
  }

  /** Binds the sockets; rejects with PortInUseError when the port is taken. */
  static async open(options: UdpTransportOptions): Promise<UdpTransport> {
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
      throw new Error(`liveness port must be 0-65535 (0: any free port), got ${options.port}`);
    const v4Address = options.ipv4 === undefined ? '0.0.0.0' : options.ipv4;
    const v6Address = options.ipv6 === undefined ? '::' : options.ipv6;
    if (v4Address === null && v6Address === null)
      throw new Error('liveness transport needs an IPv4 or an IPv6 address to bind');
    const v4 = v4Address === null ? undefined : await bind('udp4', v4Address, options.port);
    try {
      // With port 0 the IPv6 socket takes the port the IPv4 one got.
      const v6 = v6Address === null ? undefined : await bind('udp6', v6Address, v4 ? v4.address().port : options.port);
      return new UdpTransport(options, v4, v6);
    } catch (error) {
      v4?.close();
      throw error;
    }
  }

  /** The bound port (useful with port 0 in tests). */
  address(): { ipv4?: number; ipv6?: number } {
    return {
      ipv4: this.v4?.address().port,
      ipv6: this.v6?.address().port,
    };
  }

  send(to: Readonly<Peer>, message: Message): void {
    const socket = isIPv4(to.address) ? this.v4 : isIPv6(to.address) ? this.v6 : undefined;
    if (socket === undefined) {
      this.counters.unreachable++;
      return;
    }
    if (this.closed) return;
    const bytes = this.options.channel.seal(message);
    this.counters.sent++;
    try {
      socket.send(bytes, to.port, to.address, (error) => {
        if (error === null || error === undefined) return;
        this.counters.sendErrors++;
        this.options.onError?.(error);
      });
    } catch (error) {
      // A send must never throw into the detector's timer.
      this.counters.sendErrors++;
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  onMessage(handler: (message: Message) => void): void {
    this.handler = handler;
  }

  close(): void {
    this.closed = true;
    for (const socket of [this.v4, this.v6]) {
      try {
        socket?.close();
      } catch {
        // already closed
      }
    }
  }

  private receive(datagram: Buffer): void {
    this.counters.received++;
    const message = this.options.channel.open(datagram);
    if (message === undefined) return;
    try {
      this.handler?.(message);
    } catch (error) {
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

function bind(type: 'udp4' | 'udp6', address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type, ipv6Only: type === 'udp6', reuseAddr: false });
    const fail = (error: NodeJS.ErrnoException) => {
      socket.close();
      reject(
        error.code === 'EADDRINUSE'
          ? new PortInUseError(port, address)
          : new Error(`liveness: cannot bind ${type} ${address} port ${port}: ${error.message}`),
      );
    };
    socket.once('error', fail);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', fail);
      resolve(socket);
    });
  });
}
