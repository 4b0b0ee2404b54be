import type { V1Lease } from '@kubernetes/client-node';
import { realScheduler, type Scheduler } from '../clock/scheduler.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { describeError } from './errors.js';
import type { LeaseClient } from './leases.js';

/** The calls the elector makes on its Lease (a LeaseClient; a test may hand in a double). */
export type LeaderLeases = Pick<LeaseClient, 'get' | 'create' | 'update'>;

export interface LeaderElectionOptions {
  leases: LeaderLeases;
  leaseName: string;
  /** Unique per replica (the pod name). */
  identity: string;
  /** How long a holder's lease counts after its last observed change (default 15 s). */
  leaseDurationMs?: number;
  /** A leader that could not renew for this long steps down (default 10 s; must be < leaseDuration). */
  renewDeadlineMs?: number;
  /** Pause between attempts to acquire or renew (default 2 s, jittered up to +20% while acquiring). */
  retryPeriodMs?: number;
  /**
   * Empty the holder on stop so a standby takes over at its next retry instead of after leaseDuration (default true).
   */
  releaseOnStop?: boolean;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  /** Whenever the observed holder changes ('' when nobody holds the lease). */
  onNewLeader?: (identity: string) => void;
  logger?: Logger;
  /** Monotonic milliseconds (default: the scheduler's). */
  monotonicNow?: () => number;
  /**
   * Clock and timers (src/clock): a VirtualScheduler runs the elector on
   * virtual time. Default: the real ones, timers keeping the process alive.
   */
  scheduler?: Scheduler;
  /** Uniform in [0, 1): the retry jitter (default Math.random). */
  random?: () => number;
}

const JITTER_FACTOR = 1.2;

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: acquire
 * when the lease is empty or expired, renew every retryPeriod, step down when
 * renewals fail for renewDeadline. Expiry is judged on this process's monotonic
 * clock from when the lease last changed, never by comparing renewTime with
 * the local wall clock (clocks of two machines disagree).
 */
export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly scheduler: Scheduler;
  private readonly random: () => number;
  private readonly wakeUp = new AbortController();
  private observed: V1Lease | undefined;
  private observedAt = 0;
  private leading = false;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(private readonly options: LeaderElectionOptions) {
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!options.identity) throw new Error('leader election: identity is empty');
    if (!options.leaseName) throw new Error('leader election: leaseName is empty');
    if (this.leaseDurationMs <= this.renewDeadlineMs) {
      throw new Error(
        `leader election: leaseDuration (${this.leaseDurationMs} ms) must be greater than renewDeadline ` +
          `(${this.renewDeadlineMs} ms)`,
      );
    }
    if (this.renewDeadlineMs <= JITTER_FACTOR * this.retryPeriodMs) {
      throw new Error(
        `leader election: renewDeadline (${this.renewDeadlineMs} ms) must be greater than ${JITTER_FACTOR} x ` +
          `retryPeriod (${this.retryPeriodMs} ms)`,
      );
    }
    if (this.leaseDurationMs < 1000)
      throw new Error('leader election: leaseDuration must be at least 1000 ms (the lease stores whole seconds)');
    this.logger = (options.logger ?? silentLogger()).child({ lease: options.leaseName, identity: options.identity });
    this.scheduler = options.scheduler ?? realScheduler({ unref: false });
    this.now = options.monotonicNow ?? (() => this.scheduler.now());
    this.random = options.random ?? Math.random;
  }

  start(): void {
    if (this.stopped) throw new Error('leader election was stopped; create a new elector');
    this.running ??= this.run();
  }

  /** Stops trying; if leading, releases the lease (unless releaseOnStop is false) and calls onStoppedLeading. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp.abort();
    await this.running;
    if (!this.leading) return;
    if (this.options.releaseOnStop ?? true) await this.release();
    this.stepDown('stopped');
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder as last observed ('' for none, undefined before the first read). */
  currentLeader(): string | undefined {
    return this.observed ? (this.observed.spec?.holderIdentity ?? '') : undefined;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!(await this.tryAcquireOrRenew(undefined))) {
        await this.sleep(this.retryPeriodMs * (1 + this.random() * (JITTER_FACTOR - 1)));
        continue;
      }
      this.leading = true;
      this.logger.info('started leading');
      this.callback(this.options.onStartedLeading);
      await this.renewLoop();
      if (this.stopped) return; // stop() releases and reports.
      this.stepDown('lost the lease');
    }
  }

  /** Returns when leadership is lost (renewDeadline passed, or another holder seen) or on stop. */
  private async renewLoop(): Promise<void> {
    let lastRenew = this.now();
    while (!this.stopped) {
      await this.sleep(this.retryPeriodMs);
      if (this.stopped) return;
      const remaining = lastRenew + this.renewDeadlineMs - this.now();
      if (remaining > 0 && (await this.renewWithin(Math.ceil(remaining)))) {
        lastRenew = this.now();
        continue;
      }
      const holder = this.currentLeader();
      if (holder !== undefined && holder !== this.options.identity) return;
      if (this.now() - lastRenew >= this.renewDeadlineMs) {
        this.logger.warn({ renewDeadlineMs: this.renewDeadlineMs }, 'could not renew within the deadline');
        return;
      }
    }
  }

  /** A renewal whose requests are aborted when the renew deadline passes (on the scheduler's clock). */
  private async renewWithin(ms: number): Promise<boolean> {
    const deadline = new AbortController();
    const cancel = this.scheduler.setTimer(ms, () => deadline.abort(new Error(`renew deadline passed (${ms} ms)`)));
    try {
      return await this.tryAcquireOrRenew(deadline.signal);
    } finally {
      cancel();
    }
  }

  private async tryAcquireOrRenew(signal: AbortSignal | undefined): Promise<boolean> {
    const { leases, leaseName, identity } = this.options;
    const leaseDurationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    try {
      // Fast path like client-go: a leader renews from its cached copy; a conflict sends it back to a read.
      let current = this.leading && this.observed ? this.observed : await leases.get(leaseName, { signal });
      if (!current) {
        const wallNow = new Date();
        const created = await leases.create(
          leaseName,
          {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: wallNow,
            renewTime: wallNow,
            leaseTransitions: 0,
          },
          {},
          { signal },
        );
        if (created.ok) this.observe(created.lease);
        return created.ok;
      }
      if (current !== this.observed) this.observe(current);
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const holder = current.spec?.holderIdentity ?? '';
        if (holder && holder !== identity && !this.observedExpired()) return false;
        const wallNow = new Date();
        const keepsHolder = holder === identity;
        const updated = await leases.update(
          {
            ...current,
            spec: {
              ...current.spec,
              holderIdentity: identity,
              leaseDurationSeconds,
              renewTime: wallNow,
              acquireTime: keepsHolder ? (current.spec?.acquireTime ?? wallNow) : wallNow,
              leaseTransitions: (current.spec?.leaseTransitions ?? 0) + (keepsHolder ? 0 : 1),
            },
          },
          { signal },
        );
        if (updated.ok) {
          this.observe(updated.lease);
          return true;
        }
        // Our cached copy was stale (or someone else won): read once and judge again.
        const reread = await leases.get(leaseName, { signal });
        if (!reread) return false;
        this.observe(reread);
        current = reread;
      }
      return false;
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'lease read/write failed');
      return false;
    }
  }

  private observe(lease: V1Lease): void {
    const previous = this.observed;
    if (previous?.metadata?.resourceVersion === lease.metadata?.resourceVersion && previous) return;
    this.observed = lease;
    this.observedAt = this.now();
    const previousHolder = previous?.spec?.holderIdentity ?? '';
    const holder = lease.spec?.holderIdentity ?? '';
    if (!previous || previousHolder !== holder) {
      this.logger.debug({ holder }, 'observed lease holder');
      const onNewLeader = this.options.onNewLeader;
      if (onNewLeader) this.callback(() => onNewLeader(holder));
    }
  }

  /** Expired on our clock: no change seen for the holder's own leaseDurationSeconds. */
  private observedExpired(): boolean {
    const seconds = this.observed?.spec?.leaseDurationSeconds;
    const durationMs = seconds !== undefined ? seconds * 1000 : this.leaseDurationMs;
    return this.now() - this.observedAt > durationMs;
  }

  private async release(): Promise<void> {
    const current = this.observed;
    if (!current || current.spec?.holderIdentity !== this.options.identity) return;
    const wallNow = new Date();
    try {
      const result = await this.options.leases.update({
        ...current,
        spec: {
          ...current.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: wallNow,
          acquireTime: wallNow,
        },
      });
      if (result.ok) this.observe(result.lease);
      else this.logger.info({ reason: result.reason }, 'lease changed before release; nothing to release');
    } catch (err) {
      this.logger.warn(
        { err: describeError(err) },
        'could not release the lease; the standby takes over after leaseDuration',
      );
    }
  }

  private stepDown(why: string): void {
    this.leading = false;
    this.logger.info({ why }, 'stopped leading');
    this.callback(this.options.onStoppedLeading);
  }

  private callback(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error({ err: describeError(err) }, 'leader election callback threw');
    }
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.wakeUp.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        cancel();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const cancel = this.scheduler.setTimer(ms, done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
