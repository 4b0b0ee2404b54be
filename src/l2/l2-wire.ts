// The election's Wire (src/election/boundaries.ts) over the layer-2 module — one packet socket
// and responder per interface, the conflict probe, the announcer and the wire
// watch that feeds the fence.
import { Announcer } from './announcer.js';
import { chooseInterfaces, isVirtualInterface, type NetInterface } from './interfaces.js';
import { canonicalIp } from './ndp.js';
import type { PacketSocket } from './packet-socket.js';
import { ConflictProber } from './probe.js';
import { Responder } from './responder.js';
import { WireWatch } from './wire-watch.js';
import type { PublishedInterface } from '../api/leases.js';
import type { Wire } from '../election/boundaries.js';
import type { Logger } from '../log/logger.js';
import type { SpeakerMetrics } from '../metrics/metrics.js';

export interface L2WireOptions {
  /** The current interface listing (from watchInterfaces). */
  interfaces: () => readonly NetInterface[];
  /** --interfaces: announce only on these, whatever the advertisements say. */
  override?: readonly string[];
  /** Interfaces the L2Advertisements name for this IP on this node; 'auto' = by subnet. */
  interfacesForIp: (ip: string) => readonly string[] | 'auto';
  openSocket: (ifname: string) => PacketSocket;
  /** A probe answered by another speaker is a stale peer, not a conflict (the fence handles it). */
  isSpeakerMac: (mac: string) => boolean;
  garpRounds: number;
  garpRefreshMs: number;
  /**
   * Whether each interface can carry frames now (readLinkStates), polled
   * every `linkPollMs` for the interfaces we answer on. A link flap shorter
   * than the poll can hide no takeover: detecting a dead owner takes longer.
   */
  linkStates?: () => ReadonlyMap<string, boolean>;
  linkPollMs?: number;
  /** A link changed: list the interfaces now, so announcing and the published MACs follow at once. */
  refreshInterfaces?: () => void;
  metrics?: SpeakerMetrics;
  logger: Logger;
}

/** The confirmation's wire check: two probes, then a verdict well inside one Lease read's worst case. */
const CHECK_PROBE = { probes: 2, intervalMs: 50, waitMs: 150 };
const DEFAULT_LINK_POLL_MS = 100;

interface Owned {
  ip: string;
  ifnames: Set<string>;
}

export class L2Wire implements Wire {
  private readonly sockets = new Map<string, { socket: PacketSocket; responder: Responder }>();
  /** Canonical IP -> what we answer for, and where. */
  private readonly owned = new Map<string, Owned>();
  /** Announce asked and not withdrawn since (the probe runs in between). */
  private readonly wanted = new Set<string>();
  /** IPs this process announced before: no probe when they come back. */
  private readonly probed = new Set<string>();
  private readonly announcer = new Announcer();
  private readonly prober: ConflictProber;
  private readonly watch: WireWatch;
  private listener: ((ip: string, mac: string) => void) | undefined;
  private linkListener: ((ifname: string, up: boolean) => void) | undefined;
  /** Last seen state of each interface we have a socket on. */
  private readonly linkState = new Map<string, boolean>();
  private linkTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: L2WireOptions) {
    this.prober = new ConflictProber({
      onError: (err, ifname) => options.logger.warn({ ifname, err: err.message }, 'probe not sent'),
    });
    this.watch = new WireWatch([], {
      holds: (ip) => this.owned.has(ip),
      onClaim: (claim) => {
        const owned = this.owned.get(claim.ip);
        if (owned !== undefined) this.listener?.(owned.ip, claim.mac);
      },
      onError: (err) => options.logger.warn({ err: err.message }, 'wire watch callback failed'),
    });
    if (options.linkStates !== undefined)
      this.linkTimer = setInterval(() => this.pollLinks(), options.linkPollMs ?? DEFAULT_LINK_POLL_MS);
  }

  /** The interfaces this node may announce on, published in its heartbeat Lease. */
  publishedInterfaces(): PublishedInterface[] {
    const wanted = this.options.override;
    return (
      this.options
        .interfaces()
        // Down or not: a link flap must not make the node drop out of the
        // candidates (the election yields on its own while a link is down).
        .filter((i) => i.broadcast && !i.loopback && !i.noarp && i.master === undefined)
        .filter((i) =>
          wanted !== undefined && wanted.length > 0 ? wanted.includes(i.name) : !isVirtualInterface(i.name),
        )
        .map((i) => ({ ifname: i.name, mac: i.mac }))
    );
  }

  async announce(ip: string, options: { probe: boolean }): Promise<{ conflictMac?: string }> {
    const key = canonicalIp(ip);
    this.wanted.add(key);
    const sockets = this.socketsFor(ip);
    if (sockets.length === 0) {
      this.options.logger.warn({ ip }, 'no interface to announce on');
      return {};
    }
    if (options.probe && !this.probed.has(key)) {
      const result = await this.prober.probe(ip, sockets).catch((err: unknown) => {
        this.options.logger.warn({ ip, err: String(err) }, 'conflict probe failed; announcing anyway');
        return { inUse: false as const, mac: undefined };
      });
      if (result.inUse && result.mac !== undefined && !this.options.isSpeakerMac(result.mac))
        return { conflictMac: result.mac };
      this.probed.add(key);
    }
    // Withdrawn while probing: stay silent.
    if (!this.wanted.has(key)) return {};
    this.owned.set(key, { ip, ifnames: new Set(sockets.map((p) => p.ifname)) });
    for (const socket of sockets) this.sockets.get(socket.ifname)?.responder.addIp(ip);
    this.announcer.announce(ip, sockets, {
      rounds: this.options.garpRounds,
      refreshMs: this.options.garpRefreshMs,
      stillOwned: () => this.owned.has(key),
      onSent: (sent) =>
        this.options.metrics?.gratuitous.inc({ interface: sent.ifname, protocol: sent.protocol }, sent.frames),
      onError: (err, ifname) => this.options.logger.warn({ ip, ifname, err: err.message }, 'gratuitous frame not sent'),
    });
    return {};
  }

  withdraw(ip: string): void {
    const key = canonicalIp(ip);
    this.wanted.delete(key);
    const owned = this.owned.get(key);
    this.owned.delete(key);
    this.announcer.stop(ip);
    for (const ifname of owned?.ifnames ?? []) this.sockets.get(ifname)?.responder.removeIp(ip);
  }

  onClaim(listener: (ip: string, mac: string) => void): void {
    this.listener = listener;
  }

  async check(ip: string): Promise<{ mac?: string }> {
    const result = await this.prober.probe(ip, this.socketsFor(ip), CHECK_PROBE);
    return result.inUse && result.mac !== undefined ? { mac: result.mac } : {};
  }

  onLink(listener: (ifname: string, up: boolean) => void): void {
    this.linkListener = listener;
  }

  ipsOn(ifname: string): string[] {
    return [...this.owned.values()].filter((o) => o.ifnames.has(ifname)).map((o) => o.ip);
  }

  /** Reports every change of the links we have sockets on (a socket's first reading is no change). */
  pollLinks(): void {
    let states: ReadonlyMap<string, boolean>;
    try {
      states = this.options.linkStates?.() ?? new Map();
    } catch (err) {
      this.options.logger.warn({ err: String(err) }, 'reading link states failed');
      return;
    }
    const changed: [string, boolean][] = [];
    for (const ifname of this.sockets.keys()) {
      const up = states.get(ifname) ?? false;
      const before = this.linkState.get(ifname);
      this.linkState.set(ifname, up);
      if (before !== undefined && before !== up) changed.push([ifname, up]);
    }
    if (changed.length > 0) this.options.refreshInterfaces?.();
    for (const [ifname, up] of changed) this.linkListener?.(ifname, up);
  }

  close(): void {
    if (this.linkTimer !== undefined) clearInterval(this.linkTimer);
    this.linkTimer = undefined;
    this.announcer.stopAll();
    this.watch.close();
    for (const { socket, responder } of this.sockets.values()) {
      responder.close();
      socket.close();
    }
    this.sockets.clear();
  }

  private socketsFor(ip: string): PacketSocket[] {
    const named =
      this.options.override !== undefined && this.options.override.length > 0
        ? this.options.override
        : this.options.interfacesForIp(ip);
    const chosen = chooseInterfaces(ip, this.options.interfaces(), named === 'auto' ? undefined : named);
    const sockets: PacketSocket[] = [];
    for (const iface of chosen) {
      try {
        sockets.push(this.socket(iface.name));
      } catch (err) {
        this.options.logger.warn({ ifname: iface.name, err: String(err) }, 'cannot open packet socket');
      }
    }
    return sockets;
  }

  private socket(ifname: string): PacketSocket {
    const existing = this.sockets.get(ifname);
    if (existing !== undefined) return existing.socket;
    const socket = this.options.openSocket(ifname);
    const responder = new Responder(socket, {
      owns: (ip, on) => this.owned.get(ip)?.ifnames.has(on) ?? false,
      onEvent: (e) => {
        const counter = e.kind === 'request' ? this.options.metrics?.arpRequests : this.options.metrics?.arpReplies;
        counter?.inc({ interface: e.ifname, protocol: e.protocol });
      },
      onError: (err) => this.options.logger.warn({ ifname, err: err.message }, 'responder error'),
    });
    socket.onError((err) => {
      this.options.logger.warn({ ifname, err: err.message }, 'packet socket error');
      // ENETDOWN arrives the moment the link goes down: look now, not at the next poll.
      this.pollLinks();
    });
    this.sockets.set(ifname, { socket, responder });
    this.watch.watch(socket);
    return socket;
  }
}
