import { describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { IpamServiceAllocator } from '../../../src/allocation/ipam-adapter.js';
import { ServiceReconciler } from '../../../src/allocation/reconcile.js';
import { parsePool } from '../../../src/api/pool.js';

function pool(name: string, addresses: string[], spec: Record<string, unknown> = {}) {
  const parsed = parsePool({ metadata: { name, namespace: 'ironlb-system', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { addresses, ...spec } });
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.pool;
}

function svc(name: string, extra: { annotations?: Record<string, string>; ports?: number[]; labels?: Record<string, string>; ns?: string } = {}): V1Service {
  return {
    metadata: { name, namespace: extra.ns ?? 'apps', annotations: extra.annotations, labels: extra.labels },
    spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: (extra.ports ?? [80]).map((port) => ({ port, protocol: 'TCP' })) },
  };
}

describe('IpamServiceAllocator (src/ipam behind the reconcile\'s ServiceAllocator)', () => {
  it('reads the request: identity changes with requested IPs or pool, placement with ports', () => {
    const a = new IpamServiceAllocator(() => ({}));
    const plain = a.read(svc('web'));
    const ported = a.read(svc('web', { ports: [443] }));
    const requested = a.read(svc('web', { annotations: { 'ironlb.io/loadBalancerIPs': '192.0.2.5' } }));
    if (!plain.ok || !ported.ok || !requested.ok) throw new Error('unexpected refusal');
    expect(ported.summary.identity).toBe(plain.summary.identity);
    expect(ported.summary.placement).not.toBe(plain.summary.placement);
    expect(requested.summary.identity).not.toBe(plain.summary.identity);
    expect(requested.summary.requestedIPs).toEqual(['192.0.2.5']);
  });

  it('counts the addresses a Service wants: 1 single stack, 2 dual, as many as requested when it requests some', () => {
    const a = new IpamServiceAllocator(() => ({}));
    const dual = (annotations?: Record<string, string>): V1Service => {
      const s = svc('web', annotations ? { annotations } : {});
      return { ...s, spec: { ...s.spec, ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] } };
    };
    const families = (s: V1Service): number | undefined => {
      const r = a.read(s);
      return r.ok ? r.summary.families : undefined;
    };
    expect(families(svc('web'))).toBe(1);
    expect(families(dual())).toBe(2);
    expect(families(dual({ 'ironlb.io/loadBalancerIPs': '192.0.2.5' }))).toBe(1);
    // Families are placement, not identity: a policy change keeps what fits.
    const single = a.read(svc('web'));
    const prefer = a.read(dual());
    expect(single.ok && prefer.ok && single.summary.identity === prefer.summary.identity).toBe(true);
  });

  it('names the MetalLB prefix used, and refuses malformed annotations with InvalidRequest', () => {
    const a = new IpamServiceAllocator(() => ({}));
    const legacy = a.read(svc('web', { annotations: { 'metallb.universe.tf/address-pool': 'p' } }));
    expect(legacy.ok && legacy.summary.legacyPrefix).toBe('metallb.universe.tf/');
    const bad = a.read(svc('web', { annotations: { 'ironlb.io/loadBalancerIPs': 'nope' } }));
    expect(bad).toMatchObject({ ok: false, reason: 'InvalidRequest' });
    expect(!bad.ok && bad.message).toContain('ironlb.io/loadBalancerIPs');
  });

  it('assigns, restores and releases through the real allocator, and reports usage', () => {
    const a = new IpamServiceAllocator(() => ({}));
    a.setPools([pool('main', ['192.0.2.0/30'])]);
    expect(a.assign('apps/a', svc('a'))).toEqual({ ok: true, ips: ['192.0.2.0'], pool: 'main' });
    expect(a.restore('apps/b', ['192.0.2.2'], svc('b'))).toEqual({ ok: true, ips: ['192.0.2.2'], pool: 'main' });
    expect(a.assign('apps/c', svc('c'))).toEqual({ ok: true, ips: ['192.0.2.1'], pool: 'main' });
    expect(a.usage('main').ipv4).toEqual({ assigned: 3n, available: 1n });
    a.release('apps/a');
    expect(a.usage('main').ipv4).toEqual({ assigned: 2n, available: 2n });
    expect(a.usage('gone')).toEqual({ ipv4: { assigned: 0n, available: 0n }, ipv6: { assigned: 0n, available: 0n } });
  });

  it('passes namespace labels so namespaceSelectors pin pools', () => {
    const a = new IpamServiceAllocator((ns): Record<string, string> => (ns === 'blue' ? { team: 'blue' } : {}));
    a.setPools([pool('general', ['192.0.2.0/30']), pool('blue', ['198.51.100.0/30'], { serviceAllocation: { priority: 1, namespaceSelectors: [{ matchLabels: { team: 'blue' } }] } })]);
    expect(a.assign('blue/x', svc('x', { ns: 'blue' }))).toMatchObject({ ok: true, pool: 'blue' });
    expect(a.assign('apps/y', svc('y'))).toMatchObject({ ok: true, pool: 'general' });
  });

  it('drives the reconcile end to end: a port change keeps the IP, a sharing conflict is refused', () => {
    const a = new IpamServiceAllocator(() => ({}));
    a.setPools([pool('main', ['192.0.2.0/29'])]);
    const r = new ServiceReconciler({ allocator: a, lbClass: '', ownership: () => undefined });
    const now = new Date();
    const shared = { 'ironlb.io/allow-shared-ip': 'k', 'ironlb.io/loadBalancerIPs': '192.0.2.3' };
    expect(r.reconcile(svc('one', { annotations: shared, ports: [80] }), now).ingressIPs).toEqual(['192.0.2.3']);
    expect(r.reconcile(svc('one', { annotations: shared, ports: [8080] }), now)).toMatchObject({ ingressIPs: ['192.0.2.3'], events: [] });
    const two = r.reconcile(svc('two', { annotations: shared, ports: [8080] }), now);
    expect(two.ingressIPs).toEqual([]);
    expect(two.conditions[0]).toMatchObject({ status: 'False', reason: 'PortConflict' });
  });
});
