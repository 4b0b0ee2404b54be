import { describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { ServiceReconciler, notManagedReason, POOL_ANNOTATION } from '../../../src/allocation/reconcile.js';
import type { AllocationOutcome, RequestReading, ServiceAllocator } from '../../../src/allocation/boundaries.js';
import type { OwnershipView } from '../../../src/allocation/conditions.js';

// A small allocator over a fixed list of IPs, enough to drive the reconcile's
// decisions (the real address logic is src/ipam's, tested there and end to end).
class ListAllocator implements ServiceAllocator {
  readonly owner = new Map<string, string>();
  constructor(private ips: string[], public pool = 'pool-a') {}
  read(svc: V1Service): RequestReading {
    const a = svc.metadata?.annotations ?? {};
    const ip = a['ironlb.io/loadBalancerIPs'] ?? a['metallb.io/loadBalancerIPs'];
    if (ip === 'garbage') return { ok: false, reason: 'InvalidRequest', message: 'ironlb.io/loadBalancerIPs: "garbage" is not an IP' };
    const ports = (svc.spec?.ports ?? []).map((p) => p.port).join(',');
    return {
      ok: true,
      summary: {
        requestedIPs: ip ? [ip] : [], identity: JSON.stringify([ip ?? null]), placement: ports, families: 1,
        ...(a['metallb.io/loadBalancerIPs'] ? { legacyPrefix: 'metallb.io/' } : {}),
      },
    };
  }
  /** A pool edit: addresses no longer listed are dropped from their Services. */
  setIPs(ips: string[]): void {
    this.ips = ips;
    for (const ip of [...this.owner.keys()]) if (!ips.includes(ip)) this.owner.delete(ip);
  }
  assign(key: string, svc: V1Service): AllocationOutcome {
    const r = this.read(svc);
    if (!r.ok) return r;
    const want = r.summary.requestedIPs[0];
    // Like src/ipam: an address the Service holds is kept while it fits the request.
    const held = [...this.owner].find(([ip, k]) => k === key && (!want || ip === want));
    if (held) return { ok: true, ips: [held[0]], pool: this.pool };
    this.release(key);
    if (want) {
      if (!this.ips.includes(want)) return { ok: false, reason: 'NoPoolForIP', message: `${want} is in no pool` };
      const other = this.owner.get(want);
      if (other && other !== key) return { ok: false, reason: 'IPInUse', message: `${want} is already used by ${other}` };
      this.owner.set(want, key);
      return { ok: true, ips: [want], pool: this.pool };
    }
    const free = this.ips.find((ip) => !this.owner.has(ip));
    if (!free) return { ok: false, reason: 'PoolExhausted', message: `pool ${this.pool} has no free address` };
    this.owner.set(free, key);
    return { ok: true, ips: [free], pool: this.pool };
  }
  restore(key: string, ips: readonly string[]): AllocationOutcome {
    for (const ip of ips) {
      if (!this.ips.includes(ip)) return { ok: false, reason: 'NoPoolForIP', message: `${ip} is in no pool` };
      const other = this.owner.get(ip);
      if (other && other !== key) return { ok: false, reason: 'IPInUse', message: `${ip} is already used by ${other}` };
    }
    for (const ip of ips) this.owner.set(ip, key);
    return { ok: true, ips: [...ips], pool: this.pool };
  }
  release(key: string): void {
    for (const [ip, k] of this.owner) if (k === key) this.owner.delete(ip);
  }
}

function svc(name: string, opts: { ns?: string; type?: string; cls?: string; annotations?: Record<string, string>; ips?: string[]; ports?: number[] } = {}): V1Service {
  return {
    metadata: { namespace: opts.ns ?? 'default', name, annotations: opts.annotations, generation: 1 },
    spec: { type: opts.type ?? 'LoadBalancer', loadBalancerClass: opts.cls, ports: (opts.ports ?? [80]).map((port) => ({ port })) },
    status: { loadBalancer: { ingress: (opts.ips ?? []).map((ip) => ({ ip })) } },
  };
}

const now = new Date('2026-01-01T00:00:00Z');
function setup(ips = ['192.0.2.1', '192.0.2.2'], leases = new Map<string, OwnershipView>()) {
  const allocator = new ListAllocator(ips);
  const reconciler = new ServiceReconciler({ allocator, lbClass: '', ownership: (ip) => leases.get(ip) });
  return { allocator, reconciler, leases };
}

describe('ServiceReconciler', () => {
  it('assigns the lowest free IP with an Allocated condition and an IPAllocated event', () => {
    const { reconciler } = setup();
    const d = reconciler.reconcile(svc('web'), now);
    expect(d.ingressIPs).toEqual(['192.0.2.1']);
    expect(d.pool).toBe('pool-a');
    expect(d.conditions.find((c) => c.type === 'ironlb.io/Allocated')).toMatchObject({ status: 'True', message: '192.0.2.1 from pool pool-a' });
    expect(d.conditions.find((c) => c.type === 'ironlb.io/Announced')).toMatchObject({ status: 'Unknown', reason: 'AwaitingSpeaker' });
    expect(d.events).toEqual([{ type: 'Normal', reason: 'IPAllocated', message: 'assigned 192.0.2.1 from pool pool-a' }]);
  });

  it('keeps the IP on a second reconcile, with no new event', () => {
    const { reconciler } = setup();
    reconciler.reconcile(svc('web'), now);
    const d = reconciler.reconcile(svc('web', { ips: ['192.0.2.1'] }), now);
    expect(d.ingressIPs).toEqual(['192.0.2.1']);
    expect(d.events).toEqual([]);
  });

  it('leaves a Service pending with the reason, and reports the event only once', () => {
    const { reconciler } = setup(['192.0.2.1']);
    reconciler.reconcile(svc('a'), now);
    const d = reconciler.reconcile(svc('b'), now);
    expect(d.ingressIPs).toEqual([]);
    expect(d.conditions[0]).toMatchObject({ type: 'ironlb.io/Allocated', status: 'False', reason: 'PoolExhausted', message: 'pool pool-a has no free address' });
    expect(d.events).toEqual([{ type: 'Warning', reason: 'AllocationFailed', message: 'pool pool-a has no free address' }]);
    expect(reconciler.pendingKeys()).toEqual(['default/b']);
    expect(reconciler.reconcile(svc('b'), now).events).toEqual([]);
  });

  it('gives a freed IP to a pending Service when the holder is deleted', () => {
    const { reconciler } = setup(['192.0.2.1']);
    reconciler.reconcile(svc('a'), now);
    reconciler.reconcile(svc('b'), now);
    expect(reconciler.forget('default/a')).toBe(true);
    expect(reconciler.reconcile(svc('b'), now).ingressIPs).toEqual(['192.0.2.1']);
    expect(reconciler.pendingKeys()).toEqual([]);
  });

  it('releases on a type change away from LoadBalancer and clears what it wrote', () => {
    const { reconciler } = setup();
    const first = reconciler.reconcile(svc('web'), now);
    const changed = svc('web', { type: 'ClusterIP', ips: first.ingressIPs, annotations: { [POOL_ANNOTATION]: 'pool-a' } });
    changed.status!.conditions = first.conditions.map((c) => ({ ...c, lastTransitionTime: new Date(c.lastTransitionTime) }));
    const d = reconciler.reconcile(changed, now);
    expect(d).toMatchObject({ write: true, ingressIPs: [], pool: undefined, conditions: [], released: true });
    expect(d.events[0]).toMatchObject({ reason: 'IPReleased', message: 'released 192.0.2.1: the Service is of type ClusterIP, not LoadBalancer' });
    expect(reconciler.holding('default/web')).toBeUndefined();
  });

  it('ignores Services of another class, and releases when a Service moves to one', () => {
    const { reconciler } = setup();
    expect(reconciler.reconcile(svc('other', { cls: 'example.com/lb' }), now)).toMatchObject({ write: false, released: false });
    reconciler.reconcile(svc('web'), now);
    const d = reconciler.reconcile(svc('web', { cls: 'example.com/lb' }), now);
    expect(d.released).toBe(true);
    expect(d.events[0].message).toContain('handled by another controller');
  });

  it('never touches a Service another class controller allocated, even one carrying ironlb marks', () => {
    const { reconciler } = setup();
    const theirs = svc('theirs', { cls: 'example.com/lb', ips: ['198.51.100.1'], annotations: { [POOL_ANNOTATION]: 'other' } });
    expect(reconciler.reconcile(theirs, now).write).toBe(false);
  });

  it('clears its marks from a Service that stopped being a LoadBalancer while it was down', () => {
    const { reconciler } = setup();
    const d = reconciler.reconcile(svc('old', { type: 'ClusterIP', ips: ['192.0.2.1'], annotations: { [POOL_ANNOTATION]: 'pool-a' } }), now);
    expect(d).toMatchObject({ write: true, ingressIPs: [], pool: undefined, released: false });
  });

  it('handles only its own class when --lb-class is set', () => {
    const s = svc('x', { cls: 'example.com/lb' });
    expect(notManagedReason(s, 'example.com/lb')).toBeUndefined();
    expect(notManagedReason(svc('y'), 'example.com/lb')).toBe('its loadBalancerClass "" is not "example.com/lb"');
  });

  it('moves to the newly requested IP when the request changes', () => {
    const { reconciler } = setup();
    reconciler.reconcile(svc('web'), now);
    const d = reconciler.reconcile(svc('web', { ips: ['192.0.2.1'], annotations: { 'ironlb.io/loadBalancerIPs': '192.0.2.2' } }), now);
    expect(d.ingressIPs).toEqual(['192.0.2.2']);
    expect(d.events.map((e) => e.reason)).toEqual(['IPReleased', 'IPAllocated']);
    expect(d.released).toBe(true);
  });

  it('keeps the IP when only the ports change', () => {
    const { reconciler } = setup();
    reconciler.reconcile(svc('web'), now);
    const d = reconciler.reconcile(svc('web', { ips: ['192.0.2.1'], ports: [443] }), now);
    expect(d.ingressIPs).toEqual(['192.0.2.1']);
    expect(d.events).toEqual([]);
    // Nothing was freed, but the IP is now held on other terms: waiting Services are retried.
    expect(d).toMatchObject({ released: false, usesChanged: true });
    expect(reconciler.reconcile(svc('web', { ips: ['192.0.2.1'], ports: [443] }), now)).toMatchObject({ released: false, usesChanged: false });
  });

  it('refuses an invalid request and frees what the Service held', () => {
    const { reconciler } = setup();
    reconciler.reconcile(svc('web'), now);
    const d = reconciler.reconcile(svc('web', { annotations: { 'ironlb.io/loadBalancerIPs': 'garbage' } }), now);
    expect(d.ingressIPs).toEqual([]);
    expect(d.conditions[0]).toMatchObject({ status: 'False', reason: 'InvalidRequest' });
    expect(d.events.map((e) => e.reason)).toEqual(['IPReleased', 'AllocationFailed']);
  });

  it('refuses a requested IP another Service holds, leaving the holder alone', () => {
    const { reconciler } = setup();
    reconciler.reconcile(svc('a'), now);
    const d = reconciler.reconcile(svc('b', { annotations: { 'ironlb.io/loadBalancerIPs': '192.0.2.1' } }), now);
    expect(d.conditions[0]).toMatchObject({ status: 'False', reason: 'IPInUse', message: '192.0.2.1 is already used by default/a' });
    expect(reconciler.holding('default/a')).toEqual({ ips: ['192.0.2.1'], pool: 'pool-a' });
  });

  it('restores held IPs first so a restart changes nothing', () => {
    const { reconciler, allocator } = setup(['192.0.2.1', '192.0.2.2']);
    const services = [svc('new'), svc('old', { ips: ['192.0.2.2'] })];
    expect(reconciler.restoreAll(services)).toEqual([]);
    expect(allocator.owner.get('192.0.2.2')).toBe('default/old');
    const d = reconciler.reconcile(services[1], now);
    expect(d.ingressIPs).toEqual(['192.0.2.2']);
    expect(d.events).toEqual([]);
    expect(reconciler.reconcile(services[0], now).ingressIPs).toEqual(['192.0.2.1']);
  });

  it('does not restore an IP the Service no longer requests, nor one outside every pool', () => {
    const { reconciler } = setup(['192.0.2.1', '192.0.2.2']);
    const moved = svc('moved', { ips: ['192.0.2.1'], annotations: { 'ironlb.io/loadBalancerIPs': '192.0.2.2' } });
    const outside = svc('outside', { ips: ['198.51.100.1'] });
    expect(reconciler.restoreAll([moved, outside])).toEqual([{ key: 'default/outside', message: '198.51.100.1 is in no pool' }]);
    expect(reconciler.holding('default/moved')).toBeUndefined();
    const d = reconciler.reconcile(outside, now);
    expect(d.ingressIPs).toEqual(['192.0.2.1']);
    expect(d.events[0]).toMatchObject({ reason: 'PoolChanged', message: '198.51.100.1 could not be kept after a restart (198.51.100.1 is in no pool); re-allocated 192.0.2.1 from pool pool-a' });
  });

  it('keeps what a restart kept, and says with the first decision what it did not keep', () => {
    const { reconciler, allocator } = setup(['192.0.2.1', '192.0.2.2']);
    const why = '2001:db8::1 is IPv6, but the Service is SingleStack IPv4';
    allocator.restore = (key: string) => {
      allocator.owner.set('192.0.2.1', key);
      return { ok: true, ips: ['192.0.2.1'], pool: 'pool-a', dropped: [{ address: '2001:db8::1', why }] };
    };
    const s = svc('web', { ips: ['192.0.2.1', '2001:db8::1'] });
    expect(reconciler.restoreAll([s])).toEqual([{ key: 'default/web', message: why }]);
    const d = reconciler.reconcile(s, now);
    expect(d.ingressIPs).toEqual(['192.0.2.1']);
    expect(d.events).toEqual([{ type: 'Normal', reason: 'IPReleased', message: `released 2001:db8::1: ${why}` }]);
    expect(d.usesChanged).toBe(true);
    const again = reconciler.reconcile(svc('web', { ips: ['192.0.2.1'] }), now);
    expect(again).toMatchObject({ ingressIPs: ['192.0.2.1'], events: [], usesChanged: false });
  });

  it('re-allocates a Service a pool edit stranded, with a PoolChanged event', () => {
    const { reconciler, allocator } = setup(['192.0.2.1', '192.0.2.2']);
    reconciler.reconcile(svc('web'), now);
    allocator.setIPs(['192.0.2.2']);
    reconciler.strand('default/web', ['192.0.2.1'], 'left pool pool-a (pool edited)');
    const d = reconciler.reconcile(svc('web', { ips: ['192.0.2.1'] }), now);
    expect(d.ingressIPs).toEqual(['192.0.2.2']);
    expect(d.events[0]).toEqual({ type: 'Warning', reason: 'PoolChanged', message: '192.0.2.1 left pool pool-a (pool edited); re-allocated 192.0.2.2 from pool pool-a' });
  });

  it('derives Announced from the ownership Leases and lists holders of an IP', () => {
    const { reconciler, leases } = setup();
    reconciler.reconcile(svc('web'), now);
    leases.set('192.0.2.1', { holder: 'node-b' });
    const d = reconciler.reconcile(svc('web', { ips: ['192.0.2.1'] }), now);
    expect(d.conditions.find((c) => c.type === 'ironlb.io/Announced')).toMatchObject({ status: 'True', message: '192.0.2.1 announced by node-b' });
    expect(reconciler.keysHolding('192.0.2.1')).toEqual(['default/web']);
    expect([...reconciler.allocatedIPs()]).toEqual(['192.0.2.1']);
  });

  it('says a requested pool is invalid rather than missing', () => {
    const allocator = new ListAllocator([]);
    allocator.assign = () => ({ ok: false, reason: 'PoolNotFound', message: 'requested pool "p" does not exist' });
    allocator.read = () => ({ ok: true, summary: { requestedIPs: [], requestedPool: 'p', identity: 'p', placement: '', families: 1 } });
    const reconciler = new ServiceReconciler({ allocator, lbClass: '', ownership: () => undefined, poolProblem: (p) => (p === 'p' ? 'spec.addresses[0]: bad' : undefined) });
    const d = reconciler.reconcile(svc('web'), now);
    expect(d.conditions[0]).toMatchObject({ reason: 'PoolInvalid', message: 'default/web: requested pool "p" is invalid: spec.addresses[0]: bad' });
  });

  it('says once that a MetalLB annotation prefix was used', () => {
    const { reconciler } = setup();
    const s = svc('web', { annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.2' } });
    expect(reconciler.reconcile(s, now).events.map((e) => e.reason)).toEqual(['DeprecatedAnnotation', 'IPAllocated']);
    expect(reconciler.reconcile(s, now).events).toEqual([]);
  });
});
