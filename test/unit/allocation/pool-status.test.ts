import { describe, expect, it } from 'vitest';
import { desiredPoolStatus, poolStatusDiffers, poolWarnings } from '../../../src/allocation/pool-status.js';

const now = new Date('2026-01-01T00:00:00Z');
const later = new Date('2026-01-01T01:00:00Z');
const usage = { ipv4: { assigned: 3n, available: 253n }, ipv6: { assigned: 1n, available: (1n << 64n) - 1n } };

describe('desiredPoolStatus', () => {
  it('writes counts as exact decimal strings, even 2^64', () => {
    const s = desiredPoolStatus({ errors: [], usage }, now);
    expect(s).toMatchObject({
      assignedIPv4: '3',
      availableIPv4: '253',
      assignedIPv6: '1',
      availableIPv6: '18446744073709551615',
    });
    expect(s.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Valid', 'True', 'Valid'],
      ['Conflict', 'False', 'NoOverlap'],
    ]);
  });

  it('reports parse errors in Valid and zero counts', () => {
    const s = desiredPoolStatus({ errors: ['spec.addresses[0]: "x" is not an IP', 'spec.addresses[1]: bad'] }, now);
    expect(s.assignedIPv4).toBe('0');
    expect(s.conditions?.[0]).toMatchObject({
      type: 'Valid',
      status: 'False',
      reason: 'InvalidPool',
      message: 'spec.addresses[0]: "x" is not an IP; spec.addresses[1]: bad',
    });
  });

  it('says in Valid which addresses had host bits masked', () => {
    const s = desiredPoolStatus(
      { errors: [], notes: ['spec.addresses[0]: 192.0.2.100/24 taken as 192.0.2.0/24'], usage },
      now,
    );
    expect(s.conditions?.[0]).toMatchObject({
      type: 'Valid',
      status: 'True',
      reason: 'Valid',
      message:
        'the pool is valid; spec.addresses[0]: 192.0.2.100/24 taken as 192.0.2.0/24 (host bits masked, as MetalLB ' +
        'does)',
    });
  });

  it('names the other pool in Conflict', () => {
    const s = desiredPoolStatus(
      { errors: [], usage, conflict: { pool: 'b', overlapsWith: 'a', message: 'pool b overlaps pool a at 192.0.2.5' } },
      now,
    );
    expect(s.conditions?.[1]).toMatchObject({ type: 'Conflict', status: 'True', reason: 'Overlap' });
    expect(s.conditions?.[1]?.message).toContain('overlap with a is removed');
  });
});

describe('poolStatusDiffers', () => {
  it('is false for the same status at a later time, true when a count or condition changes', () => {
    const first = desiredPoolStatus({ errors: [], usage }, now);
    const again = desiredPoolStatus({ errors: [], usage, previous: first }, later);
    expect(again.conditions?.[0]?.lastTransitionTime).toBe(first.conditions?.[0]?.lastTransitionTime);
    expect(poolStatusDiffers(first, again)).toBe(false);
    expect(poolStatusDiffers(undefined, again)).toBe(true);
    const moreUsed = desiredPoolStatus(
      { errors: [], usage: { ...usage, ipv4: { assigned: 4n, available: 252n } }, previous: first },
      later,
    );
    expect(poolStatusDiffers(first, moreUsed)).toBe(true);
    const broken = desiredPoolStatus({ errors: ['bad'], previous: first }, later);
    expect(poolStatusDiffers(first, broken)).toBe(true);
  });
});

describe('poolWarnings', () => {
  it('warns once per new message: invalid, in conflict, or a CIDR with host bits masked', () => {
    const notes = ['spec.addresses[0]: 192.0.2.100/24 taken as 192.0.2.0/24'];
    const masked = desiredPoolStatus({ errors: [], notes, usage }, now);
    expect(poolWarnings(undefined, masked, notes)).toEqual([
      {
        reason: 'AddressMasked',
        message:
          'spec.addresses[0]: 192.0.2.100/24 taken as 192.0.2.0/24: host bits are masked, as MetalLB does; write ' +
          'the network address to silence this',
      },
    ]);
    expect(
      poolWarnings(masked, desiredPoolStatus({ errors: [], notes, usage, previous: masked }, later), notes),
    ).toEqual([]);
    const broken = desiredPoolStatus({ errors: ['bad'], previous: masked }, later);
    expect(poolWarnings(masked, broken, [])).toEqual([{ reason: 'InvalidPool', message: 'bad' }]);
    expect(poolWarnings(broken, desiredPoolStatus({ errors: ['bad'], previous: broken }, later), [])).toEqual([]);
  });
});
