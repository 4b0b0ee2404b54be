// The BGP objects, with MetalLB's field names (docs/bgp.md, "The schema the
// CRDs should get"). The parsers in src/bgp/ check everything again, including
// what CEL of 1.29 cannot (an address's family needs ip(), which is 1.30+).
import { IPV4, conditions, labelSelector, objectName } from './common.js';
import type { CrdSource } from './crd.js';
import { array, boolean, integer, object, string, type TypeOf, type ValidationRule } from './openapi.js';

/** IPv6 text at the level a pattern can hold it; the parser checks it exactly. */
const IPV6 = '[0-9a-fA-F:]*:[0-9a-fA-F:.]*';
const ipAddress = string({ maxLength: 45, pattern: `^(${IPV4}|${IPV6})$` });

/** Go's time.ParseDuration syntax without a sign, as the parser reads it ("90s", "1m30s", "0"). */
export const DURATION_PATTERN = '^(0|(([0-9]+(\\.[0-9]+)?|\\.[0-9]+)(ns|us|µs|ms|s|m|h))+)$';

/** ASNs (RFC 6793) and local preferences are 32-bit unsigned. */
const UINT32_MAX = 4_294_967_295;
export const DEFAULT_PEER_PORT = 179;

/** A Go duration of whole seconds in [min, max]: FRR's timers take seconds. */
function seconds(field: string, min: number, max: number, extra: readonly ValidationRule[] = []) {
  return string({
    format: 'duration',
    maxLength: 64,
    pattern: DURATION_PATTERN,
    'x-kubernetes-validations': [
      // Not MetalLB's getMilliseconds() % 1000 == 0: CEL's getMilliseconds() is the
      // millisecond component, blind to "1.0005s"; getSeconds() is the whole.
      {
        rule: "duration(self) == duration(string(duration(self).getSeconds()) + 's')",
        message: `spec.${field}: must be a whole number of seconds`,
      },
      {
        rule: `duration(self) >= duration('${min}s') && duration(self) <= duration('${max}s')`,
        message: `spec.${field}: must be from ${min}s to ${max}s`,
      },
      ...extra,
    ],
  });
}

const asn = () => integer({ format: 'int64', minimum: 1, maximum: UINT32_MAX });

export const bgpPeerSpec = object(
  {
    myASN: asn(),
    peerASN: asn(),
    dynamicASN: string({ enum: ['internal', 'external'] }),
    peerAddress: ipAddress,
    peerPort: integer({ minimum: 1, maximum: 16384, default: DEFAULT_PEER_PORT }),
    sourceAddress: ipAddress,
    holdTime: seconds('holdTime', 0, 65535, [
      {
        rule: "duration(self) == duration('0s') || duration(self) >= duration('3s')",
        message: 'spec.holdTime: must be 0 or at least 3s',
      },
    ]),
    keepaliveTime: seconds('keepaliveTime', 0, 65535),
    connectTime: seconds('connectTime', 1, 65535),
    routerID: string({ maxLength: 15, pattern: `^${IPV4}$` }),
    nodeSelectors: array(labelSelector, { description: 'Nodes that peer; none means every node.' }),
    password: string({ minLength: 1, maxLength: 80, pattern: '^[!-~]+$', description: 'TCP MD5 key.' }),
    passwordSecret: object(
      { name: objectName },
      { required: ['name'], description: 'A kubernetes.io/basic-auth Secret of the same namespace, key `password`.' },
    ),
    bfdProfile: objectName,
    ebgpMultiHop: boolean({ default: false }),
    enableGracefulRestart: boolean({
      default: false,
      'x-kubernetes-validations': [
        { rule: 'self == oldSelf', message: 'spec.enableGracefulRestart: cannot be changed' },
      ],
    }),
  },
  {
    required: ['myASN', 'peerAddress'],
    'x-kubernetes-validations': [
      {
        rule: 'has(self.peerASN) != has(self.dynamicASN)',
        message: 'spec.peerASN: set exactly one of spec.peerASN and spec.dynamicASN',
        fieldPath: '.peerASN',
      },
      {
        rule:
          '!has(self.keepaliveTime) || !has(self.holdTime) || ' +
          'duration(self.keepaliveTime) <= duration(self.holdTime)',
        message: 'spec.keepaliveTime: must not be longer than spec.holdTime',
        fieldPath: '.keepaliveTime',
      },
      {
        rule: '!(has(self.password) && has(self.passwordSecret))',
        message: 'spec.passwordSecret: set only one of spec.password and spec.passwordSecret',
        fieldPath: '.passwordSecret',
      },
      {
        rule:
          '!self.ebgpMultiHop || ' +
          "(has(self.peerASN) ? self.peerASN != self.myASN : !has(self.dynamicASN) || self.dynamicASN != 'internal')",
        message: 'spec.ebgpMultiHop: not allowed for an iBGP peer',
        fieldPath: '.ebgpMultiHop',
      },
    ],
  },
);

export const bgpPeerCrd: CrdSource = {
  kind: 'BGPPeer',
  plural: 'bgppeers',
  comment: "BGPPeer: a BGP router the nodes peer with (MetalLB's fields; docs/bgp.md).",
  description: 'A BGP session from the selected nodes to one router.',
  spec: bgpPeerSpec,
  status: object({ conditions }),
  printerColumns: [
    { name: 'Address', type: 'string', jsonPath: '.spec.peerAddress' },
    { name: 'ASN', type: 'integer', jsonPath: '.spec.peerASN' },
    { name: 'BFD Profile', type: 'string', jsonPath: '.spec.bfdProfile' },
  ],
};

/** A community value (`65535:65282`, `large:1:2:3`) or an alias name; numbers are range-checked by the parser. */
const COMMUNITY_VALUE = '\\d{1,5}:\\d{1,5}|large:\\d{1,10}:\\d{1,10}:\\d{1,10}';
const ALIAS_NAME = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
/** MetalLB's limit: FRR refuses more communities on one route-map entry set. */
export const MAX_COMMUNITIES = 63;

export const bgpAdvertisementSpec = object(
  {
    ipAddressPools: array(objectName, { description: 'Names of IPAddressPools to announce.' }),
    ipAddressPoolSelectors: array(labelSelector, { description: 'Label selectors of IPAddressPools to announce.' }),
    nodeSelectors: array(labelSelector, { description: 'Nodes that announce; none means every node.' }),
    peers: array(objectName, { description: 'BGPPeer names to announce to; none means every peer.' }),
    aggregationLength: integer({ minimum: 1, maximum: 32, default: 32 }),
    aggregationLengthV6: integer({ minimum: 1, maximum: 128, default: 128 }),
    localPref: integer({ format: 'int64', minimum: 0, maximum: UINT32_MAX }),
    communities: array(string({ maxLength: 64, pattern: `^(${COMMUNITY_VALUE}|${ALIAS_NAME})$` }), {
      maxItems: MAX_COMMUNITIES,
    }),
  },
  { description: 'With no pools and no pool selectors, every pool is announced.' },
);

export const bgpAdvertisementCrd: CrdSource = {
  kind: 'BGPAdvertisement',
  plural: 'bgpadvertisements',
  comment: 'BGPAdvertisement: which pools are announced over BGP, from which nodes, to which peers.',
  description: 'Announces the addresses of the selected pools to BGP peers.',
  spec: bgpAdvertisementSpec,
  status: object({ conditions }),
  printerColumns: [
    { name: 'IPAddressPools', type: 'string', jsonPath: '.spec.ipAddressPools' },
    { name: 'Peers', type: 'string', jsonPath: '.spec.peers' },
  ],
};

export const BFD_DEFAULTS = {
  receiveInterval: 300,
  transmitInterval: 300,
  detectMultiplier: 3,
  echoInterval: 50,
  minimumTtl: 254,
} as const;
const milliseconds = (fallback: number, description: string) =>
  integer({ minimum: 10, maximum: 60000, default: fallback, description });

export const bfdProfileSpec = object({
  receiveInterval: milliseconds(BFD_DEFAULTS.receiveInterval, 'Milliseconds.'),
  transmitInterval: milliseconds(BFD_DEFAULTS.transmitInterval, 'Milliseconds.'),
  detectMultiplier: integer({ minimum: 2, maximum: 255, default: BFD_DEFAULTS.detectMultiplier }),
  echoInterval: milliseconds(BFD_DEFAULTS.echoInterval, 'Milliseconds.'),
  echoMode: boolean({ default: false }),
  passiveMode: boolean({ default: false }),
  minimumTtl: integer({ minimum: 1, maximum: 254, default: BFD_DEFAULTS.minimumTtl }),
});

export const bfdProfileCrd: CrdSource = {
  kind: 'BFDProfile',
  plural: 'bfdprofiles',
  comment: 'BFDProfile: BFD timers a BGPPeer can name; the defaults detect a dead link in 3 x 300 ms.',
  description: 'BFD settings for BGP sessions.',
  spec: bfdProfileSpec,
  status: object({ conditions }),
  printerColumns: [
    { name: 'Passive Mode', type: 'boolean', jsonPath: '.spec.passiveMode' },
    { name: 'Transmit Interval', type: 'integer', jsonPath: '.spec.transmitInterval' },
    { name: 'Receive Interval', type: 'integer', jsonPath: '.spec.receiveInterval' },
    { name: 'Multiplier', type: 'integer', jsonPath: '.spec.detectMultiplier' },
  ],
};

export const communitySpec = object({
  communities: array(
    object(
      {
        name: string({ maxLength: 63, pattern: `^${ALIAS_NAME}$` }),
        value: string({ maxLength: 40, pattern: `^(${COMMUNITY_VALUE})$` }),
      },
      { required: ['name', 'value'] },
    ),
    { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
  ),
});

export const communityCrd: CrdSource = {
  kind: 'Community',
  plural: 'communities',
  comment: 'Community: names for BGP community values, usable in BGPAdvertisement.spec.communities.',
  description: 'Aliases for BGP communities.',
  spec: communitySpec,
  status: object({ conditions }),
};

export type BGPPeerSpec = TypeOf<typeof bgpPeerSpec>;
export type BGPAdvertisementSpec = TypeOf<typeof bgpAdvertisementSpec>;
export type BFDProfileSpec = TypeOf<typeof bfdProfileSpec>;
export type CommunitySpec = TypeOf<typeof communitySpec>;
