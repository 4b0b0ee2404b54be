// The FRR configuration a node gets, byte for byte, and the selection rules
// (MetalLB's): who peers, who announces which IP as which prefix to whom, and
// what a bad object leaves out while everything else stays as it was.
import { describe, expect, test } from 'vitest';
import { renderFrrConfig } from '../../../src/bgp/frr-config.js';
import { planNode, type BgpNodeInputs } from '../../../src/bgp/plan.js';
import { EXCLUDE_FROM_LB_LABEL } from '../../../src/election/candidates.js';
import { advertisement, everyField, peer } from './fixtures.js';

const render = (inputs: BgpNodeInputs) => renderFrrConfig(planNode(inputs), { hostname: inputs.node.name });
/** Prefix -> peers it is sent to, the plan's view of who gets what. */
const sent = (inputs: BgpNodeInputs) =>
  Object.fromEntries([...planNode(inputs).prefixes].map(([p, m]) => [p, [...m.keys()]]));

const EVERY_FIELD = `frr defaults traditional
hostname node-a
log stdout informational
ip nht resolve-via-default
ipv6 nht resolve-via-default
!
route-map ironlb-router-a-in deny 10
exit
!
ip prefix-list ironlb-router-a-localpref-100-ipv4 seq 5 permit 203.0.113.1/32
ip prefix-list ironlb-router-a-localpref-100-ipv4 seq 10 permit 203.0.113.2/32
route-map ironlb-router-a-out permit 10
 match ip address prefix-list ironlb-router-a-localpref-100-ipv4
 set local-preference 100
 on-match next
exit
!
ip prefix-list ironlb-router-a-community-65535:65281-ipv4 seq 5 permit 203.0.113.1/32
ip prefix-list ironlb-router-a-community-65535:65281-ipv4 seq 10 permit 203.0.113.2/32
route-map ironlb-router-a-out permit 20
 match ip address prefix-list ironlb-router-a-community-65535:65281-ipv4
 set community 65535:65281 additive
 on-match next
exit
!
ip prefix-list ironlb-router-a-community-65535:65282-ipv4 seq 5 permit 203.0.113.1/32
ip prefix-list ironlb-router-a-community-65535:65282-ipv4 seq 10 permit 203.0.113.2/32
route-map ironlb-router-a-out permit 30
 match ip address prefix-list ironlb-router-a-community-65535:65282-ipv4
 set community 65535:65282 additive
 on-match next
exit
!
ip prefix-list ironlb-router-a-community-large:64512:1:2-ipv4 seq 5 permit 203.0.113.1/32
ip prefix-list ironlb-router-a-community-large:64512:1:2-ipv4 seq 10 permit 203.0.113.2/32
route-map ironlb-router-a-out permit 40
 match ip address prefix-list ironlb-router-a-community-large:64512:1:2-ipv4
 set large-community 64512:1:2 additive
 on-match next
exit
!
ip prefix-list ironlb-router-a-ipv4 seq 5 permit 203.0.113.0/28
ip prefix-list ironlb-router-a-ipv4 seq 10 permit 203.0.113.1/32
ip prefix-list ironlb-router-a-ipv4 seq 15 permit 203.0.113.2/32
route-map ironlb-router-a-out permit 50
 match ip address prefix-list ironlb-router-a-ipv4
exit
!
ipv6 prefix-list ironlb-router-a-ipv6 seq 5 deny any
route-map ironlb-router-a-out permit 60
 match ipv6 address prefix-list ironlb-router-a-ipv6
exit
!
route-map ironlb-router-b-in deny 10
exit
!
ip prefix-list ironlb-router-b-ipv4 seq 5 deny any
route-map ironlb-router-b-out permit 10
 match ip address prefix-list ironlb-router-b-ipv4
exit
!
ipv6 prefix-list ironlb-router-b-ipv6 seq 5 permit 2001:db8:1::/124
route-map ironlb-router-b-out permit 20
 match ipv6 address prefix-list ironlb-router-b-ipv6
exit
!
router bgp 64512
 bgp router-id 192.0.2.10
 no bgp ebgp-requires-policy
 no bgp network import-check
 no bgp default ipv4-unicast
 bgp graceful-restart preserve-fw-state
 neighbor 192.0.2.1 remote-as 64513
 neighbor 192.0.2.1 description router-a
 neighbor 192.0.2.1 port 1179
 neighbor 192.0.2.1 update-source 192.0.2.10
 neighbor 192.0.2.1 timers 3 9
 neighbor 192.0.2.1 timers connect 5
 neighbor 192.0.2.1 password s3cret
 neighbor 192.0.2.1 ebgp-multihop
 neighbor 192.0.2.1 graceful-restart
 neighbor 192.0.2.1 bfd
 neighbor 192.0.2.1 bfd profile fast
 neighbor 2001:db8::1 remote-as external
 neighbor 2001:db8::1 description router-b
 neighbor 2001:db8::1 timers 10 30
 neighbor 2001:db8::1 password from-secret
 neighbor 2001:db8::1 graceful-restart-disable
 !
 address-family ipv4 unicast
  network 203.0.113.0/28
  network 203.0.113.1/32
  network 203.0.113.2/32
  neighbor 192.0.2.1 activate
  neighbor 192.0.2.1 route-map ironlb-router-a-in in
  neighbor 192.0.2.1 route-map ironlb-router-a-out out
 exit-address-family
 !
 address-family ipv6 unicast
  network 2001:db8:1::/124
  neighbor 2001:db8::1 activate
  neighbor 2001:db8::1 route-map ironlb-router-b-in in
  neighbor 2001:db8::1 route-map ironlb-router-b-out out
 exit-address-family
exit
!
bfd
 profile fast
  receive-interval 100
  transmit-interval 150
  detect-multiplier 5
  echo receive-interval 60
  echo transmit-interval 60
  echo-mode
  passive-mode
  minimum-ttl 250
 exit
 profile slow
 exit
exit
!
`;

describe('the FRR configuration of one node', () => {
  test('every field of every object, byte for byte', () => {
    const plan = planNode(everyField());
    expect(plan.errors).toEqual([]);
    expect(renderFrrConfig(plan, { hostname: 'node-a' })).toBe(EVERY_FIELD);
  });

  test('the same objects in another order give the same bytes', () => {
    const inputs = everyField();
    const shuffled: BgpNodeInputs = {
      ...inputs,
      peers: [...inputs.peers].reverse(),
      advertisements: [...inputs.advertisements].reverse(),
      bfdProfiles: [...inputs.bfdProfiles].reverse(),
      services: [...inputs.services].reverse(),
      endpoints: [...inputs.endpoints].reverse(),
    };
    expect(render(shuffled)).toBe(EVERY_FIELD);
  });

  test("the node's own address is the router ID when no peer sets one; a peer's routerID wins", () => {
    const unset = { ...everyField(), peers: everyField().peers.map((p) => ({ ...p, routerID: undefined })) };
    expect(render(unset)).not.toContain('bgp router-id');
    expect(render({ ...unset, defaultRouterID: '192.0.2.21' })).toContain('\n bgp router-id 192.0.2.21\n');
    expect(render({ ...everyField(), defaultRouterID: '192.0.2.21' })).toBe(EVERY_FIELD);
  });

  test('no peer selects the node: no router bgp at all', () => {
    const inputs = {
      ...everyField(),
      node: { name: 'node-z', labels: { rack: 'r9' }, networkUnavailable: false },
      peers: [everyField().peers[0]!],
      bfdProfiles: [],
    };
    expect(render(inputs)).toBe(
      'frr defaults traditional\nhostname node-z\nlog stdout informational\nip nht resolve-via-default\nipv6 nht ' +
        'resolve-via-default\n!\n',
    );
  });
});

describe('which node announces what (MetalLB rules)', () => {
  const simple = (): BgpNodeInputs => ({
    ...everyField(),
    peers: [peer('tor', { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1' })],
    advertisements: [advertisement('all', {})],
    bfdProfiles: [],
  });

  test('each IP as a /32 from every eligible node; Local policy only where an endpoint is ready', () => {
    expect(sent(simple())).toEqual({ tor: ['203.0.113.1/32', '203.0.113.2/32'] });
    const elsewhere: BgpNodeInputs = { ...simple(), node: { name: 'node-b', labels: {}, networkUnavailable: false } };
    expect([...planNode(elsewhere).prefixes.get('tor')!.keys()]).toEqual(['203.0.113.1/32', '203.0.113.3/32']);
  });

  test('an excluded or not-ready node keeps its session but announces nothing', () => {
    const excluded = {
      ...simple(),
      node: { name: 'node-a', labels: { [EXCLUDE_FROM_LB_LABEL]: '' }, networkUnavailable: false },
    };
    const unavailable = { ...simple(), node: { name: 'node-a', labels: {}, networkUnavailable: true } };
    for (const inputs of [excluded, unavailable]) {
      const plan = planNode(inputs);
      expect(plan.sessions.map((s) => s.peer.name)).toEqual(['tor']);
      expect([...plan.prefixes.get('tor')!]).toEqual([]);
      expect(render(inputs)).toContain('ip prefix-list ironlb-tor-ipv4 seq 5 deny any\n');
      expect(render(inputs)).not.toMatch(/^ {2}network /m);
    }
  });

  test("an advertisement's node selectors, pool selection and peers limit it", () => {
    const inputs = {
      ...simple(),
      peers: [...simple().peers, peer('tor2', { myASN: 64512, peerASN: 64514, peerAddress: '192.0.2.2' })],
    };
    const only = (spec: Record<string, unknown>) => sent({ ...inputs, advertisements: [advertisement('a', spec)] });
    expect(only({ nodeSelectors: [{ matchLabels: { rack: 'r2' } }] })).toEqual({ tor: [], tor2: [] });
    expect(only({ ipAddressPools: ['v6'] })).toEqual({ tor: [], tor2: [] }); // IPv6 prefixes go to no IPv4 session
    expect(only({ ipAddressPoolSelectors: [{ matchLabels: { tier: 'db' } }] })).toEqual({ tor: [], tor2: [] });
    expect(only({ peers: ['tor2'] })).toEqual({ tor: [], tor2: ['203.0.113.1/32', '203.0.113.2/32'] });
    expect(only({ peers: ['not-a-peer'] })).toEqual({ tor: [], tor2: [] });
  });

  test('two advertisements for one prefix: the higher local preference, the union of communities', () => {
    const inputs = {
      ...simple(),
      advertisements: [
        advertisement('a', { localPref: 50, communities: ['1:1'] }),
        advertisement('b', { localPref: 70, communities: ['1:2', '1:1'] }),
      ],
    };
    const attributes = planNode(inputs).prefixes.get('tor')!.get('203.0.113.1/32');
    expect(attributes).toEqual({
      family: 'IPv4',
      localPref: 70,
      communities: [
        { kind: 'standard', value: '1:1' },
        { kind: 'standard', value: '1:2' },
      ],
    });
  });

  test('a Service deleted is withdrawn: its prefix leaves the config', () => {
    const inputs = simple();
    const without = { ...inputs, services: inputs.services.filter((s) => s.name !== 'cluster') };
    expect(render(inputs)).toContain(' network 203.0.113.1/32\n');
    expect(render(without)).not.toContain('203.0.113.1/32');
  });
});

describe('bad objects: the one at fault is left out with a clear error, nothing else changes', () => {
  /** The every-field config with router-b's neighbor lines, filters and IPv6 family removed. */
  function withoutRouterB(): string {
    return EVERY_FIELD.replace(/route-map ironlb-router-b-in[\s\S]*?(?=router bgp)/, '')
      .replace(/ neighbor 2001:db8::1 [^\n]*\n/g, '')
      .replace(/ !\n address-family ipv6 unicast\n[\s\S]*? exit-address-family\n/, '');
  }

  test.each<[string, (i: BgpNodeInputs) => BgpNodeInputs, string]>([
    [
      'a missing password Secret',
      (i) => ({ ...i, secrets: new Map() }),
      'spec.passwordSecret: Secret "bgp-auth" not found',
    ],
    [
      'a Secret of the wrong type',
      (i) => ({ ...i, secrets: new Map([['bgp-auth', { type: 'Opaque', data: { password: 'eA==' } }]]) }),
      'spec.passwordSecret: Secret "bgp-auth" has type "Opaque", not kubernetes.io/basic-auth',
    ],
    [
      'a Secret without a password',
      (i) => ({
        ...i,
        secrets: new Map([['bgp-auth', { type: 'kubernetes.io/basic-auth', data: { username: 'eA==' } }]]),
      }),
      'spec.passwordSecret: Secret "bgp-auth" has no "password" key',
    ],
    [
      'a password with a space in the Secret',
      (i) => ({
        ...i,
        secrets: new Map([
          ['bgp-auth', { type: 'kubernetes.io/basic-auth', data: { password: Buffer.from('a b').toString('base64') } }],
        ]),
      }),
      'spec.passwordSecret: Secret "bgp-auth": password must be 1 to 80 printable ASCII characters without spaces',
    ],
    [
      'an unknown BFD profile',
      (i) => ({ ...i, peers: i.peers.map((p) => (p.name === 'router-b' ? { ...p, bfdProfile: 'missing' } : p)) }),
      'spec.bfdProfile: BFDProfile "missing" not found',
    ],
    [
      'another local AS on the same node',
      (i) => ({ ...i, peers: i.peers.map((p) => (p.name === 'router-b' ? { ...p, myASN: 65000 } : p)) }),
      'spec.myASN: 65000 differs from 64512 of BGPPeer "router-a" on node node-a; a node has one local AS',
    ],
    [
      'another router ID on the same node',
      (i) => ({ ...i, peers: i.peers.map((p) => (p.name === 'router-b' ? { ...p, routerID: '192.0.2.99' } : p)) }),
      'spec.routerID: 192.0.2.99 differs from 192.0.2.10 of BGPPeer "router-a" on node node-a; a node has one ' +
        'router ID',
    ],
  ])('%s: router-b is left out, router-a unchanged', (_name, change, message) => {
    const plan = planNode(change(everyField()));
    expect(plan.errors).toEqual([{ kind: 'BGPPeer', name: 'router-b', message }]);
    expect(renderFrrConfig(plan, { hostname: 'node-a' })).toBe(withoutRouterB());
  });

  test('two peers with one address: the second by name is left out', () => {
    const inputs = everyField();
    const twin = peer('router-z', { myASN: 64512, peerASN: 64999, peerAddress: '192.0.2.1' });
    const plan = planNode({ ...inputs, peers: [...inputs.peers, twin] });
    expect(plan.errors).toEqual([
      {
        kind: 'BGPPeer',
        name: 'router-z',
        message: 'spec.peerAddress: 192.0.2.1 is already the address of BGPPeer "router-a" on node node-a',
      },
    ]);
    expect(renderFrrConfig(plan, { hostname: 'node-a' })).toBe(EVERY_FIELD);
  });

  test('an unknown community alias leaves out that advertisement only', () => {
    const inputs = everyField();
    const plan = planNode({ ...inputs, communities: [] });
    expect(plan.errors).toEqual([
      {
        kind: 'BGPAdvertisement',
        name: 'adv-a',
        message: 'spec.communities[2]: no Community defines the alias "no-advertise"',
      },
    ]);
    const text = renderFrrConfig(plan, { hostname: 'node-a' });
    expect(text).not.toContain('community');
    expect(text).not.toContain('local-preference');
    expect(text).toContain('ip prefix-list ironlb-router-a-ipv4 seq 5 permit 203.0.113.0/28\n');
    expect(text).toContain('ipv6 prefix-list ironlb-router-b-ipv6 seq 5 permit 2001:db8:1::/124\n');
  });

  test('an aggregate wider than the pool is not announced, and says why', () => {
    const inputs = everyField();
    const wide = advertisement('adv-agg', {
      ipAddressPoolSelectors: [{ matchLabels: { tier: 'web' } }],
      aggregationLength: 24,
      peers: ['router-a'],
    });
    const plan = planNode({
      ...inputs,
      advertisements: inputs.advertisements.map((a) => (a.name === 'adv-agg' ? wide : a)),
    });
    expect(plan.errors).toEqual([
      {
        kind: 'BGPAdvertisement',
        name: 'adv-agg',
        message:
          "spec.aggregationLength: 203.0.113.0/24 (from 203.0.113.1) is wider than pool web's range 203.0.113.0/28; " +
          'not announced',
      },
      {
        kind: 'BGPAdvertisement',
        name: 'adv-agg',
        message:
          "spec.aggregationLength: 203.0.113.0/24 (from 203.0.113.2) is wider than pool web's range 203.0.113.0/28; " +
          'not announced',
      },
    ]);
    const text = renderFrrConfig(plan, { hostname: 'node-a' });
    expect(text).not.toContain('203.0.113.0/');
    expect(text).toContain(' network 203.0.113.1/32\n');
  });
});
