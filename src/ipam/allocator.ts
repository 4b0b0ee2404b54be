import { formatIP, parseIP, sameIP, type IPAddress, type IPFamily } from '../ip/address.js';
import { IPUseTable, termsOf, type ShareTerms } from './ip-uses.js';
import { fitting, type Drop, type Fit, type Pick } from './fit.js';
import { candidatePools, PoolSet, poolAllowsService, type PoolEntry } from './pool-set.js';
import type { PoolDefinition } from '../api/pool.js';
import type { AllocationRequest } from '../api/service.js';
import type {
  AssignedIP,
  AssignResult,
  LostAllocation,
  MovedAllocation,
  PoolsReport,
  PoolUsage,
  Refusal,
  RefusalReason,
} from './types.js';

interface ServiceRecord {
  /** In the Service's family order. */
  ips: IPAddress[];
}

function refusal(reason: RefusalReason, message: string): Refusal {
  return { ok: false, reason, message };
}

/**
 * Hands out LoadBalancer addresses from IPAddressPools with MetalLB's rules
 * (design.md section 3). Pure and synchronous: the controller feeds it pools and
 * Services and writes what it answers. Allocate, assign-specific and release
 * are O(log n) in the number of allocations whatever the pool size.
 *
 * Dual stack: one pool holding both families is preferred; failing that, two
 * single-family pools are combined (MetalLB insists on one pool; we allow two so
 * a v4 pool and a v6 pool can serve a RequireDualStack Service).
 */
export class Allocator {
  private pools = new PoolSet([]);
  private readonly uses = new IPUseTable();
  private readonly services = new Map<string, ServiceRecord>();
  /** Allocations counted against pools in Conflict (which have no free set of their own). */
  private conflictedAssigned = new Map<string, Record<IPFamily, bigint>>();

  /** Replaces the pool configuration and re-homes every allocation in it. O(allocations). */
  setPools(definitions: readonly PoolDefinition[]): PoolsReport {
    const next = new PoolSet(definitions);
    const lostByService = new Map<string, IPAddress[]>();
    const moved: MovedAllocation[] = [];
    this.conflictedAssigned = new Map();
    for (const use of this.uses.all()) {
      const holder = next.holderFor(use.ip);
      if (!holder) {
        for (const { service } of use.services) {
          const list = lostByService.get(service) ?? [];
          list.push(use.ip);
          lostByService.set(service, list);
          const record = this.services.get(service);
          if (record) record.ips = record.ips.filter((ip) => !sameIP(ip, use.ip));
          if (record && record.ips.length === 0) this.services.delete(service);
        }
        this.uses.drop(use.ip);
        continue;
      }
      if (holder.definition.name !== use.pool) {
        for (const { service } of use.services) {
          moved.push({ service, ip: use.address, fromPool: use.pool, toPool: holder.definition.name });
        }
        use.pool = holder.definition.name;
      }
      this.countIn(holder, use.ip);
    }
    this.pools = next;
    const lost: LostAllocation[] = [...lostByService].map(([service, ips]) => {
      const addresses = ips.map(formatIP);
      return {
        service,
        ips: addresses,
        message: `${service}: ${addresses.join(', ')} is no longer in any pool; the Service needs a new address`,
      };
    });
    return { conflicts: next.conflicts, lost, moved };
  }

  /**
   * Gives the Service addresses: requested IPs, else the requested pool, else pinned
   * pools, else autoAssign pools; the lowest free address in a pool. Addresses the
   * Service already holds are kept while they still satisfy the request. All or
   * nothing: a refusal leaves the allocator exactly as it was.
   */
  assign(service: string, request: AllocationRequest): AssignResult {
    const invalid = this.validate(service, request);
    if (invalid) return invalid;
    const namespace = service.slice(0, service.indexOf('/'));
    const wanted = request.ipFamilyPolicy === 'SingleStack' ? [request.ipFamilies[0]!] : [...request.ipFamilies];
    const terms = termsOf(request);
    const record = this.services.get(service);
    const dropped: Drop[] = [];
    const planned =
      request.requestedIPs.length > 0
        ? this.planRequested(service, namespace, request, wanted, terms)
        : this.planFromPools(service, namespace, request, wanted, terms, record, dropped);
    if (!Array.isArray(planned)) return planned;
    if (planned.length > 1) planned.sort((a, b) => wanted.indexOf(a.ip.family) - wanted.indexOf(b.ip.family));
    for (const ip of record?.ips ?? []) {
      if (planned.some((p) => sameIP(p.ip, ip)) || dropped.some((d) => d.address === formatIP(ip))) continue;
      const requested = request.requestedIPs.map(formatIP).join(', ');
      dropped.push({
        address: formatIP(ip),
        why: requested ? `the Service requests ${requested}` : 'the Service asks for another address',
        reason: 'InvalidRequest',
      });
    }
    return this.commit(service, planned, terms, record, dropped);
  }

  /**
   * Re-registers addresses a Service already had (from its status, at controller
   * start), with the rules assign() keeps a held address by at run time: the IP
   * family, the pool (still there, the requested one, its serviceAllocation still
   * admitting the Service) and sharing. What fits is kept, never moved; what does
   * not is left out and listed in `dropped` (the next assign fills the gap, as it
   * does when the same change happens while the controller runs). Refuses, with
   * the reason of the first drop, when nothing is left.
   */
  restore(service: string, addresses: readonly string[], request: AllocationRequest): AssignResult {
    const invalid = this.validate(service, request);
    if (invalid) return invalid;
    const namespace = service.slice(0, service.indexOf('/'));
    const wanted = request.ipFamilyPolicy === 'SingleStack' ? [request.ipFamilies[0]!] : [...request.ipFamilies];
    const terms = termsOf(request);
    const held: IPAddress[] = [];
    for (const address of addresses) {
      const parsed = parseIP(address);
      if (!parsed.ok) return refusal('InvalidRequest', `${service}: status address ${parsed.error}`);
      held.push(parsed.ip);
    }
    let fit: Fit;
    if (request.requestedIPs.length > 0) {
      // A requested address is held under planRequested's rules, as at run time.
      const planned = this.planRequested(service, namespace, request, wanted, terms);
      if (!Array.isArray(planned)) return planned;
      const kept = planned.filter((p) => held.some((ip) => sameIP(ip, p.ip)));
      const dropped = held
        .filter((ip) => !kept.some((p) => sameIP(p.ip, ip)))
        .map(
          (ip): Drop => ({
            address: formatIP(ip),
            why: `the Service requests ${request.requestedIPs.map(formatIP).join(', ')}`,
            reason: 'InvalidRequest',
          }),
        );
      fit = { kept, dropped };
    } else {
      fit = fitting(this.pools, this.uses, held, service, namespace, request, wanted, terms);
    }
    if (fit.kept.length === 0) {
      const first = fit.dropped[0];
      return first
        ? refusal(first.reason, `${service}: ${first.why}`)
        : refusal('InvalidRequest', `${service}: no address to restore`);
    }
    fit.kept.sort((a, b) => wanted.indexOf(a.ip.family) - wanted.indexOf(b.ip.family));
    return this.commit(service, fit.kept, terms, this.services.get(service), fit.dropped);
  }

  /** Frees every address of the Service; returns them (empty when it held none). */
  release(service: string): string[] {
    const record = this.services.get(service);
    if (!record) return [];
    this.services.delete(service);
    for (const ip of record.ips) this.leave(ip, service);
    return record.ips.map(formatIP);
  }

  /** The Service's current addresses, primary family first. */
  allocationOf(service: string): AssignedIP[] | undefined {
    const record = this.services.get(service);
    return record?.ips.map((ip) => this.describe(ip));
  }

  /** The Services on an address (more than one only when shared). */
  servicesOn(address: string): string[] {
    const parsed = parseIP(address);
    if (!parsed.ok) return [];
    return (this.uses.get(parsed.ip)?.services ?? []).map((s) => s.service);
  }

  /**
   * Assigned and available per family; O(1). Undefined for an unknown pool. A pool in Conflict has nothing available.
   */
  usage(poolName: string): PoolUsage | undefined {
    const pool = this.pools.get(poolName);
    if (!pool) return undefined;
    if (pool.conflict) {
      const counts = this.conflictedAssigned.get(poolName) ?? { IPv4: 0n, IPv6: 0n };
      return { ipv4: { assigned: counts.IPv4, available: 0n }, ipv6: { assigned: counts.IPv6, available: 0n } };
    }
    const v4 = pool.spaces.get('IPv4');
    const v6 = pool.spaces.get('IPv6');
    return {
      ipv4: { assigned: v4?.assigned ?? 0n, available: v4?.available ?? 0n },
      ipv6: { assigned: v6?.assigned ?? 0n, available: v6?.available ?? 0n },
    };
  }

  private validate(service: string, request: AllocationRequest): Refusal | undefined {
    const slash = service.indexOf('/');
    if (slash <= 0 || slash === service.length - 1 || service.indexOf('/', slash + 1) >= 0) {
      return refusal('InvalidRequest', `"${service}" is not a namespace/name Service key`);
    }
    const families = request.ipFamilies;
    if (families.length === 0 || families.length > 2 || (families.length === 2 && families[0] === families[1])) {
      return refusal(
        'InvalidRequest',
        `${service}: ipFamilies must list one or two distinct families (got ${JSON.stringify(families)})`,
      );
    }
    if (request.ipFamilyPolicy === 'RequireDualStack' && families.length !== 2) {
      return refusal('InvalidRequest', `${service}: RequireDualStack needs both families in ipFamilies`);
    }
    const seen = new Set<IPFamily>();
    for (const ip of request.requestedIPs) {
      if (seen.has(ip.family))
        return refusal('InvalidRequest', `${service}: two requested ${ip.family} addresses; at most one per family`);
      seen.add(ip.family);
    }
    return undefined;
  }

  private planRequested(
    service: string,
    namespace: string,
    request: AllocationRequest,
    wanted: IPFamily[],
    terms: ShareTerms,
  ): Pick[] | Refusal {
    const picks: Pick[] = [];
    for (const ip of request.requestedIPs) {
      const address = formatIP(ip);
      if (!wanted.includes(ip.family)) {
        return refusal(
          'IPFamilyMismatch',
          `${service}: requested ${address} is ${ip.family}, ` +
            `but the Service is ${request.ipFamilyPolicy} ${wanted.join('/')}`,
        );
      }
      const pool = this.pools.activePoolFor(ip);
      if (!pool) {
        const conflicted = this.pools.holderFor(ip);
        if (conflicted)
          return refusal(
            'PoolInConflict',
            `${service}: requested ${address} is only in pool "${conflicted.definition.name}", ` +
              `which is in conflict (${conflicted.conflict!.message})`,
          );
        return refusal('IPNotInAnyPool', `${service}: requested ${address} is not in any pool`);
      }
      const poolName = pool.definition.name;
      if (request.requestedPool !== undefined && request.requestedPool !== poolName) {
        return refusal(
          'IPNotInRequestedPool',
          `${service}: requested ${address} is in pool "${poolName}", ` +
            `not in the requested pool "${request.requestedPool}"`,
        );
      }
      if (!poolAllowsService(pool.definition, namespace, request)) {
        return refusal(
          'PoolNotAllowed',
          `${service}: pool "${poolName}" holding ${address} does not allow this Service (serviceAllocation)`,
        );
      }
      const shareProblem = this.uses.checkShare(ip, service, terms);
      if (shareProblem) return shareProblem;
      picks.push({ ip, pool });
    }
    if (request.ipFamilyPolicy === 'RequireDualStack' && picks.length < 2) {
      return refusal(
        'IPFamilyMismatch',
        `${service}: RequireDualStack needs a requested address of each family, ` +
          `got only ${picks.map((p) => formatIP(p.ip)).join(', ')}`,
      );
    }
    return picks;
  }

  private planFromPools(
    service: string,
    namespace: string,
    request: AllocationRequest,
    wanted: IPFamily[],
    terms: ShareTerms,
    record: ServiceRecord | undefined,
    dropped: Drop[],
  ): Pick[] | Refusal {
    let candidates: readonly PoolEntry[];
    if (request.requestedPool !== undefined) {
      const pool = this.pools.get(request.requestedPool);
      if (!pool) return refusal('PoolNotFound', `${service}: requested pool "${request.requestedPool}" does not exist`);
      if (pool.conflict)
        return refusal(
          'PoolInConflict',
          `${service}: requested pool "${request.requestedPool}" is in conflict (${pool.conflict.message})`,
        );
      if (!poolAllowsService(pool.definition, namespace, request)) {
        return refusal(
          'PoolNotAllowed',
          `${service}: requested pool "${request.requestedPool}" does not allow this Service (serviceAllocation)`,
        );
      }
      candidates = [pool];
    } else {
      candidates = candidatePools(this.pools, namespace, request);
    }
    const fit = fitting(this.pools, this.uses, record?.ips ?? [], service, namespace, request, wanted, terms);
    const kept = fit.kept;
    dropped.push(...fit.dropped);
    const missing = wanted.filter((family) => !kept.some((p) => p.ip.family === family));
    if (missing.length === 0) return kept;
    if (candidates.length === 0) {
      return refusal(
        'NoMatchingPool',
        `${service}: no pool can serve it (no autoAssign pool outside conflict allows this Service)`,
      );
    }
    // Try the pools the Service already uses first, so a new family lands beside the old one.
    const keptPools = new Set(kept.map((p) => p.pool));
    const ordered =
      kept.length === 0
        ? candidates
        : [...candidates.filter((p) => keptPools.has(p)), ...candidates.filter((p) => !keptPools.has(p))];
    const fresh: Pick[] = [];
    if (missing.length === 2) {
      for (const pool of ordered) {
        const both = missing.map((family) => this.lowestUsable(pool, family, service, terms));
        if (both.every((ip) => ip !== undefined)) {
          for (const ip of both) fresh.push({ ip: ip!, pool });
          break;
        }
      }
    }
    const unfilled: IPFamily[] = [];
    for (const family of missing) {
      if (fresh.some((p) => p.ip.family === family)) continue;
      let found = false;
      for (const pool of ordered) {
        const ip = this.lowestUsable(pool, family, service, terms);
        if (ip) {
          fresh.push({ ip, pool });
          found = true;
          break;
        }
      }
      if (!found) unfilled.push(family);
    }
    const all = [...kept, ...fresh];
    const mustHaveAll = request.ipFamilyPolicy !== 'PreferDualStack';
    if (unfilled.length > 0 && (mustHaveAll || all.length === 0)) {
      const family = unfilled[0]!;
      const offering = ordered.filter((p) => p.spaces.has(family)).map((p) => `"${p.definition.name}"`);
      if (offering.length === 0) {
        return refusal(
          'NoPoolForFamily',
          `${service}: no usable pool has ${family} addresses (${request.ipFamilyPolicy})`,
        );
      }
      return refusal('PoolExhausted', `${service}: no free ${family} address in pool ${offering.join(', ')}`);
    }
    return all;
  }

  /**
   * The lowest address of the family in the pool this Service may take: a compatible shared one first, else the lowest
   * free.
   */
  private lowestUsable(pool: PoolEntry, family: IPFamily, service: string, terms: ShareTerms): IPAddress | undefined {
    const space = pool.spaces.get(family);
    if (!space) return undefined;
    if (terms.sharingKey !== undefined) {
      let best: IPAddress | undefined;
      for (const use of this.uses.withSharingKey(terms.sharingKey)) {
        if (use.ip.family !== family || use.pool !== pool.definition.name) continue;
        if (this.uses.checkShare(use.ip, service, terms)) continue;
        if (!best || use.ip.value < best.value) best = use.ip;
      }
      if (best) return best;
    }
    const value = space.lowestFree();
    return value === undefined ? undefined : { family, value };
  }

  private commit(
    service: string,
    picks: Pick[],
    terms: ShareTerms,
    record: ServiceRecord | undefined,
    dropped: readonly Drop[] = [],
  ): AssignResult {
    const previous = record?.ips ?? [];
    const unchanged = previous.length === picks.length && previous.every((ip, i) => sameIP(ip, picks[i]!.ip));
    for (const ip of previous) {
      if (!picks.some((p) => sameIP(p.ip, ip))) this.leave(ip, service);
    }
    const assigned: AssignedIP[] = [];
    for (const pick of picks) {
      const existing = this.uses.get(pick.ip);
      const use = this.uses.join(existing, pick.ip, pick.pool.definition.name, service, terms);
      if (!existing) this.countIn(pick.pool, pick.ip);
      assigned.push({ ip: use.ip, address: use.address, pool: use.pool });
    }
    if (picks.length === 0) this.services.delete(service);
    else if (record) record.ips = picks.map((p) => p.ip);
    else this.services.set(service, { ips: picks.map((p) => p.ip) });
    return {
      ok: true,
      ips: assigned,
      changed: !unchanged,
      dropped: dropped.map(({ address, why }) => ({ address, why })),
    };
  }

  private leave(ip: IPAddress, service: string): void {
    const use = this.uses.get(ip);
    if (!use || !this.uses.leave(use, service)) return;
    const pool = this.pools.get(use.pool);
    if (!pool) return;
    if (pool.conflict) {
      const counts = this.conflictedAssigned.get(use.pool);
      if (counts) counts[ip.family] -= 1n;
    } else {
      pool.spaces.get(ip.family)?.release(ip.value);
    }
  }

  /** Counts a newly used address against its pool (taken from the free set, or counted for a conflicted pool). */
  private countIn(pool: PoolEntry, ip: IPAddress): void {
    if (pool.conflict) {
      const counts = this.conflictedAssigned.get(pool.definition.name) ?? { IPv4: 0n, IPv6: 0n };
      counts[ip.family] += 1n;
      this.conflictedAssigned.set(pool.definition.name, counts);
    } else {
      pool.spaces.get(ip.family)?.take(ip.value);
    }
  }

  private describe(ip: IPAddress): AssignedIP {
    const use = this.uses.get(ip);
    return { ip, address: use?.address ?? formatIP(ip), pool: use?.pool ?? '' };
  }
}
