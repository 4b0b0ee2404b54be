// BGP objects with every field set, shared by the generator's unit tests and
// the e2e check that real FRR accepts what the generator writes.
import { parsePool, type ParsedPool } from '../../../src/api/pool.js';
import { parseBFDProfile, type ParsedBFDProfile } from '../../../src/bgp/bfd-profile.js';
import { parseBGPAdvertisement, type ParsedBGPAdvertisement } from '../../../src/bgp/advertisement.js';
import { parseCommunity, type ParsedCommunityAliases } from '../../../src/bgp/community.js';
import { parseBGPPeer, type ParsedBGPPeer } from '../../../src/bgp/peer.js';
import type { BgpNodeInputs } from '../../../src/bgp/plan.js';

function must<T>(result: ({ ok: true } & Record<string, unknown>) | { ok: false; errors: string[] }, key: string): T {
  if (!result.ok) throw new Error(result.errors.join('; '));
  return (result as Record<string, unknown>)[key] as T;
}

export const peer = (name: string, spec: Record<string, unknown>): ParsedBGPPeer =>
  must(parseBGPPeer({ metadata: { name }, spec }), 'peer');
export const advertisement = (name: string, spec: Record<string, unknown>): ParsedBGPAdvertisement =>
  must(parseBGPAdvertisement({ metadata: { name }, spec }), 'advertisement');
export const bfdProfile = (name: string, spec: Record<string, unknown>): ParsedBFDProfile =>
  must(parseBFDProfile({ metadata: { name }, spec }), 'profile');
export const community = (name: string, communities: Array<{ name: string; value: string }>): ParsedCommunityAliases =>
  must(parseCommunity({ metadata: { name }, spec: { communities } }), 'community');
export const pool = (name: string, addresses: string[], labels: Record<string, string> = {}): ParsedPool =>
  must(parsePool({ metadata: { name, labels }, spec: { addresses } }), 'pool');

/** Node node-a, rack r1: two peers of three select it; three advertisements; two BFD profiles; one alias. */
export function everyField(): BgpNodeInputs {
  return {
    node: { name: 'node-a', labels: { rack: 'r1' }, networkUnavailable: false },
    peers: [
      peer('router-a', {
        myASN: 64512,
        peerASN: 64513,
        peerAddress: '192.0.2.1',
        peerPort: 1179,
        sourceAddress: '192.0.2.10',
        holdTime: '9s',
        keepaliveTime: '3s',
        connectTime: '5s',
        routerID: '192.0.2.10',
        nodeSelectors: [{ matchLabels: { rack: 'r1' } }],
        password: 's3cret',
        bfdProfile: 'fast',
        ebgpMultiHop: true,
        enableGracefulRestart: true,
      }),
      peer('router-b', {
        myASN: 64512,
        dynamicASN: 'external',
        peerAddress: '2001:DB8::1',
        holdTime: '30s',
        passwordSecret: { name: 'bgp-auth' },
      }),
      peer('router-c', {
        myASN: 64600,
        peerASN: 64513,
        peerAddress: '192.0.2.3',
        nodeSelectors: [{ matchLabels: { rack: 'r2' } }],
      }),
    ],
    advertisements: [
      advertisement('adv-a', {
        ipAddressPools: ['web'],
        peers: ['router-a'],
        nodeSelectors: [{ matchExpressions: [{ key: 'rack', operator: 'In', values: ['r1'] }] }],
        localPref: 100,
        communities: ['65535:65282', 'large:64512:1:2', 'no-advertise'],
      }),
      advertisement('adv-agg', {
        ipAddressPoolSelectors: [{ matchLabels: { tier: 'web' } }],
        aggregationLength: 28,
        peers: ['router-a'],
      }),
      advertisement('adv-v6', { ipAddressPools: ['v6'], aggregationLengthV6: 124 }),
    ],
    bfdProfiles: [
      bfdProfile('slow', {}),
      bfdProfile('fast', {
        receiveInterval: 100,
        transmitInterval: 150,
        detectMultiplier: 5,
        echoInterval: 60,
        echoMode: true,
        passiveMode: true,
        minimumTtl: 250,
      }),
    ],
    communities: [community('aliases', [{ name: 'no-advertise', value: '65535:65281' }])],
    secrets: new Map([
      [
        'bgp-auth',
        { type: 'kubernetes.io/basic-auth', data: { password: Buffer.from('from-secret').toString('base64') } },
      ],
    ]),
    pools: [pool('web', ['203.0.113.0/28'], { tier: 'web' }), pool('v6', ['2001:db8:1::/120'])],
    services: [
      { namespace: 'default', name: 'cluster', ips: ['203.0.113.1'], pool: 'web', externalTrafficPolicy: 'Cluster' },
      { namespace: 'default', name: 'local-here', ips: ['203.0.113.2'], pool: 'web', externalTrafficPolicy: 'Local' },
      {
        namespace: 'default',
        name: 'local-elsewhere',
        ips: ['203.0.113.3'],
        pool: 'web',
        externalTrafficPolicy: 'Local',
      },
      { namespace: 'default', name: 'six', ips: ['2001:db8:1::5'], pool: 'v6', externalTrafficPolicy: 'Cluster' },
    ],
    endpoints: [
      { serviceNamespace: 'default', serviceName: 'local-here', nodeName: 'node-a', ready: true },
      { serviceNamespace: 'default', serviceName: 'local-elsewhere', nodeName: 'node-b' },
      { serviceNamespace: 'default', serviceName: 'local-elsewhere', nodeName: 'node-a', ready: false },
    ],
  };
}

/**
 * Node `node` peering with one router (BGPPeer `tor`, AS 64512 to 64513, plus
 * `peerSpec`), every pool advertised to it, one Cluster Service per IP of pool
 * `lab` (203.0.113.0/27). The runtime tests and the lab tests share it.
 */
export function oneRouter(node: string, ips: readonly string[], peerSpec: Record<string, unknown>): BgpNodeInputs {
  return {
    node: { name: node, labels: {}, networkUnavailable: false },
    peers: [peer('tor', { myASN: 64512, peerASN: 64513, ...peerSpec })],
    advertisements: [advertisement('all', {})],
    bfdProfiles: [],
    communities: [],
    secrets: new Map(),
    pools: [pool('lab', ['203.0.113.0/27'])],
    services: ips.map((ip, i) => ({
      namespace: 'default',
      name: `svc${i}`,
      ips: [ip],
      pool: 'lab',
      externalTrafficPolicy: 'Cluster' as const,
    })),
    endpoints: [],
  };
}
