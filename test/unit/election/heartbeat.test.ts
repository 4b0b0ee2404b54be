import { afterEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat } from '../../../src/election/heartbeat.js';
import { nodeLeaseName } from '../../../src/api/leases.js';
import type { LeaseContent, LeaseRecord, LeaseStore } from '../../../src/election/boundaries.js';

/** A lease store whose updates finish only when the test says so. */
function slowStore() {
  const pending: Array<() => void> = [];
  let version = 0;
  const record = (name: string, content: LeaseContent): LeaseRecord => ({
    name,
    holderIdentity: content.holderIdentity,
    resourceVersion: String(++version),
    annotations: content.annotations,
  });
  const later = <T>(value: () => T) => new Promise<T>((resolve) => pending.push(() => resolve(value())));
  const store: LeaseStore = {
    get: () => Promise.resolve(undefined),
    listHeartbeats: () => Promise.resolve([]),
    create: (name, content) => later(() => record(name, content)),
    update: (name, _rv, content) => later(() => record(name, content)),
    delete: () => Promise.resolve(),
    watch: () => ({ stop: () => undefined }),
  };
  return { store, pending, writes: () => version };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Heartbeat.renewNow', () => {
  it('renews at once instead of at the next beat, and right after a renewal still in flight', async () => {
    vi.useFakeTimers();
    const { store, pending, writes } = slowStore();
    const heartbeat = new Heartbeat({
      store,
      leaseName: nodeLeaseName('a'),
      node: 'a',
      intervalMs: 1000,
      leaseDurationMs: 3000,
      annotations: () => ({}),
      onResult: () => undefined,
    });
    heartbeat.start();
    await vi.advanceTimersByTimeAsync(0); // the first renewal reads the Lease, then creates it
    expect(pending).toHaveLength(1);
    pending.shift()?.();
    await vi.advanceTimersByTimeAsync(10);
    expect(writes()).toBe(1);
    // Mid-interval: renewNow does not wait for the beat.
    heartbeat.renewNow();
    expect(pending).toHaveLength(1);
    // Asked again while that renewal hangs: it follows as soon as the first ends, not a beat later.
    heartbeat.renewNow();
    expect(pending).toHaveLength(1);
    pending.shift()?.();
    await vi.advanceTimersByTimeAsync(1);
    expect(pending).toHaveLength(1);
    pending.shift()?.();
    await vi.advanceTimersByTimeAsync(999);
    expect(pending).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2);
    expect(pending).toHaveLength(1);
    pending.shift()?.();
    await heartbeat.stop();
    heartbeat.renewNow();
    expect(pending).toHaveLength(0);
  });
});
