import { describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { addressesWanted, requestChange, sameLabels } from '../../../src/allocation/request-change.js';
import { readServiceIntent, type ServiceIntent } from '../../../src/api/service.js';

type Spec = NonNullable<V1Service['spec']>;

/** The intent the controller reads from a Service (the real parser), with spec fields overridden. */
function intent(
  annotations: Record<string, string> = {},
  spec: Partial<Spec> = {},
  labels?: Record<string, string>,
): ServiceIntent {
  const result = readServiceIntent({
    metadata: { name: 'web', namespace: 'apps', annotations, labels },
    spec: {
      type: 'LoadBalancer',
      clusterIP: '10.96.0.10',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      selector: { app: 'web' },
      ports: [{ port: 80, protocol: 'TCP' }],
      ...spec,
    },
  });
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.intent;
}

const dual: Partial<Spec> = { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] };

describe('requestChange', () => {
  it('is none for the same request, whatever the order of ports and labels', () => {
    const ports = [
      { port: 80, protocol: 'TCP' },
      { port: 53, protocol: 'UDP' },
    ];
    const a = intent({}, { ports, selector: { app: 'web', tier: 'front' } });
    const b = intent({}, { ports: [...ports].reverse(), selector: { tier: 'front', app: 'web' } });
    expect(requestChange(a, b)).toBe('none');
  });

  it('is identity when the requested IPs or pool change', () => {
    const plain = intent();
    expect(requestChange(plain, intent({ 'ironlb.io/loadBalancerIPs': '192.0.2.5' }))).toBe('identity');
    const five = intent({ 'ironlb.io/loadBalancerIPs': '192.0.2.5' });
    expect(requestChange(five, intent({ 'ironlb.io/loadBalancerIPs': '192.0.2.6' }))).toBe('identity');
    expect(requestChange(five, intent({ 'metallb.io/loadBalancerIPs': '192.0.2.5' }))).toBe('none');
    expect(requestChange(plain, intent({ 'ironlb.io/address-pool': 'p' }))).toBe('identity');
  });

  it('is placement for ports, sharing, traffic policy, selector, labels and IP families', () => {
    const plain = intent();
    expect(requestChange(plain, intent({}, { ports: [{ port: 443, protocol: 'TCP' }] }))).toBe('placement');
    expect(requestChange(plain, intent({}, { ports: [{ port: 80, protocol: 'UDP' }] }))).toBe('placement');
    expect(requestChange(plain, intent({ 'ironlb.io/allow-shared-ip': 'k' }))).toBe('placement');
    expect(requestChange(plain, intent({}, { externalTrafficPolicy: 'Local' }))).toBe('placement');
    expect(requestChange(plain, intent({}, { selector: { app: 'api' } }))).toBe('placement');
    expect(requestChange(plain, intent({}, {}, { team: 'blue' }))).toBe('placement');
    expect(requestChange(plain, intent({}, dual))).toBe('placement');
    expect(requestChange(intent({}, dual), intent({}, { ...dual, ipFamilies: ['IPv6', 'IPv4'] }))).toBe('placement');
  });
});

describe('addressesWanted', () => {
  it('is 1 single stack, 2 dual, and as many as requested when the Service requests some', () => {
    expect(addressesWanted(intent())).toBe(1);
    expect(addressesWanted(intent({}, dual))).toBe(2);
    expect(addressesWanted(intent({ 'ironlb.io/loadBalancerIPs': '192.0.2.5' }, dual))).toBe(1);
    expect(addressesWanted(intent({ 'ironlb.io/loadBalancerIPs': '192.0.2.5,2001:db8::5' }, dual))).toBe(2);
  });
});

describe('sameLabels', () => {
  it('compares keys and values, not order', () => {
    expect(sameLabels({ a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true);
    expect(sameLabels({ a: '1' }, { a: '2' })).toBe(false);
    expect(sameLabels({ a: '1' }, { a: '1', b: '2' })).toBe(false);
    expect(sameLabels({ a: '1', b: '2' }, { a: '1', c: '2' })).toBe(false);
    expect(sameLabels({}, {})).toBe(true);
  });
});
