import { describe, expect, it } from 'vitest';
import { realScheduler } from '../../../src/clock/scheduler.js';
import { VirtualScheduler } from '../../../src/clock/virtual.js';

describe('VirtualScheduler', () => {
  it('fires timers in due order, ties in creation order, each at its due time', () => {
    const clock = new VirtualScheduler(100);
    const seen: Array<[string, number]> = [];
    clock.setTimer(30, () => seen.push(['c', clock.now()]));
    clock.setTimer(10, () => seen.push(['a', clock.now()]));
    clock.setTimer(10, () => seen.push(['b', clock.now()]));
    clock.setTimer(-5, () => seen.push(['now', clock.now()]));
    clock.advance(20);
    expect(seen).toEqual([
      ['now', 100],
      ['a', 110],
      ['b', 110],
    ]);
    expect(clock.now()).toBe(120);
    clock.advance(10);
    expect(seen.at(-1)).toEqual(['c', 130]);
  });

  it('runs timers that timers create, when they fall due within the advance', () => {
    const clock = new VirtualScheduler();
    const at: number[] = [];
    const tick = () => {
      at.push(clock.now());
      clock.setTimer(100, tick);
    };
    clock.setTimer(100, tick);
    clock.advance(350);
    expect(at).toEqual([100, 200, 300]);
    expect(clock.pending()).toBe(1);
  });

  it('never fires a cancelled timer; cancelling twice or after firing is harmless', () => {
    const clock = new VirtualScheduler();
    let fired = 0;
    const cancel = clock.setTimer(5, () => fired++);
    cancel();
    cancel();
    const other = clock.setTimer(5, () => fired++);
    clock.advance(10);
    other();
    expect(fired).toBe(1);
    expect(clock.pending()).toBe(0);
  });

  it('keeps order across many timers (heap)', () => {
    const clock = new VirtualScheduler();
    const order: number[] = [];
    const delays = Array.from({ length: 2000 }, (_, i) => (i * 7919) % 1000);
    for (const d of delays) clock.setTimer(d, () => order.push(clock.now()));
    clock.advance(1000);
    expect(order).toEqual([...delays].sort((a, b) => a - b));
  });

  it('runUntilDone stops as soon as the condition holds, or at the limit', () => {
    const clock = new VirtualScheduler();
    let n = 0;
    for (let i = 1; i <= 10; i++) clock.setTimer(i * 10, () => n++);
    expect(clock.runUntilDone(() => n === 3, 1000)).toBe(true);
    expect(clock.now()).toBe(30);
    expect(clock.runUntilDone(() => n === 100, 50)).toBe(false);
    expect(clock.now()).toBe(80);
  });

  it('refuses to run backwards or by a non-number', () => {
    const clock = new VirtualScheduler(10);
    expect(() => clock.advance(-1)).toThrow(/cannot advance/);
    expect(() => clock.advance(Number.NaN)).toThrow(/cannot advance/);
    expect(() => clock.runUntil(5)).toThrow(/back/);
    expect(() => clock.setTimer(Number.NaN, () => undefined)).toThrow(/NaN/);
    expect(() => new VirtualScheduler(Number.POSITIVE_INFINITY)).toThrow(/finite/);
  });
});

describe('realScheduler', () => {
  it('fires a timer and can cancel one', async () => {
    const clock = realScheduler();
    const start = clock.now();
    let firedAfterCancel = false;
    clock.setTimer(1, () => {
      firedAfterCancel = true;
    })();
    const firedAt = await new Promise<number>((resolve) => clock.setTimer(2, () => resolve(clock.now())));
    expect(firedAt).toBeGreaterThanOrEqual(start);
    expect(firedAfterCancel).toBe(false);
  });
});
