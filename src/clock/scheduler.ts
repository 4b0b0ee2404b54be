import { performance } from 'node:perf_hooks';

// One clock for every timed part of the speaker (failure detector, election
// runtime, heartbeat, leader election): a monotonic `now()` in milliseconds and
// one-shot timers. Code that takes a Scheduler runs unchanged on the virtual
// clock of ./virtual.ts, so tests and benchmarks never sleep.

/** Cancels a timer; calling it after the timer fired, or twice, does nothing. */
export type CancelTimer = () => void;

export interface Scheduler {
  /** Monotonic milliseconds (not wall-clock time: only differences mean anything). */
  now(): number;
  /** Runs `fn` once, `ms` milliseconds from now (a negative delay counts as 0). */
  setTimer(ms: number, fn: () => void): CancelTimer;
}

export interface RealSchedulerOptions {
  /** Timers do not keep the process alive (default true: a daemon stops on its signals, not on its timers). */
  unref?: boolean;
}

/** performance.now() and setTimeout. */
export function realScheduler(options: RealSchedulerOptions = {}): Scheduler {
  const unref = options.unref ?? true;
  return {
    now: () => performance.now(),
    setTimer(ms, fn) {
      const timer = setTimeout(fn, Math.max(0, ms));
      if (unref) timer.unref();
      return () => clearTimeout(timer);
    },
  };
}
