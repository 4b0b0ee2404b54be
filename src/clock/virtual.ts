import type { CancelTimer, Scheduler } from './scheduler.js';

// A virtual clock: time stands still until a test or benchmark advances it, and
// timers then fire in order of due time (ties in order of creation), each
// seeing now() equal to its due time. A binary heap keeps this cheap with a
// hundred thousand pending timers (the 1000-speaker benchmark).

interface Entry {
  at: number;
  order: number;
  fn: (() => void) | undefined;
}

export class VirtualScheduler implements Scheduler {
  private time: number;
  private order = 0;
  private readonly heap: Entry[] = [];
  /** Timers run so far (the benchmark reports it as simulation work). */
  fired = 0;

  constructor(start = 0) {
    if (!Number.isFinite(start)) throw new Error(`virtual clock start must be a finite number, got ${start}`);
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): CancelTimer {
    if (Number.isNaN(ms)) throw new Error('timer delay is NaN');
    const entry: Entry = { at: this.time + Math.max(0, ms), order: this.order++, fn };
    this.push(entry);
    return () => {
      entry.fn = undefined;
    };
  }

  /** Pending (not cancelled, not fired) timers. */
  pending(): number {
    return this.heap.reduce((n, e) => n + (e.fn === undefined ? 0 : 1), 0);
  }

  /** Runs every timer due within `ms` from now, then sets the clock to now + ms. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`cannot advance a clock by ${ms} ms`);
    this.runUntil(this.time + ms);
  }

  /** Runs every timer due at or before `t` (timers they create included), then sets the clock to t. */
  runUntil(t: number): void {
    if (t < this.time) throw new Error(`cannot run the clock back from ${this.time} to ${t}`);
    while (this.fireNext(t));
    this.time = t;
  }

  /** Advances until `done()` holds (checked after each timer) or `limitMs` passes; returns whether it held. */
  runUntilDone(done: () => boolean, limitMs: number): boolean {
    const end = this.time + limitMs;
    while (!done()) {
      if (!this.fireNext(end)) {
        this.time = end;
        return done();
      }
    }
    return true;
  }

  /**
   * Takes the next timer due at or before `limit` off the heap and runs it (a cancelled one just goes); false when none
   * is due.
   */
  private fireNext(limit: number): boolean {
    const top = this.heap[0];
    if (top === undefined || top.at > limit) return false;
    this.pop();
    const fn = top.fn;
    if (fn === undefined) return true;
    top.fn = undefined;
    this.time = top.at;
    this.fired++;
    fn();
    return true;
  }

  private less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Entry;
      if (!this.less(entry, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && this.less(heap[r] as Entry, heap[l] as Entry) ? r : l;
      const c = heap[child] as Entry;
      if (!this.less(c, last)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
  }
}
