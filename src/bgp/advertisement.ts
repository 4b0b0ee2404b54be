import { parseSelectorList } from '../api/pool.js';
import type { AdvertisementScope } from '../api/l2advertisement.js';
import { parseCommunityValue, type BgpCommunity } from './community.js';
import { MAX_COMMUNITIES, bgpAdvertisementSpec } from '../api/schema/bgp.js';
import { readNameList, readObjectStart, readSpecInteger } from './fields.js';

const fields = bgpAdvertisementSpec.properties;

/** A community as written: a value, or the name of an alias resolved against the Community objects when rendering. */
export type CommunityRef = BgpCommunity | { readonly kind: 'alias'; readonly name: string };

export interface ParsedBGPAdvertisement extends AdvertisementScope {
  readonly name: string;
  /** BGPPeer names; none = every peer. */
  readonly peers: readonly string[];
  readonly aggregationLength: number;
  readonly aggregationLengthV6: number;
  /** 0 = not set (FRR's default applies). */
  readonly localPref: number;
  readonly communities: readonly CommunityRef[];
}

export type ParseBGPAdvertisementResult =
  | { ok: true; advertisement: ParsedBGPAdvertisement }
  | { ok: false; errors: string[] };

const ALIAS_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Validates a raw BGPAdvertisement; every error names its field. Never throws on bad input. */
export function parseBGPAdvertisement(raw: unknown): ParseBGPAdvertisementResult {
  // An empty spec is valid: every pool, from every node, to every peer.
  const start = readObjectStart(raw, 'BGPAdvertisement', 'optional');
  if (!start.ok) return start;
  const { name, spec, errors } = start;
  const advertisement: ParsedBGPAdvertisement = {
    name,
    ipAddressPools: readNameList(spec.ipAddressPools, 'spec.ipAddressPools', errors),
    ipAddressPoolSelectors: parseSelectorList(spec.ipAddressPoolSelectors, 'spec.ipAddressPoolSelectors', errors),
    nodeSelectors: parseSelectorList(spec.nodeSelectors, 'spec.nodeSelectors', errors),
    peers: readNameList(spec.peers, 'spec.peers', errors),
    aggregationLength: readSpecInteger(spec, 'aggregationLength', fields, errors) ?? 32,
    aggregationLengthV6: readSpecInteger(spec, 'aggregationLengthV6', fields, errors) ?? 128,
    localPref: readSpecInteger(spec, 'localPref', fields, errors) ?? 0,
    communities: readCommunities(spec.communities, errors),
  };
  return errors.length > 0 ? { ok: false, errors } : { ok: true, advertisement };
}

function readCommunities(raw: unknown, errors: string[]): CommunityRef[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    errors.push('spec.communities: must be a list');
    return [];
  }
  if (raw.length > MAX_COMMUNITIES) errors.push(`spec.communities: at most ${MAX_COMMUNITIES} (got ${raw.length})`);
  const result: CommunityRef[] = [];
  raw.forEach((item: unknown, index: number) => {
    const value = typeof item === 'string' ? parseCommunityValue(item) : undefined;
    if (value) result.push(value);
    else if (typeof item === 'string' && !item.includes(':') && ALIAS_NAME.test(item))
      result.push({ kind: 'alias', name: item });
    else
      errors.push(
        `spec.communities[${index}]: ${JSON.stringify(item)} is not a community (like 65535:65282 or large:1:2:3) ` +
          `nor an alias name`,
      );
  });
  return result;
}
