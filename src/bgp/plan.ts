// What one node announces over BGP, decided from configuration and cluster
// facts alone (no I/O). frr-config.ts turns the plan into FRR's text.
import type { ParsedPool } from '../api/pool.js';
import { advertisementSelectsNode } from '../api/l2advertisement.js';
import { nodeSelectorsMatch } from '../api/selector.js';
import { computeCandidates, type EndpointFacts, type NodeFacts, type ServiceFacts } from '../election/candidates.js';
import { bitLength, formatIP, maxValue, parseIP, type IPFamily } from '../ip/address.js';
import { formatRange, rangeContains } from '../ip/range.js';
import type { ParsedBGPAdvertisement } from './advertisement.js';
import type { ParsedBFDProfile } from './bfd-profile.js';
import { formatCommunity, type BgpCommunity, type ParsedCommunityAliases } from './community.js';
import type { ParsedBGPPeer } from './peer.js';

/** A Secret as the API server gives it: `data` values are base64. */
export interface SecretFacts {
  readonly type?: string;
  readonly data?: Readonly<Record<string, string>>;
}

export const BASIC_AUTH_SECRET_TYPE = 'kubernetes.io/basic-auth';

export interface BgpNodeInputs {
  readonly node: NodeFacts;
  readonly peers: readonly ParsedBGPPeer[];
  readonly advertisements: readonly ParsedBGPAdvertisement[];
  readonly bfdProfiles: readonly ParsedBFDProfile[];
  readonly communities: readonly ParsedCommunityAliases[];
  /** Secrets in ironlb's namespace, by name (only those peers name are read). */
  readonly secrets: ReadonlyMap<string, SecretFacts>;
  readonly pools: readonly ParsedPool[];
  readonly services: readonly ServiceFacts[];
  readonly endpoints: readonly EndpointFacts[];
  readonly poolOfIp?: (ip: string) => string | undefined;
  /**
   * The router ID when no peer sets `routerID`: the node's own IPv4 address.
   * Left to FRR, zebra picks the highest address it sees, which can be a
   * Service IP on a loopback or kube-ipvs0, and changes (resetting every
   * session) as Services come and go.
   */
  readonly defaultRouterID?: string;
}

export interface PeerSession {
  readonly peer: ParsedBGPPeer;
  /** From spec.password or the Secret. */
  readonly password?: string;
}

/** How one prefix goes to one peer. */
export interface PrefixAttributes {
  readonly family: IPFamily;
  /** 0 = none set. The highest of the advertisements that send the prefix to the peer. */
  readonly localPref: number;
  /** Sorted, deduplicated. */
  readonly communities: readonly BgpCommunity[];
}

export interface ConfigError {
  readonly kind: 'BGPPeer' | 'BGPAdvertisement' | 'BFDProfile' | 'Community';
  readonly name: string;
  readonly message: string;
}

export interface NodeBgpPlan {
  readonly myASN?: number;
  readonly routerID?: string;
  /** Sorted by peer name. */
  readonly sessions: readonly PeerSession[];
  /** Peer name -> prefix -> attributes. */
  readonly prefixes: ReadonlyMap<string, ReadonlyMap<string, PrefixAttributes>>;
  readonly bfdProfiles: readonly ParsedBFDProfile[];
  /** Objects (or parts of them) left out, each naming the field; everything else is planned as usual. */
  readonly errors: readonly ConfigError[];
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The BGP plan of `inputs.node`: its sessions, and what each peer is sent. Pure. */
export function planNode(inputs: BgpNodeInputs): NodeBgpPlan {
  const errors: ConfigError[] = [];
  const sessions = planSessions(inputs, errors);
  const prefixes = new Map<string, Map<string, PrefixAttributes>>(sessions.map((s) => [s.peer.name, new Map()]));
  const aliases = new Map<string, BgpCommunity>();
  for (const c of [...inputs.communities].sort(byName))
    for (const [alias, value] of c.aliases) if (!aliases.has(alias)) aliases.set(alias, value);

  for (const advertisement of [...inputs.advertisements].sort(byName)) {
    const communities = resolveCommunities(advertisement, aliases, errors);
    if (communities === undefined) continue;
    const targets = sessions.filter(
      (s) => advertisement.peers.length === 0 || advertisement.peers.includes(s.peer.name),
    );
    for (const [ip, pool] of eligibleIps(inputs, advertisement)) {
      const prefix = aggregate(ip, pool, advertisement, inputs.pools, errors);
      if (prefix === undefined) continue;
      for (const session of targets) {
        if (session.peer.peerAddress.family !== prefix.family) continue; // a session carries its own family
        const perPeer = prefixes.get(session.peer.name)!;
        const before = perPeer.get(prefix.text);
        perPeer.set(prefix.text, {
          family: prefix.family,
          localPref: Math.max(before?.localPref ?? 0, advertisement.localPref),
          communities: mergeCommunities(before?.communities ?? [], communities),
        });
      }
    }
  }
  const first = sessions[0]?.peer;
  const routerID = sessions.find((s) => s.peer.routerID !== undefined)?.peer.routerID ?? inputs.defaultRouterID;
  return {
    myASN: first?.myASN,
    routerID,
    sessions,
    prefixes,
    bfdProfiles: [...inputs.bfdProfiles].sort(byName),
    errors,
  };
}

/** The peers selecting this node that can be rendered; the others become errors naming the field. */
function planSessions(inputs: BgpNodeInputs, errors: ConfigError[]): PeerSession[] {
  const profiles = new Set(inputs.bfdProfiles.map((p) => p.name));
  const sessions: PeerSession[] = [];
  for (const peer of [...inputs.peers].sort(byName)) {
    if (!nodeSelectorsMatch(peer.nodeSelectors, inputs.node.labels)) continue;
    const fail = (message: string) => errors.push({ kind: 'BGPPeer', name: peer.name, message });
    if (peer.bfdProfile !== undefined && !profiles.has(peer.bfdProfile)) {
      fail(`spec.bfdProfile: BFDProfile "${peer.bfdProfile}" not found`);
      continue;
    }
    // One FRR BGP instance per node: one local AS, one router ID.
    const first = sessions[0]?.peer;
    if (first && first.myASN !== peer.myASN) {
      fail(
        `spec.myASN: ${peer.myASN} differs from ${first.myASN} of BGPPeer "${first.name}" on node ` +
          `${inputs.node.name}; a node has one local AS`,
      );
      continue;
    }
    const otherId = sessions.find((s) => s.peer.routerID !== undefined)?.peer;
    if (peer.routerID !== undefined && otherId && otherId.routerID !== peer.routerID) {
      fail(
        `spec.routerID: ${peer.routerID} differs from ${otherId.routerID} of BGPPeer "${otherId.name}" on node ` +
          `${inputs.node.name}; a node has one router ID`,
      );
      continue;
    }
    const same = sessions.find((s) => s.peer.peerAddress.text === peer.peerAddress.text);
    if (same) {
      fail(
        `spec.peerAddress: ${peer.peerAddress.text} is already the address of BGPPeer "${same.peer.name}" on node ` +
          `${inputs.node.name}`,
      );
      continue;
    }
    if (peer.passwordSecret === undefined) {
      sessions.push({ peer, password: peer.password });
      continue;
    }
    const password = secretPassword(peer.passwordSecret, inputs.secrets.get(peer.passwordSecret));
    if (!password.ok) fail(`spec.passwordSecret: ${password.error}`);
    else sessions.push({ peer, password: password.value });
  }
  return sessions;
}

function secretPassword(
  name: string,
  secret: SecretFacts | undefined,
): { ok: true; value: string } | { ok: false; error: string } {
  if (secret === undefined) return { ok: false, error: `Secret "${name}" not found` };
  if (secret.type !== BASIC_AUTH_SECRET_TYPE)
    return {
      ok: false,
      error: `Secret "${name}" has type ${JSON.stringify(secret.type ?? '')}, not ${BASIC_AUTH_SECRET_TYPE}`,
    };
  const encoded = secret.data?.password;
  if (encoded === undefined) return { ok: false, error: `Secret "${name}" has no "password" key` };
  const value = Buffer.from(encoded, 'base64').toString('utf8');
  if (!/^[\x21-\x7e]{1,80}$/.test(value))
    return { ok: false, error: `Secret "${name}": password must be 1 to 80 printable ASCII characters without spaces` };
  return { ok: true, value };
}

function resolveCommunities(
  advertisement: ParsedBGPAdvertisement,
  aliases: ReadonlyMap<string, BgpCommunity>,
  errors: ConfigError[],
): BgpCommunity[] | undefined {
  const result: BgpCommunity[] = [];
  for (const [index, ref] of advertisement.communities.entries()) {
    if (ref.kind !== 'alias') result.push(ref);
    else if (aliases.has(ref.name)) result.push(aliases.get(ref.name)!);
    else {
      errors.push({
        kind: 'BGPAdvertisement',
        name: advertisement.name,
        message: `spec.communities[${index}]: no Community defines the alias "${ref.name}"`,
      });
      return undefined;
    }
  }
  return result;
}

/**
 * IP -> pool for every IP this node is eligible to announce under `advertisement`, by the election's candidate rules.
 */
function eligibleIps(inputs: BgpNodeInputs, advertisement: ParsedBGPAdvertisement): Map<string, string> {
  if (!advertisementSelectsNode(advertisement, inputs.node.labels)) return new Map();
  // computeCandidates holds the rules (excluded or unavailable nodes, Local
  // policy, shared IPs, which pool). It was written for L2, whose eligibility
  // also needs an announcing interface; BGP needs none, so the node is given
  // one placeholder interface and the advertisement names none.
  const candidates = computeCandidates({
    nodes: [inputs.node],
    pools: inputs.pools.map((p) => ({ name: p.name, labels: p.labels })),
    advertisements: [
      {
        name: advertisement.name,
        ipAddressPools: advertisement.ipAddressPools,
        ipAddressPoolSelectors: advertisement.ipAddressPoolSelectors,
        nodeSelectors: [],
        interfaces: [],
      },
    ],
    services: inputs.services,
    endpoints: inputs.endpoints,
    speakerInterfaces: new Map([[inputs.node.name, ['bgp']]]),
    poolOfIp: inputs.poolOfIp,
  });
  const result = new Map<string, string>();
  for (const [ip, c] of candidates)
    if (c.eligible.has(inputs.node.name) && c.pool !== undefined) result.set(ip, c.pool);
  return result;
}

/** The prefix announced for `ip`: itself, or the aggregate, which must stay inside the pool's range. */
function aggregate(
  ipText: string,
  poolName: string,
  advertisement: ParsedBGPAdvertisement,
  pools: readonly ParsedPool[],
  errors: ConfigError[],
): { text: string; family: IPFamily } | undefined {
  const parsed = parseIP(ipText);
  if (!parsed.ok) return undefined;
  const ip = parsed.ip;
  const bits = bitLength(ip.family);
  const length = ip.family === 'IPv4' ? advertisement.aggregationLength : advertisement.aggregationLengthV6;
  const hostMask = maxValue(ip.family) >> BigInt(length);
  const start = ip.value & ~hostMask & maxValue(ip.family);
  const text = `${formatIP({ family: ip.family, value: start })}/${length}`;
  if (length < bits) {
    const range = pools.find((p) => p.name === poolName)?.ranges.find((r) => rangeContains(r, ip));
    if (range === undefined || start < range.start || (start | hostMask) > range.end) {
      const field = ip.family === 'IPv4' ? 'spec.aggregationLength' : 'spec.aggregationLengthV6';
      const where = range === undefined ? `pool ${poolName}` : `pool ${poolName}'s range ${formatRange(range)}`;
      errors.push({
        kind: 'BGPAdvertisement',
        name: advertisement.name,
        message: `${field}: ${text} (from ${ipText}) is wider than ${where}; not announced`,
      });
      return undefined;
    }
  }
  return { text, family: ip.family };
}

function mergeCommunities(a: readonly BgpCommunity[], b: readonly BgpCommunity[]): BgpCommunity[] {
  const all = new Map<string, BgpCommunity>();
  for (const c of [...a, ...b]) all.set(formatCommunity(c), c);
  return [...all.entries()].sort((x, y) => compareCommunity(x[0], y[0])).map(([, c]) => c);
}

/** Standard before large, then numerically part by part. */
function compareCommunity(a: string, b: string): number {
  const pa = a.split(':');
  const pb = b.split(':');
  if (pa.length !== pb.length) return pa.length - pb.length;
  for (let i = 0; i < pa.length; i++) {
    const d = (Number(pa[i]) || 0) - (Number(pb[i]) || 0);
    if (d !== 0) return d;
  }
  return 0;
}
