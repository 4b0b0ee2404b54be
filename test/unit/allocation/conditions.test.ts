import { describe, expect, it } from 'vitest';
import {
  CONDITION_ALLOCATED,
  CONDITION_ANNOUNCED,
  announcedCondition,
  conditionTime,
  mergeConditions,
  sameConditions,
  withoutControllerConditions,
  type OwnershipView,
  type ServiceCondition,
} from '../../../src/allocation/conditions.js';

const t0 = new Date('2026-01-01T10:00:00.123Z');
const t1 = new Date('2026-01-01T11:00:00.000Z');

describe('mergeConditions', () => {
  it('adds a new condition with the current time at second precision', () => {
    const out = mergeConditions(
      [],
      [{ type: CONDITION_ALLOCATED, status: 'True', reason: 'Allocated', message: 'm' }],
      t0,
    );
    expect(out).toEqual([
      {
        type: CONDITION_ALLOCATED,
        status: 'True',
        reason: 'Allocated',
        message: 'm',
        lastTransitionTime: '2026-01-01T10:00:00Z',
      },
    ]);
  });

  it('keeps the transition time when only the message changes, moves it when the status flips', () => {
    const first = mergeConditions(
      [],
      [{ type: CONDITION_ALLOCATED, status: 'False', reason: 'PoolExhausted', message: 'a' }],
      t0,
    );
    const same = mergeConditions(
      first,
      [{ type: CONDITION_ALLOCATED, status: 'False', reason: 'NoPool', message: 'b' }],
      t1,
    );
    expect(same[0].lastTransitionTime).toBe(conditionTime(t0));
    expect(same[0].reason).toBe('NoPool');
    const flipped = mergeConditions(
      same,
      [{ type: CONDITION_ALLOCATED, status: 'True', reason: 'Allocated', message: 'c' }],
      t1,
    );
    expect(flipped[0].lastTransitionTime).toBe(conditionTime(t1));
  });

  it('leaves conditions of other writers in place and in order', () => {
    const foreign: ServiceCondition = {
      type: 'example.com/Other',
      status: 'True',
      reason: 'X',
      message: 'y',
      lastTransitionTime: 'z',
    };
    const out = mergeConditions(
      [foreign],
      [{ type: CONDITION_ANNOUNCED, status: 'Unknown', reason: 'NotAllocated', message: '' }],
      t0,
    );
    expect(out[0]).toEqual(foreign);
    expect(out[1].type).toBe(CONDITION_ANNOUNCED);
    expect(withoutControllerConditions(out)).toEqual([foreign]);
  });
});

describe('sameConditions', () => {
  const base: ServiceCondition = { type: 'a', status: 'True', reason: 'R', message: 'm', lastTransitionTime: 't' };
  it('ignores the transition time', () => {
    expect(sameConditions([base], [{ ...base, lastTransitionTime: 'other' }])).toBe(true);
  });
  it('sees a change in any other field or in length', () => {
    expect(sameConditions([base], [{ ...base, message: 'n' }])).toBe(false);
    expect(sameConditions([base], [{ ...base, status: 'False' }])).toBe(false);
    expect(sameConditions([base], [{ ...base, reason: 'S' }])).toBe(false);
    expect(sameConditions([base], [base, base])).toBe(false);
  });
});

describe('announcedCondition', () => {
  const leases = new Map<string, OwnershipView>([
    ['192.0.2.10', { holder: 'node-b' }],
    ['192.0.2.11', { holder: '' }],
    ['192.0.2.12', { holder: 'node-a', conflict: 'MAC 02:00:00:00:00:09 on eth0' }],
    ['2001:db8::1', { holder: 'node-b' }],
  ]);
  const lookup = (ip: string) => leases.get(ip);

  it('is True naming the node when every IP is held', () => {
    const c = announcedCondition(['192.0.2.10', '2001:db8::1'], lookup);
    expect(c).toEqual({
      type: CONDITION_ANNOUNCED,
      status: 'True',
      reason: 'Announced',
      message: '192.0.2.10 announced by node-b; 2001:db8::1 announced by node-b',
    });
  });
  it('is False when a Lease has no holder', () => {
    const c = announcedCondition(['192.0.2.10', '192.0.2.11'], lookup);
    expect(c.status).toBe('False');
    expect(c.reason).toBe('NoEligibleSpeaker');
    expect(c.message).toContain('no node holds 192.0.2.11: no eligible speaker');
  });
  it('is False with IPConflict when a speaker reports another host', () => {
    const c = announcedCondition(['192.0.2.12'], lookup);
    expect(c.status).toBe('False');
    expect(c.reason).toBe('IPConflict');
    expect(c.message).toContain('02:00:00:00:00:09');
  });
  it('is Unknown until a Lease exists, and for a Service with no IP', () => {
    expect(announcedCondition(['192.0.2.99'], lookup)).toMatchObject({ status: 'Unknown', reason: 'AwaitingSpeaker' });
    expect(announcedCondition([], lookup)).toMatchObject({ status: 'Unknown', reason: 'NotAllocated' });
  });
});
