// The speaker's BGP side: inputs from the caches -> planNode -> FRR text ->
// applied through FrrControl whenever the text changed; FRR's sessions read
// back on a timer. A failed apply is reported (metric, Warning Event, status)
// and retried with backoff; FRR that lost its configuration (restarted) gets
// it again. `withdraw()` applies the same sessions with nothing announced,
// for SIGTERM. Decisions are in ./status.ts and ./plan.ts; this is the loop.
import type { Scheduler, CancelTimer } from '../clock/scheduler.js';
import type { Logger } from '../log/logger.js';
import type { FrrControl } from './frr-daemon.js';
import { renderFrrConfig } from './frr-config.js';
import type { BfdPeerState, BgpSessionState } from './frr-state.js';
import { planNode, type BgpNodeInputs, type ConfigError, type NodeBgpPlan } from './plan.js';
import {
  frrHasPlannedPeers,
  peerStatuses,
  sessionChanges,
  withdrawnPlan,
  type BgpNodeStatus,
  type PeerStatus,
} from './status.js';

/** The metrics the runtime sets (declared in src/metrics/metrics.ts). */
export interface BgpRuntimeMetrics {
  sessionUp: { set(labels: { peer: string; address: string }, value: number): void; reset(): void };
  prefixesSent: { set(labels: { peer: string; address: string }, value: number): void; reset(): void };
  bfdUp: { set(labels: { peer: string; address: string }, value: number): void; reset(): void };
  sessionsConfigured: { set(value: number): void };
  sessionsEstablished: { set(value: number): void };
  configApplied: { set(value: number): void };
  applyFailures: { inc(): void };
  frrReachable: { set(value: number): void };
  configErrors: { set(labels: { kind: string; name: string }, value: number): void; reset(): void };
}

export interface BgpRuntimeEvents {
  /** About a BGPPeer or BGPAdvertisement in ironlb's namespace. */
  object(kind: ConfigError['kind'], name: string, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** About this node. */
  node(type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface BgpRuntimeOptions {
  node: string;
  frr: FrrControl;
  scheduler: Scheduler;
  metrics: BgpRuntimeMetrics;
  events: BgpRuntimeEvents;
  logger: Logger;
  /** How often FRR's sessions are read (default 5 s). */
  pollIntervalMs?: number;
  /** Backoff of a failed apply (default 1 s doubling to 30 s). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** FRR's `log stdout` level. */
  frrLogLevel?: string;
  /** Every status change (the speaker publishes it). */
  onStatus?: (status: BgpNodeStatus) => void;
}

export const BGP_EVENT_REASONS = {
  sessionUp: 'BGPSessionUp',
  sessionDown: 'BGPSessionDown',
  invalid: 'InvalidBGPConfiguration',
  applyFailed: 'FRRConfigurationFailed',
  applied: 'FRRConfigurationApplied',
} as const;

const EMPTY_PLAN: NodeBgpPlan = { sessions: [], prefixes: new Map(), bfdProfiles: [], errors: [] };

export class BgpRuntime {
  private plan: NodeBgpPlan = EMPTY_PLAN;
  private errors: readonly ConfigError[] = [];
  private haveInputs = false;
  private withdrawn = false;
  /** The text FRR runs as far as we know; undefined: unknown (start, failure, FRR restarted). */
  private applied: string | undefined;
  private applying: Promise<void> | undefined;
  /** Successful applies so far. */
  private applies = 0;
  private failures = 0;
  private frrError: string | undefined;
  private retryTimer: CancelTimer | undefined;
  private pollTimer: CancelTimer | undefined;
  private peers: PeerStatus[] = [];
  private readonly reportedErrors = new Map<string, string>();
  private lastStatusJson = '';
  private stopped = false;
  private readonly pollMs: number;

  constructor(private readonly options: BgpRuntimeOptions) {
    this.pollMs = options.pollIntervalMs ?? 5000;
  }

  /** New cache contents (and the objects that did not even parse): replan, and apply if the text changed. */
  setInputs(inputs: BgpNodeInputs, parseErrors: readonly ConfigError[] = []): void {
    this.plan = planNode(inputs);
    this.errors = [...parseErrors, ...this.plan.errors];
    this.haveInputs = true;
    this.reportConfigErrors(this.errors);
    // Keep what FRR last said of peers still planned; new ones are Unknown until the next reading.
    const known = (p: PeerStatus) => this.peers.find((q) => q.name === p.name && q.address === p.address) ?? p;
    this.peers = peerStatuses(this.plan, {}).map(known);
    this.kick();
  }

  /** Starts reading FRR's sessions. */
  start(): void {
    this.schedulePoll(0);
  }

  /** The configuration the speaker wants FRR to run now. */
  desiredConfig(): string {
    const plan = this.withdrawn ? withdrawnPlan(this.plan) : this.plan;
    return renderFrrConfig(plan, this.renderOptions());
  }

  private renderOptions() {
    return { hostname: this.options.node, logLevel: this.options.frrLogLevel || undefined };
  }

  /**
   * SIGTERM: announce nothing from now on, and wait for FRR to have it (the
   * sessions stay up, so the routers withdraw the routes at once instead of
   * waiting for a hold time). Resolves false when FRR could not be told.
   */
  async withdraw(): Promise<boolean> {
    this.withdrawn = true;
    this.kick();
    while (this.applying !== undefined) await this.applying;
    if (this.applied === this.desiredConfig()) return true;
    // The retry timer may be far; one more attempt now, it is the last chance.
    this.retryTimer?.();
    this.retryTimer = undefined;
    this.kick();
    while (this.applying !== undefined) await this.applying;
    return this.applied === this.desiredConfig();
  }

  stop(): void {
    this.stopped = true;
    this.retryTimer?.();
    this.pollTimer?.();
  }

  status(): BgpNodeStatus {
    const current = this.applied !== undefined && this.applied === this.desiredConfig();
    const frr = this.frrError !== undefined ? 'failed' : current ? 'applied' : 'pending';
    return {
      frr,
      frrError: this.frrError,
      withdrawn: this.withdrawn,
      peers: this.peers,
      errors: this.errors,
    };
  }

  /** Applies the wanted text unless FRR runs it already; one apply at a time. */
  private kick(): void {
    if (this.stopped || !this.haveInputs || this.applying || this.retryTimer) return;
    const desired = this.desiredConfig();
    if (desired === this.applied) return;
    this.applying = this.applyOnce(desired).finally(() => {
      this.applying = undefined;
      this.publish();
      if (this.failures === 0) this.kick(); // inputs changed meanwhile
    });
  }

  private async applyOnce(text: string): Promise<void> {
    const { metrics, logger, events } = this.options;
    try {
      await this.options.frr.apply(text);
      this.applies += 1;
      this.applied = text;
      metrics.configApplied.set(1);
      if (this.failures > 0) {
        const message = `FRR runs the wanted configuration again after ${this.failures} failed attempt(s)`;
        events.node('Normal', BGP_EVENT_REASONS.applied, message);
      }
      this.failures = 0;
      this.frrError = undefined;
      logger.info({ peers: this.plan.sessions.length, withdrawn: this.withdrawn }, 'FRR configuration applied');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.applied = undefined;
      this.failures += 1;
      this.frrError = message;
      metrics.configApplied.set(0);
      metrics.applyFailures.inc();
      const initial = this.options.retryInitialMs ?? 1000;
      const delay = Math.min(this.options.retryMaxMs ?? 30_000, initial * 2 ** Math.min(this.failures - 1, 20));
      // FRR may still announce what it was last given: said loudly, retried.
      const said =
        `FRR did not take the configuration (retrying); it may still announce what it was given before: ` +
        `${message}`;
      events.node('Warning', BGP_EVENT_REASONS.applyFailed, said);
      logger.warn({ err: message, attempt: this.failures, retryInMs: delay }, 'applying the FRR configuration failed');
      if (!this.stopped) {
        this.retryTimer = this.options.scheduler.setTimer(delay, () => {
          this.retryTimer = undefined;
          this.kick();
        });
      }
    }
  }

  private schedulePoll(ms: number): void {
    if (this.stopped) return;
    const next = () => this.schedulePoll(this.pollMs);
    this.pollTimer = this.options.scheduler.setTimer(ms, () => void this.poll().finally(next));
  }

  /** Reads FRR's sessions; re-applies when FRR lost its configuration or came back after not answering. */
  private async poll(): Promise<void> {
    const { frr, metrics, logger } = this.options;
    // A reading taken while an apply ran says nothing about what FRR runs after it.
    const appliesBefore = this.applies;
    const current = () => !this.applying && this.applies === appliesBefore;
    let sessions: Map<string, BgpSessionState> | undefined;
    let bfd: BfdPeerState[] | undefined;
    try {
      sessions = await frr.sessions();
      if (this.plan.sessions.some((s) => s.peer.bfdProfile !== undefined)) bfd = await frr.bfdPeers();
      metrics.frrReachable.set(1);
    } catch (err) {
      metrics.frrReachable.set(0);
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'FRR does not answer');
      // Whatever FRR runs when it is back is unknown: apply again then.
      if (current()) this.applied = undefined;
    }
    if (this.stopped) return;
    if (sessions !== undefined && current() && this.applied !== undefined && !frrHasPlannedPeers(this.plan, sessions)) {
      const running = [...sessions.keys()];
      logger.warn({ running }, 'FRR runs other neighbors than planned (restarted?); applying again');
      this.applied = undefined;
    }
    const peers = peerStatuses(this.plan, { sessions, bfd });
    for (const change of sessionChanges(this.options.node, this.peers, peers)) {
      const [type, reason] = change.up
        ? (['Normal', BGP_EVENT_REASONS.sessionUp] as const)
        : (['Warning', BGP_EVENT_REASONS.sessionDown] as const);
      this.options.events.object('BGPPeer', change.peer, type, reason, change.message);
    }
    this.peers = peers;
    this.publish();
    this.kick();
  }

  /** Metrics and the status callback, from the current plan and readings. */
  private publish(): void {
    const { metrics } = this.options;
    metrics.sessionUp.reset();
    metrics.prefixesSent.reset();
    metrics.bfdUp.reset();
    for (const p of this.peers) {
      const labels = { peer: p.name, address: p.address };
      metrics.sessionUp.set(labels, p.established ? 1 : 0);
      metrics.prefixesSent.set(labels, p.prefixesSent);
      if (p.bfd !== undefined) metrics.bfdUp.set(labels, p.bfd === 'up' ? 1 : 0);
    }
    metrics.sessionsConfigured.set(this.peers.length);
    metrics.sessionsEstablished.set(this.peers.filter((p) => p.established).length);
    const status = this.status();
    const json = JSON.stringify(status);
    if (json !== this.lastStatusJson) {
      this.lastStatusJson = json;
      this.options.onStatus?.(status);
    }
  }

  /** One Warning Event per new or changed error; the gauge holds every current one. */
  private reportConfigErrors(errors: readonly ConfigError[]): void {
    const { metrics, events, logger } = this.options;
    metrics.configErrors.reset();
    const current = new Map<string, { kind: ConfigError['kind']; name: string; message: string }>();
    for (const e of errors) {
      const key = `${e.kind}/${e.name}`;
      const before = current.get(key);
      current.set(key, { kind: e.kind, name: e.name, message: before ? `${before.message}; ${e.message}` : e.message });
    }
    for (const [key, e] of current) {
      metrics.configErrors.set({ kind: e.kind, name: e.name }, 1);
      if (this.reportedErrors.get(key) === e.message) continue;
      this.reportedErrors.set(key, e.message);
      logger.warn({ kind: e.kind, name: e.name, err: e.message }, 'BGP object left out');
      const message = `node ${this.options.node}: left out: ${e.message}`;
      events.object(e.kind, e.name, 'Warning', BGP_EVENT_REASONS.invalid, message);
    }
    for (const key of [...this.reportedErrors.keys()]) if (!current.has(key)) this.reportedErrors.delete(key);
  }
}
