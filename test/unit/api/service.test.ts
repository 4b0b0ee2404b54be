import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, test } from 'vitest';
import { readServiceIntent, type ServiceIntent } from '../../../src/api/service.js';
import { formatIP } from '../../../src/ip/address.js';

function service(
  spec: V1Service['spec'] = {},
  annotations: Record<string, string> = {},
  labels: Record<string, string> = {},
): V1Service {
  return { metadata: { name: 'web', namespace: 'shop', annotations, labels }, spec: { type: 'LoadBalancer', ...spec } };
}

function intentOf(svc: V1Service): ServiceIntent {
  const result = readServiceIntent(svc);
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.intent;
}

function errorsOf(svc: V1Service): string[] {
  const result = readServiceIntent(svc);
  if (result.ok) throw new Error('expected errors');
  return result.errors;
}

describe('readServiceIntent', () => {
  test('a plain LoadBalancer Service', () => {
    const intent = intentOf(
      service(
        {
          clusterIPs: ['10.96.0.10'],
          ipFamilies: ['IPv4'],
          ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }],
          selector: { app: 'web' },
        },
        {},
        { tier: 'gold' },
      ),
    );
    expect(intent).toEqual({
      key: 'shop/web',
      namespace: 'shop',
      name: 'web',
      type: 'LoadBalancer',
      requestedIPs: [],
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
      ports: [
        { protocol: 'TCP', port: 80 },
        { protocol: 'UDP', port: 53 },
      ],
      externalTrafficPolicy: 'Cluster',
      selector: { app: 'web' },
      serviceLabels: { tier: 'gold' },
      compatAnnotations: [],
    });
  });

  test('requested IPs from the annotation (any prefix), pool and sharing key', () => {
    const intent = intentOf(
      service(
        { externalTrafficPolicy: 'Local', loadBalancerClass: 'ironlb' },
        {
          'metallb.universe.tf/loadBalancerIPs': '192.0.2.10, 2001:db8::10',
          'ironlb.io/address-pool': 'lab',
          'metallb.io/allow-shared-ip': 'team',
        },
      ),
    );
    expect(intent.requestedIPs.map(formatIP)).toEqual(['192.0.2.10', '2001:db8::10']);
    expect(intent.requestedIPsSource).toBe('annotation');
    expect(intent.requestedPool).toBe('lab');
    expect(intent.sharingKey).toBe('team');
    expect(intent.externalTrafficPolicy).toBe('Local');
    expect(intent.loadBalancerClass).toBe('ironlb');
    expect(intent.compatAnnotations.map((a) => a.key)).toEqual([
      'metallb.universe.tf/loadBalancerIPs',
      'metallb.io/allow-shared-ip',
    ]);
  });

  test('spec.loadBalancerIP is honoured', () => {
    const intent = intentOf(service({ loadBalancerIP: '192.0.2.7' }));
    expect(intent.requestedIPs.map(formatIP)).toEqual(['192.0.2.7']);
    expect(intent.requestedIPsSource).toBe('spec.loadBalancerIP');
  });

  test('an empty sharing key means no sharing', () => {
    expect(intentOf(service({}, { 'ironlb.io/allow-shared-ip': '' })).sharingKey).toBeUndefined();
  });

  describe('families', () => {
    test('SingleStack follows the clusterIP family', () => {
      expect(intentOf(service({ clusterIPs: ['fd00::10'], ipFamilies: ['IPv6'] })).ipFamilies).toEqual(['IPv6']);
      expect(intentOf(service({ clusterIP: 'fd00::10' })).ipFamilies).toEqual(['IPv6']);
      expect(intentOf(service({})).ipFamilies).toEqual(['IPv4']);
      expect(intentOf(service({ clusterIP: 'None', ipFamilies: ['IPv6'] })).ipFamilies).toEqual(['IPv6']);
    });

    test('dual-stack policies keep spec.ipFamilies order', () => {
      const intent = intentOf(
        service({
          ipFamilyPolicy: 'RequireDualStack',
          ipFamilies: ['IPv6', 'IPv4'],
          clusterIPs: ['fd00::1', '10.96.0.1'],
        }),
      );
      expect(intent.ipFamilyPolicy).toBe('RequireDualStack');
      expect(intent.ipFamilies).toEqual(['IPv6', 'IPv4']);
    });

    test('PreferDualStack on a single-stack cluster stays single; without any hint it tries both', () => {
      expect(intentOf(service({ ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4'] })).ipFamilies).toEqual([
        'IPv4',
      ]);
      expect(intentOf(service({ ipFamilyPolicy: 'PreferDualStack' })).ipFamilies).toEqual(['IPv4', 'IPv6']);
    });

    test('RequireDualStack with one family known adds the other', () => {
      expect(intentOf(service({ ipFamilyPolicy: 'RequireDualStack', clusterIPs: ['fd00::1'] })).ipFamilies).toEqual([
        'IPv6',
        'IPv4',
      ]);
    });
  });

  test.each<[string, V1Service, string[]]>([
    ['no name or namespace', { metadata: {}, spec: {} }, ['metadata.name: required', 'metadata.namespace: required']],
    [
      'annotation and spec.loadBalancerIP together',
      service({ loadBalancerIP: '192.0.2.1' }, { 'ironlb.io/loadBalancerIPs': '192.0.2.2' }),
      ['ironlb.io/loadBalancerIPs and spec.loadBalancerIP are both set; use only the annotation'],
    ],
    [
      'bad annotation address',
      service({}, { 'ironlb.io/loadBalancerIPs': '192.0.2.300' }),
      ['ironlb.io/loadBalancerIPs: "192.0.2.300" is not an IPv4 or IPv6 address'],
    ],
    [
      'IPv4-mapped address',
      service({}, { 'ironlb.io/loadBalancerIPs': '::ffff:192.0.2.1' }),
      ['ironlb.io/loadBalancerIPs: "::ffff:192.0.2.1" is an IPv4-mapped IPv6 address; write the IPv4 address instead'],
    ],
    [
      'empty entry',
      service({}, { 'ironlb.io/loadBalancerIPs': '192.0.2.1,' }),
      ['ironlb.io/loadBalancerIPs: entry 2 is empty'],
    ],
    [
      'two of one family',
      service({}, { 'metallb.io/loadBalancerIPs': '192.0.2.1,192.0.2.2' }),
      ['metallb.io/loadBalancerIPs: two IPv4 addresses; give at most one per family'],
    ],
    [
      'three addresses',
      service({}, { 'ironlb.io/loadBalancerIPs': '192.0.2.1,2001:db8::1,192.0.2.2' }),
      ['ironlb.io/loadBalancerIPs: at most two addresses (one per family), got 3'],
    ],
    [
      'bad spec.loadBalancerIP',
      service({ loadBalancerIP: '1.2.3' }),
      ['spec.loadBalancerIP: "1.2.3" is not a full IPv4 address (four decimal parts expected)'],
    ],
    [
      'empty pool annotation',
      service({}, { 'ironlb.io/address-pool': ' ' }),
      ['ironlb.io/address-pool: must name a pool'],
    ],
    [
      'unknown policy',
      service({ ipFamilyPolicy: 'DualStack' }),
      ['spec.ipFamilyPolicy: must be one of SingleStack, PreferDualStack, RequireDualStack (got "DualStack")'],
    ],
    ['unknown family', service({ ipFamilies: ['IPv5'] }), ['spec.ipFamilies[0]: must be IPv4 or IPv6 (got "IPv5")']],
    ['family twice', service({ ipFamilies: ['IPv4', 'IPv4'] }), ['spec.ipFamilies[1]: IPv4 is listed twice']],
    [
      'bad protocol',
      service({ ports: [{ port: 80, protocol: 'ICMP' }] }),
      ['spec.ports[0].protocol: must be TCP, UDP or SCTP (got "ICMP")'],
    ],
    ['bad port', service({ ports: [{ port: 0 }] }), ['spec.ports[0].port: must be 1-65535 (got 0)']],
    [
      'bad traffic policy',
      service({ externalTrafficPolicy: 'Global' }),
      ['spec.externalTrafficPolicy: must be Cluster or Local (got "Global")'],
    ],
  ])('%s is refused', (_name, svc, errors) => {
    expect(errorsOf(svc)).toEqual(errors);
  });
});
