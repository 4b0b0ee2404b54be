import { OBJECT_NAME, readObjectStart } from './object.js';
import { parseSelectorList } from './pool.js';
import { INTERFACE_NAME_PATTERN } from './schema/l2advertisement.js';
import { matchesAnySelector, nodeSelectorsMatch, type Labels } from './selector.js';
import type { LabelSelector } from './types.js';

/** What an advertisement of either mode (L2Advertisement, BGPAdvertisement) selects: pools, and nodes. */
export interface AdvertisementScope {
  readonly ipAddressPools: readonly string[];
  readonly ipAddressPoolSelectors: readonly LabelSelector[];
  readonly nodeSelectors: readonly LabelSelector[];
}

export interface ParsedL2Advertisement extends AdvertisementScope {
  readonly name: string;
  readonly interfaces: readonly string[];
}

export type ParseL2AdvertisementResult =
  | { ok: true; advertisement: ParsedL2Advertisement }
  | { ok: false; errors: string[] };

/** The CRD's pattern (IFNAMSIZ 16 with the NUL; no slash, colon, whitespace); "." and ".." are refused below. */
const INTERFACE_NAME = new RegExp(INTERFACE_NAME_PATTERN);

/** Validates a raw L2Advertisement; every error names its field. Never throws on bad input. */
export function parseL2Advertisement(raw: unknown): ParseL2AdvertisementResult {
  // An empty spec is valid: it advertises every pool from every node.
  const start = readObjectStart(raw, 'L2Advertisement', 'optional');
  if (!start.ok) return start;
  const { name, spec, errors } = start;
  const ipAddressPools = readNames(spec.ipAddressPools, 'spec.ipAddressPools', OBJECT_NAME, 'a pool name', errors);
  const ipAddressPoolSelectors = parseSelectorList(spec.ipAddressPoolSelectors, 'spec.ipAddressPoolSelectors', errors);
  const nodeSelectors = parseSelectorList(spec.nodeSelectors, 'spec.nodeSelectors', errors);
  const interfaces = readNames(
    spec.interfaces,
    'spec.interfaces',
    INTERFACE_NAME,
    'an interface name (1-15 characters, no "/", ":" or spaces)',
    errors,
  );
  for (const [index, iface] of interfaces.entries()) {
    if (iface === '.' || iface === '..') errors.push(`spec.interfaces[${index}]: "${iface}" is not an interface name`);
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, advertisement: { name, ipAddressPools, ipAddressPoolSelectors, nodeSelectors, interfaces } };
}

function readNames(raw: unknown, path: string, pattern: RegExp, what: string, errors: string[]): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    errors.push(`${path}: must be a list`);
    return [];
  }
  const names: string[] = [];
  raw.forEach((item: unknown, index: number) => {
    if (typeof item !== 'string' || !pattern.test(item))
      errors.push(`${path}[${index}]: ${JSON.stringify(item)} is not ${what}`);
    else names.push(item);
  });
  return names;
}

/**
 * Whether the advertisement covers a pool: named, or selected; with neither set it covers every pool (MetalLB
 * semantics).
 */
export function advertisementCoversPool(
  advertisement: AdvertisementScope,
  poolName: string,
  poolLabels: Labels,
): boolean {
  if (advertisement.ipAddressPools.length === 0 && advertisement.ipAddressPoolSelectors.length === 0) return true;
  return (
    advertisement.ipAddressPools.includes(poolName) ||
    matchesAnySelector(advertisement.ipAddressPoolSelectors, poolLabels)
  );
}

/** Whether a node may announce for this advertisement; no node selectors means every node. */
export function advertisementSelectsNode(advertisement: AdvertisementScope, nodeLabels: Labels): boolean {
  return nodeSelectorsMatch(advertisement.nodeSelectors, nodeLabels);
}
