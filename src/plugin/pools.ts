// `kubectl ironlb pools`: per pool its addresses, used and free per family
// (the controller's status), Valid/Conflict, and which L2Advertisements and
// nodes cover it (the same selector rules the speakers apply).
import {
  advertisementCoversPool,
  advertisementSelectsNode,
  parseL2Advertisement,
  type ParsedL2Advertisement,
} from '../api/l2advertisement.js';
import { EXCLUDE_FROM_LB_LABEL } from '../election/candidates.js';
import { conditionsOf, fieldOf, type ClusterState } from './state.js';

export interface FamilyUse {
  /** Decimal strings, as in the pool status (an IPv6 pool can exceed 2^53). */
  used?: string;
  free?: string;
}

export interface PoolRow {
  name: string;
  addresses: string[];
  ipv4: FamilyUse;
  ipv6: FamilyUse;
  /** Condition status, `Unknown` before the controller wrote one. */
  valid: string;
  conflict: string;
  /** Messages of a Valid=False or Conflict=True condition. */
  problems: string[];
  advertisements: string[];
  /** Nodes selected by a covering advertisement (labels only; liveness is `nodes`'s job). */
  nodes: string[];
}

export interface PoolsView {
  pools: PoolRow[];
  /** L2Advertisements that do not parse: they cover nothing. */
  invalidAdvertisements: { name: string; errors: string[] }[];
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

function use(status: Record<string, unknown>, family: '4' | '6'): FamilyUse {
  const used = text(status[`assignedIPv${family}`]);
  const free = text(status[`availableIPv${family}`]);
  return { used, free };
}

export function poolRows(state: ClusterState): PoolsView {
  const advertisements: ParsedL2Advertisement[] = [];
  const invalidAdvertisements: PoolsView['invalidAdvertisements'] = [];
  for (const raw of state.advertisements) {
    const parsed = parseL2Advertisement(raw);
    if (parsed.ok) advertisements.push(parsed.advertisement);
    else invalidAdvertisements.push({ name: raw.metadata?.name ?? '?', errors: parsed.errors });
  }
  const nodes = state.nodes.filter((n) => !(EXCLUDE_FROM_LB_LABEL in (n.metadata?.labels ?? {})));
  const pools = state.pools.map((pool): PoolRow => {
    const name = pool.metadata?.name ?? '';
    const labels = pool.metadata?.labels ?? {};
    const spec = fieldOf(pool, 'spec');
    const status = fieldOf(pool, 'status');
    const conditions = conditionsOf(status);
    const valid = conditions.find((c) => c.type === 'Valid');
    const conflict = conditions.find((c) => c.type === 'Conflict');
    const covering = advertisements.filter((a) => advertisementCoversPool(a, name, labels));
    const covered = nodes
      .filter((n) => covering.some((a) => advertisementSelectsNode(a, n.metadata?.labels ?? {})))
      .map((n) => n.metadata?.name ?? '')
      .sort();
    return {
      name,
      addresses: Array.isArray(spec.addresses) ? spec.addresses.map(String) : [],
      ipv4: use(status, '4'),
      ipv6: use(status, '6'),
      valid: valid?.status || 'Unknown',
      conflict: conflict?.status || 'Unknown',
      problems: [
        valid?.status === 'False' ? valid.message : '',
        conflict?.status === 'True' ? conflict.message : '',
      ].filter((m) => m !== ''),
      advertisements: covering.map((a) => a.name).sort(),
      nodes: covered,
    };
  });
  return { pools: pools.sort((a, b) => (a.name < b.name ? -1 : 1)), invalidAdvertisements };
}
