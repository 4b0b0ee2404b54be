import { describe, expect, it } from 'vitest';
import type { ParsedL2Advertisement } from '../../../src/api/l2advertisement.js';
import {
  announceInterfaces,
  computeCandidates,
  EXCLUDE_FROM_LB_LABEL,
  type CandidateInputs,
  type ServiceFacts,
} from '../../../src/election/candidates.js';

const IP = '192.0.2.10';

function advert(overrides: Partial<ParsedL2Advertisement> = {}): ParsedL2Advertisement {
  return {
    name: 'l2',
    ipAddressPools: [],
    ipAddressPoolSelectors: [],
    nodeSelectors: [],
    interfaces: [],
    ...overrides,
  };
}

function service(overrides: Partial<ServiceFacts> = {}): ServiceFacts {
  return {
    namespace: 'default',
    name: 'web',
    ips: [IP],
    pool: 'pool-a',
    externalTrafficPolicy: 'Cluster',
    ...overrides,
  };
}

function inputs(overrides: Partial<CandidateInputs> = {}): CandidateInputs {
  return {
    nodes: ['n1', 'n2', 'n3'].map((name) => ({
      name,
      labels: { zone: name === 'n3' ? 'b' : 'a' },
      networkUnavailable: false,
    })),
    pools: [{ name: 'pool-a', labels: { tier: 'gold' } }],
    advertisements: [advert()],
    services: [service()],
    endpoints: [],
    speakerInterfaces: new Map([
      ['n1', ['eth0']],
      ['n2', ['eth0', 'eth1']],
      ['n3', ['eth1']],
    ]),
    ...overrides,
  };
}

const eligibleOf = (i: CandidateInputs, ip = IP) => [...(computeCandidates(i).get(ip)?.eligible ?? [])].sort();

describe('computeCandidates', () => {
  it('every node with a speaker interface is a candidate under an empty advertisement', () => {
    expect(eligibleOf(inputs())).toEqual(['n1', 'n2', 'n3']);
  });

  it('honours node selectors', () => {
    const i = inputs({ advertisements: [advert({ nodeSelectors: [{ matchLabels: { zone: 'a' } }] })] });
    expect(eligibleOf(i)).toEqual(['n1', 'n2']);
  });

  it('leaves out nodes labelled exclude-from-external-load-balancers and NetworkUnavailable nodes', () => {
    const i = inputs({
      nodes: [
        { name: 'n1', labels: { [EXCLUDE_FROM_LB_LABEL]: '' }, networkUnavailable: false },
        { name: 'n2', labels: {}, networkUnavailable: true },
        { name: 'n3', labels: {}, networkUnavailable: false },
      ],
    });
    expect(eligibleOf(i)).toEqual(['n3']);
  });

  it('a node lacking the advertised interface is not a candidate', () => {
    expect(eligibleOf(inputs({ advertisements: [advert({ interfaces: ['eth1'] })] }))).toEqual(['n2', 'n3']);
  });

  it('a node with no speaker (no published interfaces) is not a candidate', () => {
    expect(eligibleOf(inputs({ speakerInterfaces: new Map([['n2', ['eth0']]]) }))).toEqual(['n2']);
  });

  it('only advertisements covering the pool count, by name or by selector', () => {
    expect(eligibleOf(inputs({ advertisements: [advert({ ipAddressPools: ['other'] })] }))).toEqual([]);
    const bySelector = advert({
      ipAddressPoolSelectors: [{ matchLabels: { tier: 'gold' } }],
      nodeSelectors: [{ matchLabels: { zone: 'b' } }],
    });
    expect(eligibleOf(inputs({ advertisements: [advert({ ipAddressPools: ['other'] }), bySelector] }))).toEqual(['n3']);
  });

  it('says why nobody qualifies', () => {
    expect(computeCandidates(inputs({ advertisements: [] })).get(IP)?.reason).toBe(
      'no L2Advertisement covers pool pool-a',
    );
    expect(computeCandidates(inputs({ services: [service({ pool: 'gone' })] })).get(IP)?.reason).toBe(
      'pool gone not found',
    );
    expect(computeCandidates(inputs({ services: [service({ pool: undefined })] })).get(IP)?.reason).toBe(
      'no pool holds the IP',
    );
  });

  it('falls back to address math for the pool when the Service does not name it', () => {
    const i = inputs({
      services: [service({ pool: undefined })],
      poolOfIp: (ip) => (ip === IP ? 'pool-a' : undefined),
    });
    expect(eligibleOf(i)).toEqual(['n1', 'n2', 'n3']);
  });

  it('externalTrafficPolicy Local: only nodes with a ready endpoint (absent ready counts as ready)', () => {
    const i = inputs({
      services: [service({ externalTrafficPolicy: 'Local' })],
      endpoints: [
        { serviceNamespace: 'default', serviceName: 'web', nodeName: 'n1', ready: false },
        { serviceNamespace: 'default', serviceName: 'web', nodeName: 'n2' },
        { serviceNamespace: 'other', serviceName: 'web', nodeName: 'n3', ready: true },
        { serviceNamespace: 'default', serviceName: 'web', ready: true },
      ],
    });
    expect(eligibleOf(i)).toEqual(['n2']);
  });

  it('a shared IP needs an endpoint of every Local Service on it, and lists every Service', () => {
    const i = inputs({
      services: [service({ externalTrafficPolicy: 'Local' }), service({ name: 'api', externalTrafficPolicy: 'Local' })],
      endpoints: [
        { serviceNamespace: 'default', serviceName: 'web', nodeName: 'n1', ready: true },
        { serviceNamespace: 'default', serviceName: 'web', nodeName: 'n2', ready: true },
        { serviceNamespace: 'default', serviceName: 'api', nodeName: 'n2', ready: true },
      ],
    });
    const result = computeCandidates(i).get(IP);
    expect([...(result?.eligible ?? [])]).toEqual(['n2']);
    expect(result?.services).toEqual([
      { namespace: 'default', name: 'web' },
      { namespace: 'default', name: 'api' },
    ]);
  });

  it('lists each IP of a dual-stack Service separately', () => {
    const i = inputs({ services: [service({ ips: [IP, '2001:db8::10'] })] });
    expect([...computeCandidates(i).keys()]).toEqual(['192.0.2.10', '2001:db8::10']);
  });
});

describe('announceInterfaces', () => {
  const node = { name: 'n2', labels: { zone: 'a' }, networkUnavailable: false };
  const pools = [{ name: 'pool-a', labels: {} }];

  it('is auto when a matching advertisement names no interface', () => {
    expect(
      announceInterfaces({ pools, advertisements: [advert(), advert({ interfaces: ['eth1'] })] }, 'pool-a', node, [
        'eth0',
        'eth1',
      ]),
    ).toBe('auto');
  });

  it('unites the named interfaces the node has', () => {
    const advertisements = [
      advert({ interfaces: ['eth1', 'eth9'] }),
      advert({ interfaces: ['eth0'] }),
      advert({ interfaces: ['eth2'], nodeSelectors: [{ matchLabels: { zone: 'b' } }] }),
    ];
    expect(announceInterfaces({ pools, advertisements }, 'pool-a', node, ['eth0', 'eth1', 'eth2'])).toEqual([
      'eth0',
      'eth1',
    ]);
  });

  it('is empty for an unknown pool', () => {
    expect(announceInterfaces({ pools, advertisements: [advert()] }, 'nope', node, ['eth0'])).toEqual([]);
  });
});
