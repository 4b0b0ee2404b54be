// Takeover announcements: gratuitous ARP (both forms Linux honours) for IPv4 and
// unsolicited NA for IPv6, in rounds, re-asking before every round whether the
// IP is still ours so a node that lost it never advertises it again.
import { gratuitousArpReplyFrame, gratuitousArpRequestFrame } from './arp.js';
import { canonicalIp, parseNeighborIp, unsolicitedAdvertisementFrame, type NeighborIp } from './ndp.js';
import type { PacketSocket } from './packet-socket.js';

/** setTimeout behind an interface so tests can move time by hand. */
export interface Scheduler {
  /** Runs `run` after `delayMs`; the returned function cancels it. */
  schedule(delayMs: number, run: () => void): () => void;
}

export const systemScheduler: Scheduler = {
  schedule(delayMs, run) {
    const timer = setTimeout(run, delayMs);
    return () => clearTimeout(timer);
  },
};

export type L2Protocol = 'arp' | 'ndp';

export interface AnnouncementSent {
  ip: string;
  ifname: string;
  protocol: L2Protocol;
  /** Gratuitous frames sent on this interface this round (2 for ARP, 1 for NA). */
  frames: number;
  /** 1-based; rounds past `rounds` are refreshes. */
  round: number;
}

export type AnnouncementEnd = 'completed' | 'not-owned' | 'stopped';

export interface AnnounceOptions {
  /** Rounds sent on takeover (default 3). */
  rounds?: number;
  /** Between takeover rounds (default 1100 ms: clears a client's 1 s ARP locktime). */
  intervalMs?: number;
  /** After the takeover rounds, re-announce this often; 0 (default) means never. */
  refreshMs?: number;
  /** Asked before every round; false ends the announcement at once. */
  stillOwned: () => boolean;
  onSent?: (sent: AnnouncementSent) => void;
  /** A send that failed on one interface (the others still get their frames). */
  onError?: (err: Error, ifname: string | undefined) => void;
  onEnd?: (why: AnnouncementEnd) => void;
}

export const DEFAULT_ROUNDS = 3;
export const DEFAULT_INTERVAL_MS = 1100;

interface Running {
  ended: boolean;
  cancelTimer: () => void;
  end: (why: AnnouncementEnd) => void;
}

export class Announcer {
  private readonly running = new Map<string, Running>();

  constructor(private readonly scheduler: Scheduler = systemScheduler) {}

  /**
   * Starts announcing `ip` on `sockets`, replacing any announcement of it in
   * progress. The first round goes out before this returns.
   */
  announce(ip: string, sockets: readonly PacketSocket[], options: AnnounceOptions): void {
    const address = parseNeighborIp(ip);
    const key = canonicalIp(ip);
    const rounds = options.rounds ?? DEFAULT_ROUNDS;
    const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    const refreshMs = options.refreshMs ?? 0;
    if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`rounds must be an integer >= 1, got ${rounds}`);
    if (!Number.isFinite(intervalMs) || intervalMs < 0)
      throw new Error(`intervalMs must be a finite number >= 0, got ${intervalMs}`);
    if (!Number.isFinite(refreshMs) || refreshMs < 0)
      throw new Error(`refreshMs must be a finite number >= 0, got ${refreshMs}`);
    if (sockets.length === 0) throw new Error(`no interface to announce ${key} on`);
    this.stop(key);

    let round = 0;
    const entry: Running = {
      ended: false,
      cancelTimer: () => undefined,
      end: (why) => {
        if (entry.ended) return;
        entry.ended = true;
        entry.cancelTimer();
        if (this.running.get(key) === entry) this.running.delete(key);
        options.onEnd?.(why);
      },
    };
    const runRound = (): void => {
      if (!this.stillOwned(options)) {
        entry.end('not-owned');
        return;
      }
      round++;
      for (const socket of sockets) this.sendRound(key, address, socket, round, options);
      // A callback may have stopped or replaced this announcement meanwhile.
      if (entry.ended) return;
      if (round < rounds) entry.cancelTimer = this.scheduler.schedule(intervalMs, runRound);
      else if (refreshMs > 0) entry.cancelTimer = this.scheduler.schedule(refreshMs, runRound);
      else entry.end('completed');
    };
    this.running.set(key, entry);
    runRound();
  }

  /** Cancels the announcement of `ip`; true if one was running. */
  stop(ip: string): boolean {
    const entry = this.running.get(canonicalIp(ip));
    if (!entry) return false;
    entry.end('stopped');
    return true;
  }

  stopAll(): void {
    for (const entry of [...this.running.values()]) entry.end('stopped');
  }

  isAnnouncing(ip: string): boolean {
    return this.running.has(canonicalIp(ip));
  }

  private stillOwned(options: AnnounceOptions): boolean {
    try {
      return options.stillOwned();
    } catch (err) {
      // An ownership question that cannot be answered is not a yes.
      options.onError?.(asError(err), undefined);
      return false;
    }
  }

  private sendRound(
    ip: string,
    address: NeighborIp,
    socket: PacketSocket,
    round: number,
    options: AnnounceOptions,
  ): void {
    const frames =
      address.family === 4
        ? [gratuitousArpRequestFrame(socket.mac, address.bytes), gratuitousArpReplyFrame(socket.mac, address.bytes)]
        : [unsolicitedAdvertisementFrame(socket.mac, address.bytes)];
    let sent = 0;
    for (const frame of frames) {
      try {
        socket.send(frame);
        sent++;
      } catch (err) {
        options.onError?.(asError(err), socket.ifname);
      }
    }
    if (sent > 0)
      options.onSent?.({
        ip,
        ifname: socket.ifname,
        protocol: address.family === 4 ? 'arp' : 'ndp',
        frames: sent,
        round,
      });
  }
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
