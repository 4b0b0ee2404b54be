// Service conditions written by the controller. Pure: the controller loop turns
// them into a status patch. A condition's lastTransitionTime only moves when its
// status flips, so an unchanged decision never causes a write.

import { ipLeaseName } from '../api/leases.js';

export const CONDITION_ALLOCATED = 'ironlb.io/Allocated';
export const CONDITION_ANNOUNCED = 'ironlb.io/Announced';
export const CONTROLLER_CONDITIONS: readonly string[] = [CONDITION_ALLOCATED, CONDITION_ANNOUNCED];

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** metav1.Condition with the time as an RFC 3339 string (second precision, as the API server stores it). */
export interface ServiceCondition {
  type: string;
  status: ConditionStatus | string;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** A condition the reconcile wants, before a transition time is attached; `Reason` names the reasons it may give. */
export interface DesiredCondition<Reason extends string = string> {
  type: string;
  status: ConditionStatus;
  reason: Reason;
  message: string;
}

export type AnnouncedReason = 'NotAllocated' | 'IPConflict' | 'NoEligibleSpeaker' | 'AwaitingSpeaker' | 'Announced';

/** RFC 3339 with second precision: what metav1.Time round-trips. */
export function conditionTime(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Puts `desired` into `existing` (other types are kept as they are, in order).
 * The transition time is kept when the status did not change.
 */
export function mergeConditions(
  existing: readonly ServiceCondition[],
  desired: readonly DesiredCondition[],
  now: Date,
  observedGeneration?: number,
): ServiceCondition[] {
  const result = existing.map((c) => ({ ...c }));
  for (const want of desired) {
    const index = result.findIndex((c) => c.type === want.type);
    const previous = index >= 0 ? result[index] : undefined;
    const next: ServiceCondition = {
      type: want.type,
      status: want.status,
      reason: want.reason,
      message: want.message,
      lastTransitionTime:
        previous && previous.status === want.status ? previous.lastTransitionTime : conditionTime(now),
      observedGeneration,
    };
    if (index >= 0) result[index] = next;
    else result.push(next);
  }
  return result;
}

/** Drops the controller's own conditions (the Service is no longer ours). */
export function withoutControllerConditions(existing: readonly ServiceCondition[]): ServiceCondition[] {
  return existing.filter((c) => !CONTROLLER_CONDITIONS.includes(c.type));
}

/** True when both lists say the same thing (transition times aside). */
export function sameConditions(a: readonly ServiceCondition[], b: readonly ServiceCondition[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((c, i) => {
    const d = b[i];
    return (
      c.type === d.type &&
      c.status === d.status &&
      c.reason === d.reason &&
      c.message === d.message &&
      c.observedGeneration === d.observedGeneration
    );
  });
}

/** What the controller reads from one ownership Lease. */
export interface OwnershipView {
  /** The node announcing the IP; empty when nobody holds it. */
  holder: string;
  /** Set by a speaker that sees another host answering for the IP (annotation ironlb.io/conflict). */
  conflict?: string;
}

/**
 * The Announced condition of a Service holding `ips`: True only when every IP
 * has a holder; Unknown while some IP has no Lease yet (no speaker has looked
 * at it); False when a Lease says nobody can announce it or a conflict exists.
 */
export function announcedCondition(
  ips: readonly string[],
  ownership: (ip: string) => OwnershipView | undefined,
): DesiredCondition<AnnouncedReason> {
  if (ips.length === 0) {
    return {
      type: CONDITION_ANNOUNCED,
      status: 'Unknown',
      reason: 'NotAllocated',
      message: 'the Service has no IP yet, so nothing is announced',
    };
  }
  const parts: string[] = [];
  let anyConflict = false;
  let anyUnheld = false;
  let anyUnknown = false;
  for (const ip of ips) {
    const view = ownership(ip);
    if (!view) {
      anyUnknown = true;
      parts.push(`no speaker has claimed ${ip} yet (no Lease ${ipLeaseName(ip)})`);
    } else if (view.conflict) {
      anyConflict = true;
      parts.push(`${ip} is also answered by another host: ${view.conflict}`);
    } else if (view.holder) {
      parts.push(`${ip} announced by ${view.holder}`);
    } else {
      anyUnheld = true;
      parts.push(`no node holds ${ip}: no eligible speaker`);
    }
  }
  const message = parts.join('; ');
  if (anyConflict) return { type: CONDITION_ANNOUNCED, status: 'False', reason: 'IPConflict', message };
  if (anyUnheld) return { type: CONDITION_ANNOUNCED, status: 'False', reason: 'NoEligibleSpeaker', message };
  if (anyUnknown) return { type: CONDITION_ANNOUNCED, status: 'Unknown', reason: 'AwaitingSpeaker', message };
  return { type: CONDITION_ANNOUNCED, status: 'True', reason: 'Announced', message };
}
