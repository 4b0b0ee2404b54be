// The BGP half of `kubectl ironlb migrate`: MetalLB's BGPPeer (v1beta1 and
// v1beta2), BGPAdvertisement, BFDProfile and Community specs field by field.
// ironlb kept MetalLB's field names, so most fields carry over unchanged; the
// rest are reported: what ironlb cannot do at all is an error (the object is
// not written), what it does differently is said. Pure.
import { parseBGPAdvertisement } from '../bgp/advertisement.js';
import { parseBFDProfile } from '../bgp/bfd-profile.js';
import { parseCommunity, parseCommunityValue } from '../bgp/community.js';
import { parseBGPPeer } from '../bgp/peer.js';
import { bfdProfileCrd, bgpAdvertisementCrd, bgpPeerCrd, communityCrd } from '../api/schema/bgp.js';

export type BgpOutcome = 'carried' | 'changed' | 'dropped' | 'error';
type Line = (field: string, outcome: BgpOutcome, detail: string) => void;

export const BGP_KINDS: ReadonlySet<string> = new Set([
  bgpPeerCrd.kind,
  bgpAdvertisementCrd.kind,
  bfdProfileCrd.kind,
  communityCrd.kind,
]);

const SAME = 'same meaning';

/** Fields that mean in ironlb what they meant in MetalLB, with a note where one helps. */
const CARRIED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  BGPPeer: {
    myASN: 'same meaning; peers selecting one node must agree on it (one FRR BGP instance per node, as MetalLB)',
    peerASN: SAME,
    dynamicASN: SAME,
    peerAddress: SAME,
    peerPort: SAME,
    sourceAddress: SAME,
    holdTime: 'same meaning (one timer alone sets the other, as MetalLB)',
    keepaliveTime: 'same meaning (one timer alone sets the other, as MetalLB)',
    connectTime: SAME,
    routerID: 'same meaning; peers selecting one node must agree on it',
    nodeSelectors: SAME,
    password: 'same meaning (TCP MD5)',
    bfdProfile: 'same meaning; the BFDProfile must be migrated too, or the peer is left out',
    ebgpMultiHop: SAME,
    enableGracefulRestart: 'same meaning (immutable, as MetalLB)',
  },
  BGPAdvertisement: {
    ipAddressPools: SAME,
    ipAddressPoolSelectors: SAME,
    nodeSelectors: SAME,
    peers: SAME,
    aggregationLength: SAME,
    aggregationLengthV6: SAME,
    localPref: 'same meaning (only iBGP peers see it)',
    communities: 'same meaning; an alias needs its Community object migrated too',
  },
  BFDProfile: {
    receiveInterval: SAME,
    transmitInterval: SAME,
    detectMultiplier: SAME,
    echoInterval: SAME,
    echoMode: SAME,
    passiveMode: SAME,
    minimumTtl: SAME,
  },
  Community: { communities: SAME },
};

/** MetalLB fields ironlb cannot honour: converting without them would peer differently, so the object is refused. */
const REFUSED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  BGPPeer: {
    vrf: 'no equivalent: ironlb peers from the default VRF only; without it this session would leave by another route',
    interface: 'no equivalent: ironlb has no unnumbered BGP; give the router a peerAddress instead',
    localASN: 'no equivalent: ironlb has no local-as per peer; the router would see myASN instead',
  },
};

/** Said of serviceSelectors on an L2 or a BGP advertisement alike. */
export const SERVICE_SELECTORS_DROPPED =
  'no equivalent: ironlb announces every Service of the pools an advertisement covers; ' +
  "restrict Services with the pool's serviceAllocation.serviceSelectors instead";

/** MetalLB fields left out with what ironlb does instead. */
const DROPPED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  BGPPeer: {
    disableMP:
      'not needed: ironlb always sends a family only over sessions of that family (MetalLB deprecated this field)',
  },
  BGPAdvertisement: { serviceSelectors: SERVICE_SELECTORS_DROPPED },
};

/**
 * Converts one MetalLB BGP spec. `metallbNamespace` is where MetalLB (and so a
 * peer's password Secret) lives; `namespace` is ironlb's.
 */
export function convertBgpSpec(
  kind: string,
  spec: Record<string, unknown>,
  names: { metallbNamespace: string; namespace: string },
  line: Line,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(spec)) {
    const path = `spec.${field}`;
    const carried = CARRIED[kind]?.[field];
    if (kind === 'BGPPeer' && field === 'passwordSecret') {
      const secret = convertPasswordSecret(value, names, line);
      if (secret !== undefined) out.passwordSecret = secret;
    } else if (kind === 'BGPPeer' && field === 'dualStackAddressFamily') {
      if (value === true) {
        line(
          path,
          'dropped',
          'no equivalent: ironlb sends IPv6 prefixes only to IPv6 peers (IPv4 to IPv4); ' +
            "add a BGPPeer for the router's other address or that family is not announced to it",
        );
      } else line(path, 'carried', 'false: ironlb behaves so always (one family per session)');
    } else if (carried !== undefined) {
      out[field] = value;
      line(path, 'carried', carried);
    } else if (REFUSED[kind]?.[field] !== undefined) {
      line(path, 'error', REFUSED[kind]![field]!);
    } else {
      line(path, 'dropped', DROPPED[kind]?.[field] ?? 'unknown field: no equivalent');
    }
  }
  if (Object.keys(spec).length === 0 && kind === 'BGPAdvertisement')
    line('spec', 'carried', 'empty: every pool, from every node, to every peer (as in MetalLB)');
  return out;
}

/**
 * MetalLB reads the Secret from its own namespace, ironlb from its own; the
 * plugin does not read or copy Secrets (it would need to read credentials), so
 * the report says which one to copy.
 */
function convertPasswordSecret(
  value: unknown,
  names: { metallbNamespace: string; namespace: string },
  line: Line,
): unknown {
  const ref = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  const name = ref ? (ref as Record<string, unknown>).name : undefined;
  // MetalLB's SecretReference is a struct, so Go writes `passwordSecret: {}`
  // for a peer without one (as its v1beta1 -> v1beta2 conversion does); MetalLB
  // reads an empty name as no Secret, and so does this.
  if (ref && (name === undefined || name === '')) {
    line('spec.passwordSecret', 'dropped', 'empty (no name): no Secret, as MetalLB reads it');
    return undefined;
  }
  // Anything else without a string name: ironlb's parser refuses the object and says why.
  if (typeof name !== 'string') return value;
  line(
    'spec.passwordSecret',
    'changed',
    `{name: ${name}}: copy the Secret ${names.metallbNamespace}/${name} (kubernetes.io/basic-auth, key password) ` +
      `into ${names.namespace} yourself; migrate does not copy Secrets, and without it the peer is left out`,
  );
  return { name };
}

/** ironlb's own parser for a converted BGP object: the errors it would refuse the object with. */
export function checkBgpObject(object: { kind: string }): string[] {
  const result =
    object.kind === 'BGPPeer'
      ? parseBGPPeer(object)
      : object.kind === 'BGPAdvertisement'
        ? parseBGPAdvertisement(object)
        : object.kind === 'BFDProfile'
          ? parseBFDProfile(object)
          : parseCommunity(object);
  return result.ok ? [] : result.errors;
}

interface Converted {
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}

/**
 * References the speaker resolves when it renders (a peer's BFDProfile, an
 * advertisement's peers and community aliases) to objects not converted in
 * this run: they must already exist in ironlb's namespace, or the peer is left
 * out, the alias refused, the peer name matches nothing.
 */
export function bgpReferenceWarnings(
  object: Converted,
  all: readonly Converted[],
  namespace: string,
): { field: string; detail: string }[] {
  const named = (kind: string) => new Set(all.filter((o) => o.kind === kind).map((o) => o.metadata.name));
  const missing = (what: string, then: string) =>
    `${what} is not among the objects converted here: it must exist in ${namespace}, or ${then}`;
  const warnings: { field: string; detail: string }[] = [];
  const { spec } = object;
  if (object.kind === 'BGPPeer' && typeof spec.bfdProfile === 'string' && spec.bfdProfile !== '') {
    if (!named('BFDProfile').has(spec.bfdProfile))
      warnings.push({
        field: 'spec.bfdProfile',
        detail: missing(`BFDProfile ${spec.bfdProfile}`, 'the peer is left out (InvalidBGPConfiguration)'),
      });
  }
  if (object.kind !== 'BGPAdvertisement') return warnings;
  const peers = named('BGPPeer');
  for (const [i, peer] of (Array.isArray(spec.peers) ? spec.peers : []).entries()) {
    if (typeof peer === 'string' && !peers.has(peer))
      warnings.push({ field: `spec.peers[${i}]`, detail: missing(`BGPPeer ${peer}`, 'this entry matches no peer') });
  }
  const aliases = new Set(
    all
      .filter((o) => o.kind === 'Community' && Array.isArray(o.spec.communities))
      .flatMap((o) => (o.spec.communities as { name?: unknown }[]).map((c) => c.name)),
  );
  for (const [i, community] of (Array.isArray(spec.communities) ? spec.communities : []).entries()) {
    if (typeof community !== 'string' || parseCommunityValue(community) !== undefined || aliases.has(community))
      continue;
    warnings.push({
      field: `spec.communities[${i}]`,
      detail: missing(`the Community alias ${community}`, 'the advertisement is left out (InvalidBGPConfiguration)'),
    });
  }
  return warnings;
}
