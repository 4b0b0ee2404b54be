// RFC 5227-style conflict probe before first announcing an IP: ask with sender
// 0.0.0.0 (ARP) or from :: (DAD NS), which teaches no neighbour cache anything,
// and listen a short while for anyone claiming the address.
import { asError, systemScheduler, type Scheduler } from './announcer.js';
import { arpProbeFrame } from './arp.js';
import { formatMac } from './ethernet.js';
import { canonicalIp, dadSolicitationFrame, decodeNeighborFrame, parseNeighborIp, type NeighborIp } from './ndp.js';
import type { PacketSocket, RxFrame } from './packet-socket.js';
import { OwnMacs, claimOf, type ClaimKind, type ProbeKind } from './wire-watch.js';

export interface ProbeOptions {
  /** Probes sent (default 2). */
  probes?: number;
  /** Between probes (default 150 ms). */
  intervalMs?: number;
  /** From the first probe to the verdict (default 300 ms). */
  waitMs?: number;
}

export interface ProbeResult {
  inUse: boolean;
  /** Who answered, when in use (aa:bb:cc:dd:ee:ff). */
  mac?: string;
  ifname?: string;
  /** The frame that showed it: an answer, or someone else probing the same IP. */
  kind?: ClaimKind | ProbeKind;
}

export const DEFAULT_PROBES = 2;
export const DEFAULT_PROBE_INTERVAL_MS = 150;
export const DEFAULT_PROBE_WAIT_MS = 300;

interface PendingProbe {
  ip: string;
  settled: boolean;
  settle: (result: ProbeResult) => void;
}

export interface ConflictProberOptions {
  scheduler?: Scheduler;
  /** MACs of this host beyond the probing sockets' own. */
  ownMacs?: Iterable<Buffer | string>;
  /** A probe that could not be sent on one interface. */
  onError?: (err: Error, ifname: string) => void;
}

export class ConflictProber {
  private readonly scheduler: Scheduler;
  private readonly ownMacs = new OwnMacs();
  private readonly listening = new WeakSet<PacketSocket>();
  private readonly pending = new Set<PendingProbe>();

  constructor(private readonly options: ConflictProberOptions = {}) {
    this.scheduler = options.scheduler ?? systemScheduler;
    for (const mac of options.ownMacs ?? []) this.ownMacs.add(mac);
  }

  /**
   * Probes `ip` on `sockets`. Resolves early on the first claim from a MAC not
   * ours; rejects only if not a single probe could be sent.
   */
  probe(ip: string, sockets: readonly PacketSocket[], options: ProbeOptions = {}): Promise<ProbeResult> {
    const address = parseNeighborIp(ip);
    const key = canonicalIp(ip);
    const probes = options.probes ?? DEFAULT_PROBES;
    const intervalMs = options.intervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    const waitMs = options.waitMs ?? DEFAULT_PROBE_WAIT_MS;
    if (!Number.isInteger(probes) || probes < 1) throw new Error(`probes must be an integer >= 1, got ${probes}`);
    if (!Number.isFinite(intervalMs) || intervalMs < 0)
      throw new Error(`intervalMs must be a finite number >= 0, got ${intervalMs}`);
    if (!Number.isFinite(waitMs) || waitMs < 0) throw new Error(`waitMs must be a finite number >= 0, got ${waitMs}`);
    if (probes > 1 && (probes - 1) * intervalMs >= waitMs) {
      throw new Error(
        `the last of ${probes} probes ${intervalMs} ms apart would go out after the ${waitMs} ms wait ends`,
      );
    }
    if (sockets.length === 0) throw new Error(`no interface to probe ${key} on`);
    for (const socket of sockets) this.listen(socket);

    return new Promise<ProbeResult>((resolve, reject) => {
      const timers: (() => void)[] = [];
      const entry: PendingProbe = {
        ip: key,
        settled: false,
        settle: (result) => {
          if (entry.settled) return;
          entry.settled = true;
          this.pending.delete(entry);
          for (const cancel of timers) cancel();
          resolve(result);
        },
      };
      this.pending.add(entry);
      const sentFirst = this.sendProbes(address, sockets);
      if (sentFirst.length === 0) {
        this.pending.delete(entry);
        reject(new Error(`no probe for ${key} could be sent on ${sockets.map((p) => p.ifname).join(', ')}`));
        return;
      }
      // An answer may already have come back while sending.
      if (entry.settled) return;
      for (let i = 1; i < probes; i++)
        timers.push(this.scheduler.schedule(i * intervalMs, () => this.sendProbes(address, sentFirst)));
      timers.push(this.scheduler.schedule(waitMs, () => entry.settle({ inUse: false })));
    });
  }

  /** Sends one probe per socket; returns the sockets it went out on. */
  private sendProbes(address: NeighborIp, sockets: readonly PacketSocket[]): PacketSocket[] {
    const sent: PacketSocket[] = [];
    for (const socket of sockets) {
      const frame =
        address.family === 4
          ? arpProbeFrame(socket.mac, address.bytes)
          : dadSolicitationFrame(socket.mac, address.bytes);
      try {
        socket.send(frame);
        sent.push(socket);
      } catch (err) {
        this.options.onError?.(asError(err), socket.ifname);
      }
    }
    return sent;
  }

  private listen(socket: PacketSocket): void {
    this.ownMacs.addSocket(socket);
    if (this.listening.has(socket)) return;
    this.listening.add(socket);
    socket.onFrame((frame) => this.handle(socket, frame));
  }

  private handle(socket: PacketSocket, frame: RxFrame): void {
    if (frame.outgoing || this.pending.size === 0) return;
    const decoded = decodeNeighborFrame(frame.data);
    if (!decoded.ok || this.ownMacs.has(decoded.value.ethernet.src)) return;
    const claim = claimOf(decoded.value);
    if (!claim || this.ownMacs.has(claim.mac)) return;
    for (const entry of [...this.pending]) {
      if (entry.ip === claim.ip)
        entry.settle({ inUse: true, mac: formatMac(claim.mac), ifname: socket.ifname, kind: claim.kind });
    }
  }
}
