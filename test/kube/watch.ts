// Watch streams: events since a resourceVersion (410 Expired when history no
// longer covers it), selector-aware ADDED/DELETED translation, bookmarks.
import type { ServerResponse } from 'node:http';
import type { JsonObject } from './patch.js';
import { apiVersionOf, type ResourceType } from './resources.js';
import { matchesFields, matchesLabels, type FieldSelector, type LabelSelector } from './selectors.js';
import { ApiError, badRequest } from './status.js';
import { metadataOf, type StoredEvent, type Store } from './store.js';

export interface WatchRequest {
  resource: ResourceType;
  namespace?: string;
  labels: LabelSelector;
  fields: FieldSelector;
  resourceVersion?: string;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
}

export interface WatchOptions {
  bookmarkIntervalMs: number;
  /** Shapes an object for the wire (kind and apiVersion set). */
  present(resource: ResourceType, object: JsonObject): JsonObject;
}

export class Watches {
  private readonly open = new Set<ServerResponse>();

  constructor(
    private readonly store: Store,
    private readonly options: WatchOptions,
  ) {}

  get count(): number {
    return this.open.size;
  }

  /** Network-failure style: the sockets are destroyed, not ended cleanly. */
  dropAll(): number {
    const dropped = this.open.size;
    for (const response of this.open) response.socket?.destroy();
    this.open.clear();
    return dropped;
  }

  /** Ends watches cleanly, as the server does when shutting down. */
  endAll(): void {
    for (const response of this.open) response.end();
    this.open.clear();
  }

  start(request: WatchRequest, response: ServerResponse): void {
    const { resource } = request;
    const matches = (object: JsonObject | undefined): boolean => {
      if (!object) return false;
      const meta = metadataOf(object);
      if (request.namespace !== undefined && meta.namespace !== request.namespace) return false;
      return (
        matchesLabels(request.labels, meta.labels as Record<string, string> | undefined) &&
        matchesFields(request.fields, object)
      );
    };

    let backlog: Array<{ type: string; object: JsonObject }>;
    let expired: ApiError | undefined;
    const rv = request.resourceVersion;
    if (rv === undefined || rv === '' || rv === '0') {
      // "Start at most recent": synthetic ADDED for what exists now.
      backlog = this.store
        .list(resource, request.namespace)
        .filter(matches)
        .map((object) => ({ type: 'ADDED', object }));
    } else {
      if (!/^[0-9]+$/.test(rv)) throw badRequest(`resourceVersion: Invalid value: "${rv}": must be a decimal number`);
      const events = this.store.eventsSince(resource, Number(rv));
      if (events === undefined) {
        expired = new ApiError(
          410,
          'Expired',
          `too old resource version: ${rv} (${this.store.oldestWatchable(resource)})`,
        );
        backlog = [];
      } else {
        backlog = events
          .map((e) => translate(e, matches))
          .filter((e): e is { type: string; object: JsonObject } => e !== undefined);
      }
    }

    response.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache, private',
    });
    // Headers go out at once: clients wait for them before reading events.
    response.flushHeaders();
    const send = (type: string, object: JsonObject): void => {
      response.write(`${JSON.stringify({ type, object })}\n`);
    };
    if (expired) {
      // The real watch cache answers 200 and then one ERROR event with the Status.
      send('ERROR', expired.toStatus() as unknown as JsonObject);
      response.end();
      return;
    }
    this.open.add(response);
    for (const e of backlog) send(e.type, this.options.present(resource, e.object));

    const unsubscribe = this.store.subscribe((event) => {
      if (event.resource.id !== resource.id) return;
      const out = translate(event, matches);
      if (out) send(out.type, this.options.present(resource, out.object));
    });
    const timers: NodeJS.Timeout[] = [];
    if (request.allowBookmarks) {
      timers.push(
        setInterval(() => {
          const bookmark = {
            kind: resource.kind,
            apiVersion: apiVersionOf(resource),
            metadata: { resourceVersion: String(this.store.currentRevision) },
          };
          send('BOOKMARK', bookmark);
        }, this.options.bookmarkIntervalMs),
      );
    }
    if (request.timeoutSeconds !== undefined && request.timeoutSeconds > 0) {
      timers.push(setTimeout(() => response.end(), request.timeoutSeconds * 1000));
    }
    const cleanup = (): void => {
      unsubscribe();
      for (const timer of timers) clearTimeout(timer);
      this.open.delete(response);
    };
    response.on('close', cleanup);
    response.on('finish', cleanup);
  }
}

/** What a watcher with a selector sees: leaving the selection is a DELETED. */
function translate(
  event: StoredEvent,
  matches: (o: JsonObject | undefined) => boolean,
): { type: string; object: JsonObject } | undefined {
  const now = event.type === 'DELETED' ? false : matches(event.object);
  const before = event.type === 'ADDED' ? false : matches(event.previous);
  if (event.type === 'DELETED') return before ? { type: 'DELETED', object: event.object } : undefined;
  if (now && before) return { type: 'MODIFIED', object: event.object };
  if (now) return { type: 'ADDED', object: event.object };
  if (before) return { type: 'DELETED', object: event.object };
  return undefined;
}
