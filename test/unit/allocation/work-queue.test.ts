import { afterEach, describe, expect, it, vi } from 'vitest';
import { WorkQueue } from '../../../src/allocation/work-queue.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

afterEach(() => vi.useRealTimers());

describe('WorkQueue', () => {
  it('handles a key added many times while waiting once', async () => {
    const seen: string[] = [];
    const gate = deferred();
    const q = new WorkQueue(
      async (key) => {
        seen.push(key);
        await gate.promise;
      },
      { concurrency: 1 },
    );
    q.add('blocker');
    q.add('a');
    q.add('a');
    q.add('a');
    gate.resolve();
    await q.idle();
    expect(seen).toEqual(['blocker', 'a']);
  });

  it('never runs one key twice at once, and re-runs it when added meanwhile', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const gate = deferred();
    const q = new WorkQueue(
      async () => {
        active++;
        runs++;
        maxActive = Math.max(maxActive, active);
        if (runs === 1) await gate.promise;
        active--;
      },
      { concurrency: 4 },
    );
    q.add('k');
    q.add('k');
    gate.resolve();
    await q.idle();
    expect(runs).toBe(2);
    expect(maxActive).toBe(1);
  });

  it('runs different keys concurrently up to the limit', async () => {
    let active = 0;
    let maxActive = 0;
    const gates = Array.from({ length: 5 }, deferred);
    const q = new WorkQueue(
      async (key) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await gates[Number(key)].promise;
        active--;
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 5; i++) q.add(String(i));
    await Promise.resolve();
    expect(active).toBe(3);
    for (const g of gates) g.resolve();
    await q.idle();
    expect(maxActive).toBe(3);
  });

  it('retries a failing key with exponential backoff', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const delays: number[] = [];
    const q = new WorkQueue(
      async () => {
        calls++;
        if (calls < 3) throw new Error('boom');
      },
      {
        baseRetryMs: 100,
        onError: (_k, _e, d) => delays.push(d),
      },
    );
    q.add('k');
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toBe(3);
    expect(delays).toEqual([100, 200]);
    q.stop();
  });

  it('does nothing after stop and rejects a bad concurrency', async () => {
    const seen: string[] = [];
    const q = new WorkQueue(async (k) => {
      seen.push(k);
    });
    q.stop();
    q.add('x');
    await q.idle();
    expect(seen).toEqual([]);
    expect(() => new WorkQueue(async () => {}, { concurrency: 0 })).toThrow(/concurrency/);
  });
});
