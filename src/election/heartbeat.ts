import { realScheduler, type CancelTimer, type Scheduler } from '../clock/scheduler.js';
import { LeaseStoreError, type LeaseStore } from './boundaries.js';

// The speaker's heartbeat Lease `ironlb-node-<node>`: renewed every
// heartbeat-interval by a compare-and-swap update, so a second speaker
// started by mistake with the same node name cannot silently share it. The
// liveness of last resort (docs/election.md): no speaker watches it.

export interface HeartbeatOptions {
  store: LeaseStore;
  leaseName: string;
  node: string;
  intervalMs: number;
  leaseDurationMs: number;
  /** Annotations to publish (the MACs); read on every renewal. */
  annotations: () => Record<string, string>;
  /**
   * The pace now, when it varies (a small cluster renews faster: its peers
   * have no mesh quorum and judge it by this Lease). Default: the fixed one.
   */
  pace?: () => { intervalMs: number; leaseDurationMs: number };
  /** After every attempt: whether the Lease was written. */
  onResult: (ok: boolean, error?: Error) => void;
  onWrite?: () => void;
  /** Milliseconds a successful renewal took. */
  onLatency?: (ms: number) => void;
  /** Clock and timers (default: the real ones, timers keeping the process alive as before). */
  scheduler?: Scheduler;
}

const FAILED_RETRY_MS = 1000;

export class Heartbeat {
  private resourceVersion: string | undefined;
  private timer: CancelTimer | undefined;
  private readonly scheduler: Scheduler;
  private inFlight: Promise<void> | undefined;
  private running = false;
  private renewAgain = false;
  private failing = false;

  constructor(private readonly options: HeartbeatOptions) {
    this.scheduler = options.scheduler ?? realScheduler({ unref: false });
    if (!(options.intervalMs > 0)) throw new Error(`heartbeat interval must be > 0, got ${options.intervalMs}`);
    if (options.leaseDurationMs <= options.intervalMs) {
      throw new Error(
        `lease duration (${options.leaseDurationMs} ms) must exceed the heartbeat interval (${options.intervalMs} ms)`,
      );
    }
  }

  private pace(): { intervalMs: number; leaseDurationMs: number } {
    return (
      this.options.pace?.() ?? { intervalMs: this.options.intervalMs, leaseDurationMs: this.options.leaseDurationMs }
    );
  }

  /** The resourceVersion of our last successful renewal. */
  get lastVersion(): string | undefined {
    return this.resourceVersion;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  /** Stops renewing; waits for a renewal in flight. */
  async stop(): Promise<void> {
    this.running = false;
    this.timer?.();
    this.timer = undefined;
    await this.inFlight;
  }

  /** Deletes the node Lease so peers see this speaker gone at once (graceful shutdown). */
  async deleteLease(): Promise<void> {
    await this.stop();
    this.options.onWrite?.();
    await this.options.store.delete(this.options.leaseName, this.resourceVersion).catch(async (err: unknown) => {
      // Our version may be stale (a renewal raced the stop): delete unconditionally once.
      if (err instanceof LeaseStoreError && err.kind === 'conflict')
        return this.options.store.delete(this.options.leaseName);
      if (err instanceof LeaseStoreError && err.kind === 'not-found') return;
      throw err;
    });
  }

  /**
   * Renews now instead of at the next beat (the link just came back: a
   * renewal lost while it was down must not wait a whole interval more).
   * With a renewal in flight, the next one starts as soon as it ends.
   */
  renewNow(): void {
    if (!this.running) return;
    if (this.inFlight !== undefined) {
      this.renewAgain = true;
      return;
    }
    this.timer?.();
    this.timer = undefined;
    this.tick();
  }

  private tick(): void {
    if (!this.running) return;
    this.inFlight = this.renew().finally(() => {
      this.inFlight = undefined;
      const again = this.renewAgain;
      this.renewAgain = false;
      // After a failure, try again within a second: a slow interval must not hide the API's return.
      const { intervalMs } = this.pace();
      const next = again ? 0 : this.failing ? Math.min(intervalMs, FAILED_RETRY_MS) : intervalMs;
      if (this.running) this.timer = this.scheduler.setTimer(next, () => this.tick());
    });
  }

  private async renew(): Promise<void> {
    const { store, leaseName, node } = this.options;
    const content = {
      holderIdentity: node,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.pace().leaseDurationMs / 1000)),
      annotations: this.options.annotations(),
      renew: true,
    };
    const started = this.scheduler.now();
    try {
      this.options.onWrite?.();
      const written =
        this.resourceVersion === undefined
          ? await this.createOrAdopt(content)
          : await store.update(leaseName, this.resourceVersion, content);
      this.resourceVersion = written.resourceVersion;
      this.failing = false;
      this.options.onLatency?.(this.scheduler.now() - started);
      this.options.onResult(true);
    } catch (err) {
      // A 409 or 404 means our version is stale: read it again on the next beat.
      if (err instanceof LeaseStoreError && (err.kind === 'conflict' || err.kind === 'not-found'))
        this.resourceVersion = undefined;
      this.failing = true;
      this.options.onResult(false, err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async createOrAdopt(content: Parameters<LeaseStore['create']>[1]) {
    const { store, leaseName } = this.options;
    const existing = await store.get(leaseName);
    if (existing === undefined) return store.create(leaseName, content);
    return store.update(leaseName, existing.resourceVersion, content);
  }
}
