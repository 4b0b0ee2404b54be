import { createHash } from 'node:crypto';

// The takeover plan every speaker computes identically from the same view, so
// that the planned owner of each orphaned IP acts at once and the others only
// step in (rank x stagger later) when it does not.

const weights = new Map<string, bigint>();
/** Bounded memo: IPs x nodes of one cluster fit; a runaway set is simply recomputed. */
const MAX_MEMOIZED_WEIGHTS = 500_000;

/** Rendezvous weight of (ip, node): deterministic across machines and runs. */
export function rendezvousWeight(ip: string, node: string): bigint {
  const key = `${ip}\0${node}`;
  let weight = weights.get(key);
  if (weight === undefined) {
    weight = createHash('sha256').update(key).digest().readBigUInt64BE(0);
    if (weights.size >= MAX_MEMOIZED_WEIGHTS) weights.clear();
    weights.set(key, weight);
  }
  return weight;
}

export interface OrphanedIp {
  ip: string;
  /** Live candidates of the IP, in any order. */
  candidates: readonly string[];
}

/** Code-unit order: the same on every machine, whatever its locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * For every IP that needs an owner, its candidates in takeover order (index =
 * rank). IPs are planned in sorted order; each goes to the candidate with the
 * fewest planned IPs so far (current holdings plus this plan), ties broken by
 * the highest rendezvous weight, then by name.
 */
export function planTakeovers(
  orphaned: readonly OrphanedIp[],
  holdings: ReadonlyMap<string, number>,
): Map<string, string[]> {
  const load = new Map(holdings);
  const sorted = [...orphaned].sort((a, b) => compareStrings(a.ip, b.ip));
  const plan = new Map<string, string[]>();
  for (const { ip, candidates } of sorted) {
    if (plan.has(ip)) throw new Error(`IP ${ip} listed twice in the takeover plan`);
    const ranked = [...new Set(candidates)]
      .map((node) => ({ node, load: load.get(node) ?? 0, weight: rendezvousWeight(ip, node) }))
      .sort(
        (a, b) =>
          a.load - b.load || (a.weight > b.weight ? -1 : a.weight < b.weight ? 1 : 0) || compareStrings(a.node, b.node),
      )
      .map((c) => c.node);
    plan.set(ip, ranked);
    const first = ranked[0];
    if (first !== undefined) load.set(first, (load.get(first) ?? 0) + 1);
  }
  return plan;
}
