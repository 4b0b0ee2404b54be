import { PatchStrategy, type CoreV1Event } from '@kubernetes/client-node';
import { silentLogger, type Logger } from '../log/logger.js';
import { callOptions, type KubeClient } from './client.js';
import { describeError, isNotFound } from './errors.js';

export type EventType = 'Normal' | 'Warning';

/** The object an event is about (Service, IPAddressPool, Node, ...). */
export interface EventObjectRef {
  kind: string;
  name: string;
  /** Omitted for cluster-scoped objects; their events go to `default`. */
  namespace?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
}

export interface EventRecorderOptions {
  /** `source.component` and `reportingComponent`, e.g. `ironlb-controller`. */
  component: string;
  /** `source.host` and `reportingInstance` (node or pod name). */
  host?: string;
  /** Repeats of the same event within this window update one Event's count (default 10 min). */
  aggregationWindowMs?: number;
  /**
   * At most one write per distinct event in this interval; repeats in between are folded into the count (default 1 s).
   */
  minWriteIntervalMs?: number;
  /** New distinct events per object: burst, then one per refillIntervalMs (client-go: 25, 5 min). */
  burstPerObject?: number;
  refillIntervalMs?: number;
  /** Bound on remembered events (oldest forgotten first). */
  maxTrackedEvents?: number;
  logger?: Logger;
  /** Wall clock, ms since epoch; injectable for tests. */
  now?: () => number;
}

interface TrackedEvent {
  ref: EventObjectRef;
  type: EventType;
  reason: string;
  message: string;
  namespace: string;
  /** Set once the Event exists on the server. */
  name?: string;
  firstSeenMs: number;
  lastSeenMs: number;
  count: number;
  writtenCount: number;
  /** performance.now() of the last write. */
  lastWriteMs: number;
  timer?: NodeJS.Timeout;
  writing?: Promise<void>;
}

interface TokenBucket {
  tokens: number;
  updatedMs: number;
}

const MAX_MESSAGE_LENGTH = 1024;
const OBJECT_KEY_SEPARATOR = '\u0000';

/**
 * Writes core/v1 Events. Repeats of an identical event (same object, type,
 * reason, message) within the aggregation window become one Event with a
 * growing `count`, written at most once per minWriteInterval; a per-object
 * token bucket drops floods of distinct events. A hot loop therefore costs a
 * bounded number of API writes. Recording never throws on API errors (logged).
 */
export class EventRecorder {
  private readonly tracked = new Map<string, TrackedEvent>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly minWriteIntervalMs: number;
  private readonly burst: number;
  private readonly refillIntervalMs: number;
  private readonly maxTracked: number;
  private nameCounter = 0;
  private dropped = 0;
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly options: EventRecorderOptions,
  ) {
    if (!options.component) throw new Error('EventRecorder: component is empty');
    this.logger = (options.logger ?? silentLogger()).child({ events: options.component });
    this.now = options.now ?? Date.now;
    this.windowMs = options.aggregationWindowMs ?? 10 * 60_000;
    this.minWriteIntervalMs = options.minWriteIntervalMs ?? 1000;
    this.burst = options.burstPerObject ?? 25;
    this.refillIntervalMs = options.refillIntervalMs ?? 5 * 60_000;
    this.maxTracked = options.maxTrackedEvents ?? 4096;
  }

  /** Events dropped by the per-object spam filter since start. */
  droppedCount(): number {
    return this.dropped;
  }

  record(ref: EventObjectRef, type: EventType, reason: string, message: string): void {
    if (this.stopped) return;
    if (!ref.kind || !ref.name)
      throw new Error(`event object reference needs kind and name, got ${JSON.stringify(ref)}`);
    if (type !== 'Normal' && type !== 'Warning')
      throw new Error(`event type must be Normal or Warning, got ${String(type)}`);
    if (!reason) throw new Error('event reason is empty');
    const text = message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 3)}...` : message;
    const nowMs = this.now();
    const objectKey = [ref.kind, ref.namespace ?? '', ref.name, ref.uid ?? ''].join(OBJECT_KEY_SEPARATOR);
    const key = [objectKey, type, reason, text].join(OBJECT_KEY_SEPARATOR);
    const existing = this.tracked.get(key);
    if (existing && nowMs - existing.firstSeenMs <= this.windowMs) {
      existing.count += 1;
      existing.lastSeenMs = nowMs;
      this.schedule(existing);
      return;
    }
    if (!this.takeToken(objectKey, nowMs)) {
      this.dropped += 1;
      this.logger.debug({ kind: ref.kind, name: ref.name, reason }, 'event dropped by spam filter');
      return;
    }
    if (existing) this.forget(key, existing);
    const entry: TrackedEvent = {
      ref,
      type,
      reason,
      message: text,
      namespace: ref.namespace || 'default',
      firstSeenMs: nowMs,
      lastSeenMs: nowMs,
      count: 1,
      writtenCount: 0,
      lastWriteMs: Number.NEGATIVE_INFINITY,
    };
    this.tracked.set(key, entry);
    this.evictOldest();
    this.schedule(entry);
  }

  /** Writes everything pending now (ignoring the write interval) and waits for it. */
  async flush(): Promise<void> {
    for (const entry of this.tracked.values()) {
      if (entry.timer) {
        clearTimeout(entry.timer);
        entry.timer = undefined;
      }
      if (entry.writing !== undefined) await entry.writing;
      if (entry.count > entry.writtenCount) await this.write(entry);
    }
  }

  /** Flushes and stops all timers. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.flush();
  }

  private takeToken(objectKey: string, nowMs: number): boolean {
    const bucket = this.buckets.get(objectKey) ?? { tokens: this.burst, updatedMs: nowMs };
    const refilled = Math.floor((nowMs - bucket.updatedMs) / this.refillIntervalMs);
    if (refilled > 0) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + refilled);
      bucket.updatedMs += refilled * this.refillIntervalMs;
    }
    this.buckets.delete(objectKey); // re-insert: Map order doubles as least-recently-used order
    this.buckets.set(objectKey, bucket);
    if (this.buckets.size > this.maxTracked) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private evictOldest(): void {
    for (const [key, entry] of this.tracked) {
      if (this.tracked.size <= this.maxTracked) return;
      if (!entry.timer && !entry.writing) this.forget(key, entry);
    }
  }

  private forget(key: string, entry: TrackedEvent): void {
    if (entry.timer) clearTimeout(entry.timer);
    this.tracked.delete(key);
  }

  private schedule(entry: TrackedEvent): void {
    if (entry.timer || entry.writing) return; // the write in flight reschedules when done
    // Throttled on the monotonic clock: a wall-clock step must not stall or burst writes.
    const delay = Math.max(0, Math.ceil(entry.lastWriteMs + this.minWriteIntervalMs - performance.now()));
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      void this.write(entry);
    }, delay);
  }

  private write(entry: TrackedEvent): Promise<void> {
    const writing = this.send(entry).finally(() => {
      entry.writing = undefined;
      if (!this.stopped && entry.count > entry.writtenCount) this.schedule(entry);
    });
    entry.writing = writing;
    return writing;
  }

  private async send(entry: TrackedEvent): Promise<void> {
    const count = entry.count;
    const lastTimestamp = new Date(entry.lastSeenMs);
    entry.lastWriteMs = performance.now();
    try {
      if (entry.name) {
        try {
          await this.client.core.patchNamespacedEvent(
            {
              namespace: entry.namespace,
              name: entry.name,
              body: { count, lastTimestamp: lastTimestamp.toISOString() },
            },
            callOptions({ contentType: PatchStrategy.MergePatch }),
          );
          entry.writtenCount = count;
          return;
        } catch (err) {
          if (!isNotFound(err)) throw err;
          entry.name = undefined; // expired on the server (event TTL): start a new one
        }
      }
      // Like client-go: <object>.<unique hex>, kept within the 253 characters of a name.
      const suffix = (BigInt(entry.firstSeenMs) * 1_000_000n + BigInt(this.nameCounter++ % 1_000_000)).toString(16);
      const name = `${entry.ref.name.slice(0, 252 - suffix.length)}.${suffix}`;
      const body: CoreV1Event = {
        metadata: { name, namespace: entry.namespace },
        involvedObject: {
          kind: entry.ref.kind,
          name: entry.ref.name,
          namespace: entry.ref.namespace,
          uid: entry.ref.uid,
          apiVersion: entry.ref.apiVersion,
          resourceVersion: entry.ref.resourceVersion,
        },
        type: entry.type,
        reason: entry.reason,
        message: entry.message,
        source: { component: this.options.component, host: this.options.host },
        reportingComponent: this.options.component,
        reportingInstance: this.options.host ?? this.options.component,
        firstTimestamp: new Date(entry.firstSeenMs),
        lastTimestamp,
        count,
      };
      await this.client.core.createNamespacedEvent({ namespace: entry.namespace, body }, callOptions({}));
      entry.name = name;
      entry.writtenCount = count;
    } catch (err) {
      // Events are best effort: a lost one must not stop the caller.
      entry.writtenCount = count;
      this.logger.warn(
        { err: describeError(err), reason: entry.reason, object: entry.ref.name },
        'could not write event',
      );
    }
  }
}
