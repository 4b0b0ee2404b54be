import type { KubernetesObject } from '@kubernetes/client-node';
import { silentLogger, type Logger } from '../log/logger.js';
import type { KubeClient } from './client.js';
import { KubeHttpError, describeError, isGone } from './errors.js';
import { getJson, streamWatch, type WatchEvent } from './http.js';

/** What to list and watch, and how to turn a wire object into T. */
export interface ResourceKind<T extends KubernetesObject> {
  /** Plural name, for logs. */
  resource: string;
  /** Collection path, e.g. `/api/v1/services` or `/apis/coordination.k8s.io/v1/namespaces/x/leases`. */
  path: string;
  decode: (raw: unknown) => T;
}

export interface InformerHandlers<T> {
  onAdd?: (obj: T) => void;
  onUpdate?: (obj: T, old: T) => void;
  onDelete?: (obj: T) => void;
  /** Once, after the first full list has been delivered as onAdd calls. */
  onSynced?: () => void;
}

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
}

export interface InformerOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per list page (limit/continue). */
  pageSize?: number;
  /** Server-side watch timeout; each watch picks a value in [t, 2t) like client-go, so reconnects spread out. */
  watchTimeoutSeconds?: number;
  /** A watch silent for this long is treated as dropped (half-open TCP never errors on its own). */
  idleTimeoutMs?: number;
  backoff?: BackoffOptions;
  logger?: Logger;
}

const DEFAULT_PAGE_SIZE = 500;
const DEFAULT_WATCH_TIMEOUT_SECONDS = 300;
const DEFAULT_BACKOFF_INITIAL_MS = 500;
const DEFAULT_BACKOFF_MAX_MS = 30_000;
/**
 * Backoff for the watches an ownership decision waits on (Leases, Services): a
 * healthy API server is never ignored for longer than this after a failure.
 */
export const PROMPT_BACKOFF: Required<BackoffOptions> = { initialMs: 500, maxMs: 4000 };
/** A watch that stayed open this long was healthy, even if the resource was quiet. */
const HEALTHY_WATCH_MS = 1000;

interface ListPage {
  items: unknown[];
  resourceVersion: string;
  continueToken?: string;
}

function objectKey(obj: KubernetesObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

function resourceVersionOf(raw: unknown): string | undefined {
  if (!raw || typeof raw !== 'object' || !('metadata' in raw)) return undefined;
  const metadata: unknown = raw.metadata;
  if (!metadata || typeof metadata !== 'object' || !('resourceVersion' in metadata)) return undefined;
  return typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : undefined;
}

function parseListPage(raw: unknown, path: string): ListPage {
  if (!raw || typeof raw !== 'object' || !('items' in raw) || !Array.isArray(raw.items)) {
    throw new Error(`list of ${path} returned no items array`);
  }
  const metadata: unknown = 'metadata' in raw ? raw.metadata : undefined;
  let resourceVersion = '';
  let continueToken: string | undefined;
  if (metadata && typeof metadata === 'object') {
    if ('resourceVersion' in metadata && typeof metadata.resourceVersion === 'string')
      resourceVersion = metadata.resourceVersion;
    if ('continue' in metadata && typeof metadata.continue === 'string' && metadata.continue)
      continueToken = metadata.continue;
  }
  return { items: raw.items as unknown[], resourceVersion, continueToken };
}

/** A Status object sent as a watch ERROR event, turned into an error (410 means relist). */
function watchErrorFromStatus(object: unknown): KubeHttpError {
  let code = 500;
  let message = 'watch error';
  let reason: string | undefined;
  if (object && typeof object === 'object') {
    if ('code' in object && typeof object.code === 'number') code = object.code;
    if ('message' in object && typeof object.message === 'string') message = object.message;
    if ('reason' in object && typeof object.reason === 'string') reason = object.reason;
  }
  return new KubeHttpError(code, `watch ERROR ${code}: ${message}`, reason);
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * A list+watch cache of one resource (a reflector). Lists once, then watches
 * from the list's resourceVersion; after a dropped watch it resumes from the
 * last resourceVersion it saw (bookmarks included), after 410 Gone it relists
 * and reports the difference as add/update/delete, and on errors it retries
 * with exponential backoff (never a busy loop during an outage).
 */
export class Informer<T extends KubernetesObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers = new Set<InformerHandlers<T>>();
  private readonly syncWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private readonly logger: Logger;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private resourceVersion = '';
  private synced = false;
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly kind: ResourceKind<T>,
    private readonly options: InformerOptions = {},
  ) {
    this.logger = (options.logger ?? silentLogger()).child({ informer: kind.resource });
  }

  /**
   * Registers handlers; returns the function that removes them. Registered
   * after sync, the handlers first get every cached object as onAdd, then onSynced.
   */
  on(handlers: InformerHandlers<T>): () => void {
    this.handlers.add(handlers);
    if (this.synced) {
      for (const obj of this.store.values()) this.call(() => handlers.onAdd?.(obj));
      this.call(() => handlers.onSynced?.());
    }
    return () => this.handlers.delete(handlers);
  }

  start(): void {
    if (this.stopped) throw new Error(`informer for ${this.kind.resource} was stopped; create a new one`);
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.running;
    const waiters = this.syncWaiters.splice(0);
    for (const waiter of waiters)
      waiter.reject(new Error(`informer for ${this.kind.resource} stopped before its first list`));
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves after the first full list; rejects if the informer is stopped first. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error(`informer for ${this.kind.resource} is stopped`));
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  /** The cached objects (shared with every handler: read them, do not change them). */
  list(namespace?: string): T[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((obj) => (obj.metadata?.namespace ?? '') === namespace);
  }

  /** Cluster-scoped objects have namespace ''. */
  get(namespace: string, name: string): T | undefined {
    return this.store.get(`${namespace}/${name}`);
  }

  /** The last resourceVersion seen (list, event or bookmark); '' before the first list. */
  lastResourceVersion(): string {
    return this.resourceVersion;
  }

  private async run(): Promise<void> {
    const initialMs = this.options.backoff?.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS;
    const maxMs = this.options.backoff?.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
    let backoffMs = initialMs;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const watch = { startedAt: 0, delivered: 0 };
      // A watch that worked for a while proves the API server healthy again: the
      // failure that ended it starts a fresh backoff, not the one left over from
      // an earlier outage (which would ignore a healthy server for up to maxMs).
      const watchWasHealthy = () =>
        watch.startedAt > 0 && (watch.delivered > 0 || performance.now() - watch.startedAt >= HEALTHY_WATCH_MS);
      try {
        if (!this.resourceVersion) await this.relist();
        watch.startedAt = performance.now();
        await this.watchOnce(() => (watch.delivered += 1));
        // A clean end (the server's timeout) is normal: reconnect at once. Only
        // a watch that ends empty right away would loop, so that one backs off.
        if (watchWasHealthy()) {
          backoffMs = initialMs;
          continue;
        }
        this.logger.debug('watch ended at once without events');
      } catch (err) {
        if (watchWasHealthy()) backoffMs = initialMs;
        if (signal.aborted) break;
        if (isGone(err)) {
          this.logger.info({ resourceVersion: this.resourceVersion }, 'resourceVersion too old (410 Gone): relisting');
          const hadVersion = this.resourceVersion !== '';
          this.resourceVersion = '';
          if (hadVersion) continue; // A 410 right after a fresh list is not normal: back off below.
        } else {
          this.logger.warn({ err: describeError(err), retryInMs: backoffMs }, 'list/watch failed');
        }
      }
      // Full jitter on the upper half keeps many informers from retrying in step.
      await sleep(backoffMs / 2 + Math.random() * (backoffMs / 2), signal);
      backoffMs = Math.min(backoffMs * 2, maxMs);
    }
  }

  private async relist(): Promise<void> {
    const raw: unknown[] = [];
    let resourceVersion = '';
    let continueToken: string | undefined;
    do {
      const page = parseListPage(
        await getJson(
          this.client,
          this.kind.path,
          {
            labelSelector: this.options.labelSelector,
            fieldSelector: this.options.fieldSelector,
            limit: this.options.pageSize ?? DEFAULT_PAGE_SIZE,
            continue: continueToken,
          },
          this.abort.signal,
        ),
        this.kind.path,
      );
      raw.push(...page.items);
      resourceVersion = page.resourceVersion;
      continueToken = page.continueToken;
    } while (continueToken);
    this.replace(raw.map((item) => this.kind.decode(item)));
    this.resourceVersion = resourceVersion;
    this.logger.debug({ items: raw.length, resourceVersion }, 'listed');
    if (!this.synced) {
      this.synced = true;
      for (const handlers of [...this.handlers]) this.call(() => handlers.onSynced?.());
      for (const waiter of this.syncWaiters.splice(0)) waiter.resolve();
    }
  }

  /** Swaps in a fresh list and reports what changed since the previous one. */
  private replace(items: T[]): void {
    const previous = new Map(this.store);
    this.store.clear();
    for (const obj of items) this.store.set(objectKey(obj), obj);
    for (const [key, obj] of this.store) {
      const old = previous.get(key);
      if (!old) this.emitAdd(obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emitUpdate(obj, old);
    }
    for (const [key, old] of previous) if (!this.store.has(key)) this.emitDelete(old);
  }

  /** Watches until the stream ends; `onNews` runs for every event that carried news. */
  private async watchOnce(onNews: () => void): Promise<void> {
    const baseTimeout = this.options.watchTimeoutSeconds ?? DEFAULT_WATCH_TIMEOUT_SECONDS;
    const timeoutSeconds = Math.max(1, Math.floor(baseTimeout * (1 + Math.random())));
    await streamWatch(
      this.client,
      this.kind.path,
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
        labelSelector: this.options.labelSelector,
        fieldSelector: this.options.fieldSelector,
      },
      (event) => {
        if (this.applyEvent(event)) onNews();
      },
      { signal: this.abort.signal, idleTimeoutMs: this.options.idleTimeoutMs ?? (timeoutSeconds + 30) * 1000 },
    );
  }

  /** Returns true for an event that carried news (bookmarks count: they prove the stream is alive). */
  private applyEvent(event: WatchEvent): boolean {
    if (event.type === 'ERROR') throw watchErrorFromStatus(event.object);
    const resourceVersion = resourceVersionOf(event.object);
    if (event.type === 'BOOKMARK') {
      if (resourceVersion) this.resourceVersion = resourceVersion;
      return true;
    }
    const obj = this.kind.decode(event.object);
    const key = objectKey(obj);
    const old = this.store.get(key);
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.store.set(key, obj);
        if (old) this.emitUpdate(obj, old);
        else this.emitAdd(obj);
        break;
      case 'DELETED':
        this.store.delete(key);
        this.emitDelete(old ?? obj);
        break;
      default:
        this.logger.warn({ type: event.type }, 'unknown watch event type');
        return false;
    }
    if (resourceVersion) this.resourceVersion = resourceVersion;
    return true;
  }

  private emitAdd(obj: T): void {
    for (const handlers of [...this.handlers]) this.call(() => handlers.onAdd?.(obj));
  }

  private emitUpdate(obj: T, old: T): void {
    for (const handlers of [...this.handlers]) this.call(() => handlers.onUpdate?.(obj, old));
  }

  private emitDelete(obj: T): void {
    for (const handlers of [...this.handlers]) this.call(() => handlers.onDelete?.(obj));
  }

  /** A throwing handler is logged, never allowed to kill the reflector. */
  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error({ err: describeError(err) }, 'informer handler threw');
    }
  }
}

export function createInformer<T extends KubernetesObject>(
  client: KubeClient,
  kind: ResourceKind<T>,
  options?: InformerOptions,
): Informer<T> {
  return new Informer(client, kind, options);
}
