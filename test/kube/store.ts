// Object storage with one global, monotonically increasing resourceVersion, a
// watch cache per resource (as kube-apiserver's cacher: a bounded window of that
// resource's own events; a watch from before it gets 410 Expired), and live
// watchers notified of every change.
import { clone, type JsonObject } from './patch.js';
import type { ResourceType } from './resources.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  resourceVersion: number;
  resource: ResourceType;
  type: EventType;
  object: JsonObject;
  /** The object before the change, so selector watches can see it leave or enter. */
  previous?: JsonObject;
}

export type Listener = (event: StoredEvent) => void;

export function metadataOf(object: JsonObject): JsonObject {
  return object.metadata as JsonObject;
}

function keyOf(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export class Store {
  private revision: number;
  private readonly objects = new Map<string, Map<string, JsonObject>>();
  /** Per resource id: its recent events, oldest first. */
  private readonly history = new Map<string, StoredEvent[]>();
  /** Per resource id: a watch from below this revision is too old (410). */
  private readonly compactedThrough = new Map<string, number>();
  /**
   * Where a resource's window starts when it has dropped nothing yet: the store's start, or the last forced compaction.
   */
  private floor: number;
  private readonly listeners = new Set<Listener>();

  /** `historySize`: events kept per resource, like the real watch cache's capacity. */
  constructor(
    private readonly historySize: number,
    startRevision = 1000,
  ) {
    this.revision = startRevision;
    this.floor = startRevision;
  }

  get currentRevision(): number {
    return this.revision;
  }

  /** The oldest resourceVersion a watch of this resource may still start from. */
  oldestWatchable(resource: ResourceType): number {
    return this.compactedThrough.get(resource.id) ?? this.floor;
  }

  private table(resource: ResourceType): Map<string, JsonObject> {
    let table = this.objects.get(resource.id);
    if (!table) {
      table = new Map();
      this.objects.set(resource.id, table);
    }
    return table;
  }

  get(resource: ResourceType, namespace: string | undefined, name: string): JsonObject | undefined {
    const found = this.table(resource).get(keyOf(namespace, name));
    return found ? clone(found) : undefined;
  }

  /** Objects sorted by namespace then name, like etcd's key order. Shared snapshots: read, never mutate. */
  list(resource: ResourceType, namespace?: string): JsonObject[] {
    const items: JsonObject[] = [];
    const keys = [...this.table(resource).keys()].sort();
    for (const key of keys) {
      const object = this.table(resource).get(key) as JsonObject;
      if (namespace === undefined || metadataOf(object).namespace === namespace) items.push(object);
    }
    return items;
  }

  /** Stores the object under a new resourceVersion and tells watchers. */
  write(resource: ResourceType, object: JsonObject, type: 'ADDED' | 'MODIFIED'): JsonObject {
    const meta = metadataOf(object);
    const key = keyOf(meta.namespace as string | undefined, meta.name as string);
    const previous = this.table(resource).get(key);
    this.revision++;
    meta.resourceVersion = String(this.revision);
    // Stored snapshots are never mutated, so events may share them; callers get copies.
    const stored = clone(object);
    this.table(resource).set(key, stored);
    this.record({ resourceVersion: this.revision, resource, type, object: stored, previous });
    return clone(stored);
  }

  remove(resource: ResourceType, namespace: string | undefined, name: string): JsonObject | undefined {
    const key = keyOf(namespace, name);
    const previous = this.table(resource).get(key);
    if (!previous) return undefined;
    this.table(resource).delete(key);
    this.revision++;
    const deleted = clone(previous);
    metadataOf(deleted).resourceVersion = String(this.revision);
    this.record({ resourceVersion: this.revision, resource, type: 'DELETED', object: deleted, previous });
    return clone(deleted);
  }

  private record(event: StoredEvent): void {
    const id = event.resource.id;
    let events = this.history.get(id);
    if (!events) {
      events = [];
      this.history.set(id, events);
    }
    events.push(event);
    // Only this resource's own events age its window: other resources' writes do not.
    while (events.length > this.historySize) {
      const dropped = events.shift() as StoredEvent;
      this.compactedThrough.set(id, dropped.resourceVersion);
    }
    for (const listener of this.listeners) listener(event);
  }

  /** Events after `since` for one resource; undefined when its window no longer covers it. */
  eventsSince(resource: ResourceType, since: number): StoredEvent[] | undefined {
    if (since < this.oldestWatchable(resource)) return undefined;
    return (this.history.get(resource.id) ?? []).filter((e) => e.resourceVersion > since);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forces a compaction: a watch of any resource from before the current resourceVersion gets 410. */
  compact(): void {
    this.history.clear();
    this.compactedThrough.clear();
    this.floor = this.revision;
  }
}
