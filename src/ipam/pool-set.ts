import type { PoolDefinition } from '../api/pool.js';
import { matchesAnySelector } from '../api/selector.js';
import type { AllocationRequest } from '../api/service.js';
import type { IPAddress, IPFamily } from '../ip/address.js';
import { FamilySpace } from './family-space.js';
import { formatRange, type IPRange } from '../ip/range.js';
import type { PoolConflict } from './types.js';

/** One configured pool. Active pools never overlap each other, so an address has at most one active pool. */
export interface PoolEntry {
  readonly definition: PoolDefinition;
  readonly conflict?: PoolConflict;
  readonly spaces: ReadonlyMap<IPFamily, FamilySpace>;
}

interface Segment {
  readonly range: IPRange;
  readonly pool: PoolEntry;
}

/** Older first: creationTimestamp (missing = newest), then name. */
export function comparePoolAge(a: PoolDefinition, b: PoolDefinition): number {
  const ageA = a.createdAt ?? Number.POSITIVE_INFINITY;
  const ageB = b.createdAt ?? Number.POSITIVE_INFINITY;
  if (ageA !== ageB) return ageA < ageB ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The pools of one configuration: which are in conflict, and which pool holds
 * an address (binary search over the active pools' disjoint ranges).
 */
export class PoolSet {
  readonly conflicts: readonly PoolConflict[];
  private readonly byName = new Map<string, PoolEntry>();
  private readonly ordered: PoolEntry[] = [];
  private readonly activeSegments: Record<IPFamily, Segment[]> = { IPv4: [], IPv6: [] };

  constructor(definitions: readonly PoolDefinition[]) {
    const conflicts: PoolConflict[] = [];
    for (const definition of [...definitions].sort(comparePoolAge)) {
      if (this.byName.has(definition.name)) throw new Error(`setPools: pool "${definition.name}" is listed twice`);
      const spaces = new Map<IPFamily, FamilySpace>();
      for (const family of ['IPv4', 'IPv6'] as const) {
        const ranges = definition.ranges.filter((r) => r.family === family);
        if (ranges.length > 0) spaces.set(family, new FamilySpace(family, ranges, definition.avoidBuggyIPs));
      }
      const conflict = this.findConflict(definition);
      const entry: PoolEntry = conflict ? { definition, conflict, spaces } : { definition, spaces };
      if (conflict) conflicts.push(conflict);
      else this.addSegments(entry);
      this.byName.set(definition.name, entry);
      this.ordered.push(entry);
    }
    this.conflicts = conflicts;
  }

  private cachedAutoAssign: { pinnable: PoolEntry[]; general: PoolEntry[] } | undefined;

  /** Active autoAssign pools split into those with a serviceAllocation and the rest, each sorted; computed once. */
  autoAssignPools(): { readonly pinnable: readonly PoolEntry[]; readonly general: readonly PoolEntry[] } {
    if (!this.cachedAutoAssign) {
      const usable = this.ordered.filter((p) => !p.conflict && p.definition.autoAssign);
      this.cachedAutoAssign = {
        pinnable: usable.filter((p) => p.definition.serviceAllocation !== undefined).sort(byPriorityThenAge),
        general: usable.filter((p) => p.definition.serviceAllocation === undefined).sort(byPriorityThenAge),
      };
    }
    return this.cachedAutoAssign;
  }

  get(name: string): PoolEntry | undefined {
    return this.byName.get(name);
  }

  /** Every pool, oldest first. */
  all(): readonly PoolEntry[] {
    return this.ordered;
  }

  /** The active pool that may hand out this address, if any. O(log ranges). */
  activePoolFor(ip: IPAddress): PoolEntry | undefined {
    const segment = this.segmentAtOrBefore(this.activeSegments[ip.family], ip.value);
    if (!segment || segment.range.end < ip.value) return undefined;
    return segment.pool.spaces.get(ip.family)?.contains(ip.value) ? segment.pool : undefined;
  }

  /** The pool an existing allocation belongs to: the active one, else the oldest conflicted pool holding it. */
  holderFor(ip: IPAddress): PoolEntry | undefined {
    const active = this.activePoolFor(ip);
    if (active) return active;
    for (const entry of this.ordered) {
      if (entry.conflict && entry.spaces.get(ip.family)?.contains(ip.value)) return entry;
    }
    return undefined;
  }

  private findConflict(definition: PoolDefinition): PoolConflict | undefined {
    for (const range of definition.ranges) {
      const segment = this.segmentAtOrBefore(this.activeSegments[range.family], range.end);
      if (segment && segment.range.end >= range.start) {
        const older = segment.pool.definition.name;
        return {
          pool: definition.name,
          overlapsWith: older,
          message:
            `pool "${definition.name}" (${formatRange(range)}) ` +
            `overlaps the older pool "${older}" (${formatRange(segment.range)})`,
        };
      }
    }
    return undefined;
  }

  private addSegments(entry: PoolEntry): void {
    for (const range of entry.definition.ranges) {
      const segments = this.activeSegments[range.family];
      const at = segments.findIndex((s) => s.range.start > range.start);
      segments.splice(at < 0 ? segments.length : at, 0, { range, pool: entry });
    }
  }

  /** The segment with the greatest start <= value (segments are sorted and disjoint). */
  private segmentAtOrBefore(segments: readonly Segment[], value: bigint): Segment | undefined {
    let low = 0;
    let high = segments.length - 1;
    let best: Segment | undefined;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const segment = segments[middle]!;
      if (segment.range.start <= value) {
        best = segment;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return best;
  }
}

/** Whether the pool's serviceAllocation lets this Service use it (no serviceAllocation: everyone may). */
export function poolAllowsService(definition: PoolDefinition, namespace: string, request: AllocationRequest): boolean {
  const allocation = definition.serviceAllocation;
  if (!allocation) return true;
  const namespaceConstrained = allocation.namespaces.length > 0 || allocation.namespaceSelectors.length > 0;
  if (
    namespaceConstrained &&
    !allocation.namespaces.includes(namespace) &&
    !matchesAnySelector(allocation.namespaceSelectors, request.namespaceLabels)
  ) {
    return false;
  }
  if (allocation.serviceSelectors.length > 0 && !matchesAnySelector(allocation.serviceSelectors, request.serviceLabels))
    return false;
  return true;
}

function priorityOf(pool: PoolEntry): number {
  // Unset and 0 both mean "lowest priority" (MetalLB).
  return pool.definition.serviceAllocation?.priority || Number.POSITIVE_INFINITY;
}

function byPriorityThenAge(a: PoolEntry, b: PoolEntry): number {
  if (priorityOf(a) !== priorityOf(b)) return priorityOf(a) < priorityOf(b) ? -1 : 1;
  return comparePoolAge(a.definition, b.definition);
}

/**
 * The pools to try when nothing is requested, in MetalLB's order: pools pinned to
 * the Service by serviceAllocation first, then the autoAssign pools without one.
 * As in MetalLB, a serviceAllocation that names no namespace and no selector
 * (only a priority, or nothing) pins the pool to every Service, so it is sorted
 * with the other pinned pools. Within each group: priority (lower first, unset
 * last), then age, then name — deterministic where MetalLB's sort is not. The
 * returned array must not be modified (the common case returns a cached one).
 */
export function candidatePools(pools: PoolSet, namespace: string, request: AllocationRequest): readonly PoolEntry[] {
  const { pinnable, general } = pools.autoAssignPools();
  if (pinnable.length === 0) return general;
  const pinned = pinnable.filter((p) => poolAllowsService(p.definition, namespace, request));
  return pinned.length === 0 ? general : [...pinned, ...general];
}
