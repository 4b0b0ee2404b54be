// IPAddressPool status: counts per family as strings (a /64 holds 2^64) and the
// Valid / Conflict conditions. Pure; the controller loop writes it when it differs.

import { POOL_CONDITION_CONFLICT, POOL_CONDITION_VALID, type IPAddressPoolStatus } from '../api/types.js';
import type { PoolConflict, PoolUsage } from '../ipam/types.js';
import { mergeConditions, sameConditions, type DesiredCondition, type ServiceCondition } from './conditions.js';

export interface PoolStatusInput {
  /** Errors from parsePool; empty when valid. */
  errors: readonly string[];
  /** parsePool's notes (host bits masked), told in the Valid message. */
  notes?: readonly string[];
  /** This pool's conflict, when it is the newer of two overlapping pools. */
  conflict?: PoolConflict;
  /** Undefined when the pool is not in the allocator (invalid). */
  usage?: PoolUsage;
  previous?: IPAddressPoolStatus;
  generation?: number;
}

export function desiredPoolStatus(input: PoolStatusInput, now: Date): IPAddressPoolStatus {
  const valid: DesiredCondition =
    input.errors.length === 0
      ? { type: POOL_CONDITION_VALID, status: 'True', reason: 'Valid', message: validMessage(input.notes ?? []) }
      : { type: POOL_CONDITION_VALID, status: 'False', reason: 'InvalidPool', message: input.errors.join('; ') };
  const conflict: DesiredCondition = input.conflict
    ? {
        type: POOL_CONDITION_CONFLICT,
        status: 'True',
        reason: 'Overlap',
        message:
          `${input.conflict.message}; this pool allocates nothing until the overlap with ` +
          `${input.conflict.overlapsWith} is removed`,
      }
    : {
        type: POOL_CONDITION_CONFLICT,
        status: 'False',
        reason: 'NoOverlap',
        message: 'no other pool overlaps this one',
      };
  const previous: ServiceCondition[] = (input.previous?.conditions ?? []).map((c) => ({ ...c }));
  const usage = input.usage;
  return {
    assignedIPv4: (usage?.ipv4.assigned ?? 0n).toString(),
    availableIPv4: (usage?.ipv4.available ?? 0n).toString(),
    assignedIPv6: (usage?.ipv6.assigned ?? 0n).toString(),
    availableIPv6: (usage?.ipv6.available ?? 0n).toString(),
    conditions: mergeConditions(previous, [valid, conflict], now, input.generation).map((c) => ({
      ...c,
      status: c.status === 'True' || c.status === 'False' ? c.status : 'Unknown',
    })),
  };
}

function validMessage(notes: readonly string[]): string {
  return notes.length === 0
    ? 'the pool is valid'
    : `the pool is valid; ${notes.join('; ')} (host bits masked, as MetalLB does)`;
}

/** True when writing `desired` would change what `current` says. */
export function poolStatusDiffers(current: IPAddressPoolStatus | undefined, desired: IPAddressPoolStatus): boolean {
  if (!current) return true;
  const counts: Array<keyof IPAddressPoolStatus> = ['assignedIPv4', 'availableIPv4', 'assignedIPv6', 'availableIPv6'];
  if (counts.some((k) => current[k] !== desired[k])) return true;
  return !sameConditions(current.conditions ?? [], desired.conditions ?? []);
}

export interface PoolWarning {
  reason: 'InvalidPool' | 'PoolConflict' | 'AddressMasked';
  message: string;
}

/**
 * Warning events for a pool whose status goes from `previous` to `desired`: it
 * turned invalid or into a conflict (the condition says the same), or a CIDR was
 * taken with its host bits masked (`notes` from parsePool; valid, but the user
 * should know). Each is sent once per new message.
 */
export function poolWarnings(
  previous: IPAddressPoolStatus | undefined,
  desired: IPAddressPoolStatus,
  notes: readonly string[],
): PoolWarning[] {
  const warnings: PoolWarning[] = [];
  const was = (type: string) => previous?.conditions?.find((c) => c.type === type);
  for (const [type, bad, reason] of [
    [POOL_CONDITION_VALID, 'False', 'InvalidPool'],
    [POOL_CONDITION_CONFLICT, 'True', 'PoolConflict'],
  ] as const) {
    const now = desired.conditions?.find((c) => c.type === type);
    const before = was(type);
    if (now?.status === bad && (before?.status !== bad || before.message !== now.message))
      warnings.push({ reason, message: now.message });
  }
  const valid = desired.conditions?.find((c) => c.type === POOL_CONDITION_VALID);
  if (valid?.status === 'True' && notes.length > 0 && was(POOL_CONDITION_VALID)?.message !== valid.message) {
    warnings.push({
      reason: 'AddressMasked',
      message: `${notes.join('; ')}: host bits are masked, as MetalLB does; write the network address to silence this`,
    });
  }
  return warnings;
}
