// A keyed work queue like client-go's: a key waiting is queued once however
// often it is added, a key is never handled twice at the same time (an add
// while it runs re-runs it afterwards), and a failed key is retried with
// exponential backoff. Different keys run concurrently up to `concurrency`.

export interface WorkQueueOptions {
  concurrency?: number;
  baseRetryMs?: number;
  maxRetryMs?: number;
  /** Called for each failure before the retry is scheduled. */
  onError?: (key: string, err: unknown, retryInMs: number) => void;
}

export class WorkQueue {
  private readonly waiting = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly idleWaiters: Array<() => void> = [];
  private stopped = false;
  private readonly concurrency: number;
  private readonly baseRetryMs: number;
  private readonly maxRetryMs: number;

  constructor(
    private readonly handle: (key: string) => Promise<void>,
    private readonly options: WorkQueueOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 16;
    this.baseRetryMs = options.baseRetryMs ?? 100;
    this.maxRetryMs = options.maxRetryMs ?? 30_000;
    if (!(this.concurrency >= 1)) throw new Error(`work queue concurrency must be >= 1, got ${this.concurrency}`);
  }

  add(key: string): void {
    if (this.stopped) return;
    const timer = this.timers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(key);
    }
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.waiting.add(key);
    this.pump();
  }

  /** Number of keys waiting, running or scheduled for a retry. */
  get size(): number {
    return new Set([...this.waiting, ...this.running, ...this.timers.keys()]).size;
  }

  /** Resolves once nothing waits or runs (scheduled retries do not count). */
  idle(): Promise<void> {
    if (this.waiting.size === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.waiting.clear();
    this.dirty.clear();
    this.notifyIdle();
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.concurrency && this.waiting.size > 0) {
      const key = this.waiting.values().next().value as string;
      this.waiting.delete(key);
      this.running.add(key);
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    try {
      await this.handle(key);
      this.failures.delete(key);
    } catch (err) {
      const attempts = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, attempts);
      const delay = Math.min(this.maxRetryMs, this.baseRetryMs * 2 ** (attempts - 1));
      this.options.onError?.(key, err, delay);
      if (!this.stopped && !this.dirty.has(key)) {
        this.timers.set(
          key,
          setTimeout(() => {
            this.timers.delete(key);
            this.add(key);
          }, delay),
        );
      }
    } finally {
      this.running.delete(key);
      if (this.dirty.delete(key)) this.waiting.add(key);
      this.pump();
      this.notifyIdle();
    }
  }

  private notifyIdle(): void {
    if (this.waiting.size > 0 || this.running.size > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
