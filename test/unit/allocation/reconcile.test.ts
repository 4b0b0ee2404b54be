import { describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { ServiceReconciler, notManagedReason, POOL_ANNOTATION } from '../../../src/allocation/reconcile.js';
import type { OwnershipView } from '../../../src/allocation/conditions.js';
import { Allocator } from '../../../src/ipam/allocator.js';
import { pool } from '../ipam/helpers.js';

// The reconcile over src/ipam's real Allocator and pools through the real parser:
// every reason and message below is one the controller can write.

interface SvcOptions {
  ns?: string;
  type?: string;
  cls?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  ips?: string[];
  ports?: number[];
  ipFamilyPolicy?: string;
  ipFamilies?: string[];
}

function svc(name: string, opts: SvcOptions = {}): V1Service {
  return {
    metadata: {
      namespace: opts.ns ?? 'default',
      name,
      annotations: opts.annotations,
      labels: opts.labels,
      generation: 1,
    },
    spec: {
      type: opts.type ?? 'LoadBalancer',
      loadBalancerClass: opts.cls,
      ports: (opts.ports ?? [80]).map((port) => ({ port, protocol: 'TCP' })),
      ipFamilyPolicy: opts.ipFamilyPolicy ?? 'SingleStack',
      ipFamilies: opts.ipFamilies ?? ['IPv4'],
    },
    status: { loadBalancer: { ingress: (opts.ips ?? []).map((ip) => ({ ip })) } },
  };
}

const now = new Date('2026-01-01T00:00:00Z');
/** A reconcile over one pool, pool-a, holding `addresses` (CIDRs or ranges). */
function setup(addresses = ['192.0.2.1-192.0.2.2'], leases = new Map<string, OwnershipView>()) {
  const allocator = new Allocator();
  allocator.setPools([pool('pool-a', addresses)]);
  const reconciler = new ServiceReconciler({
    allocator,
    namespaceLabels: () => ({}),
    lbClass: '',
    ownership: (ip) => leases.get(ip),
  });
  return { allocator, reconciler, leases };
}

describe('ServiceReconciler', () => {
  it('assigns the lowest free IP with an Allocated condition and an IPAllocated event', () => {
    const { reconciler } = setup();
    const d = reconciler.reconcile(svc('web'), now);
    expect(d.ingressIPs).toEqual(['192.0.2.1']);
    expect(d.pool).toBe('pool-a');
    expect(d.conditions.find((c) => c.type === 'ironlb.io/Allocated')).toMatchObject({
      status: 'True',
      message: '192.0.2.1 from pool pool-a',
    });
    expect(d.conditions.find((c) => c.type === 'ironlb.io/Announced')).toMatchObject({
      status: 'Unknown',
      reason: 'AwaitingSpeaker',
    });
    expect(d.events).toEqual([
      { type: 'Normal', reason: 'IPAllocated', message: 'assigned 192.0.2.1 from pool pool-a' },
    ]);
  });

  it('keeps the IP on a second reconcile, with no new event', () => {
    const { reconciler } = setup();
    reconciler.reconcile(svc('web'), now);
    const d = reconciler.reconcile(svc('web', { ips: ['192.0.2.1'] }), now);
    expect(d.ingressIPs).toEqual(['192.0.2.1']);
    expect(d.events).toEqual([]);
  });

  it('leaves a Service pending with the reason, and reports the event only once', () => {
    const { reconciler } = setup(['192.0.2.1/32']);
    reconciler.reconcile(svc('a'), now);
    const d = reconciler.reconcile(svc('b'), now);
    expect(d.ingressIPs).toEqual([]);
    const message = 'default/b: no free IPv4 address in pool "pool-a"';
    expect(d.conditions[0]).toMatchObject({
      type: 'ironlb.io/Allocated',
      status: 'False',
      reason: 'PoolExhausted',
      message,
    });
    expect(d.events).toEqual([{ type: 'Warning', reason: 'AllocationFailed', message }]);
    expect(d.refusal).toBe('PoolExhausted');
    expect(reconciler.pendingKeys()).toEqual(['default/b']);
    expect(reconciler.reconcile(svc('b'), now)).toMatchObject({ events: [], refusal: undefined });
  });

  it('gives a freed IP to a pending Service when the holder is deleted', () => {
    const { reconciler } = setup(['192.0.2.1/32']);
    reconciler.reconcile(svc('a'), now);
    reconciler.reconcile(svc('b'), now);
    expect(reconciler.forget('default/a')).toBe(true);
    expect(reconciler.reconcile(svc('b'), now).ingressIPs).toEqual(['192.0.2.1']);
    expect(reconciler.pendingKeys()).toEqual([]);
  });

  it('releases on a type change away from LoadBalancer and clears what it wrote', () => {
    const { reconciler } = setup();
    const first = reconciler.reconcile(svc('web'), now);
    const changed = svc('web', {
      type: 'ClusterIP',
      ips: first.ingressIPs,
      annotations: { [POOL_ANNOTATION]: 'pool-a' },
    });
    changed.status!.conditions = first.conditions.map((c) => ({
      ...c,
      lastTransitionTime: new Date(c.lastTransitionTime),
    }));
    const d = reconciler.reconcile(changed, now);
    expect(d).toMatchObject({ write: true, ingressIPs: [], pool: undefined, conditions: [], released: true });
    expect(d.events[0]).toMatchObject({
      reason: 'IPReleased',
      message: 'released 192.0.2.1: the Service is of type ClusterIP, not LoadBalancer',
    });
    expect(reconciler.holding('default/web')).toBeUndefined();
  });

  it('ignores Services of another class, and releases when a Service moves to one', () => {
    const { reconciler } = setup();
    expect(reconciler.reconcile(svc('other', { cls: 'example.com/lb' }), now)).toMatchObject({
      write: false,
      released: false,
    });
    reconciler.reconcile(svc('web'), now);
    const d = reconciler.reconcile(svc('web', { cls: 'example.com/lb' }), now);
    expect(d.released).toBe(true);
    expect(d.events[0].message).toContain('handled by another controller');
  });

  it('never touches a Service another class controller allocated, even one carrying ironlb marks', () => {
    const { reconciler } = setup();
    const theirs = svc('theirs', {
      cls: 'example.com/lb',
      ips: ['198.51.100.1'],
      annotations: { [POOL_ANNOTATION]: 'other' },
    });
    expect(reconciler.reconcile(theirs, now).write).toBe(false);
  });

  it('clears its marks from a Service that stopped being a LoadBalancer while it was down', () => {
    const { reconciler } = setup();
    const d = reconciler.reconcile(
      svc('old', { type: 'ClusterIP', ips: ['192.0.2.1'], annotations: { [POOL_ANNOTATION]: 'pool-a' } }),
      now,
    );
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
    const d = reconciler.reconcile(
      svc('web', { ips: ['192.0.2.1'], annotations: { 'ironlb.io/loadBalancerIPs': '192.0.2.2' } }),
      now,
    );
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
    expect(reconciler.reconcile(svc('web', { ips: ['192.0.2.1'], ports: [443] }), now)).toMatchObject({
      released: false,
      usesChanged: false,
    });
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
    expect(d.conditions[0]).toMatchObject({
      status: 'False',
      reason: 'IPInUse',
      message: 'default/b: 192.0.2.1 is already used by default/a (default/a does not allow sharing)',
    });
    expect(reconciler.holding('default/a')).toEqual({ ips: ['192.0.2.1'], pool: 'pool-a' });
  });

  it('restores held IPs first so a restart changes nothing', () => {
    const { reconciler, allocator } = setup();
    const services = [svc('new'), svc('old', { ips: ['192.0.2.2'] })];
    expect(reconciler.restoreAll(services)).toEqual([]);
    expect(allocator.servicesOn('192.0.2.2')).toEqual(['default/old']);
    const d = reconciler.reconcile(services[1], now);
    expect(d.ingressIPs).toEqual(['192.0.2.2']);
    expect(d.events).toEqual([]);
    expect(reconciler.reconcile(services[0], now).ingressIPs).toEqual(['192.0.2.1']);
  });

  it('does not restore an IP the Service no longer requests, nor one outside every pool', () => {
    const { reconciler } = setup();
    const moved = svc('moved', { ips: ['192.0.2.1'], annotations: { 'ironlb.io/loadBalancerIPs': '192.0.2.2' } });
    const outside = svc('outside', { ips: ['198.51.100.1'] });
    const why = 'default/outside: 198.51.100.1 is no longer in any pool';
    expect(reconciler.restoreAll([moved, outside])).toEqual([{ key: 'default/outside', message: why }]);
    expect(reconciler.holding('default/moved')).toBeUndefined();
    const d = reconciler.reconcile(outside, now);
    expect(d.ingressIPs).toEqual(['192.0.2.1']);
    expect(d.events[0]).toMatchObject({
      reason: 'PoolChanged',
      message: `198.51.100.1 could not be kept after a restart (${why}); re-allocated 192.0.2.1 from pool pool-a`,
    });
  });

  it('keeps what a restart kept, and says with the first decision what it did not keep', () => {
    const { reconciler } = setup(['192.0.2.1-192.0.2.2', '2001:db8::/126']);
    const why = '2001:db8::1 is IPv6, but the Service is SingleStack IPv4';
    // Its status still lists the IPv6 address of a dual-stack past.
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
    const { reconciler, allocator } = setup();
    reconciler.reconcile(svc('web'), now);
    const report = allocator.setPools([pool('pool-a', ['192.0.2.2/32'])]);
    expect(report.lost).toMatchObject([{ service: 'default/web', ips: ['192.0.2.1'] }]);
    reconciler.strand('default/web', ['192.0.2.1'], 'left pool pool-a (pool edited)');
    const d = reconciler.reconcile(svc('web', { ips: ['192.0.2.1'] }), now);
    expect(d.ingressIPs).toEqual(['192.0.2.2']);
    expect(d.events[0]).toEqual({
      type: 'Warning',
      reason: 'PoolChanged',
      message: '192.0.2.1 left pool pool-a (pool edited); re-allocated 192.0.2.2 from pool pool-a',
    });
  });

  it('derives Announced from the ownership Leases and lists holders of an IP', () => {
    const { reconciler, leases } = setup();
    reconciler.reconcile(svc('web'), now);
    leases.set('192.0.2.1', { holder: 'node-b' });
    const d = reconciler.reconcile(svc('web', { ips: ['192.0.2.1'] }), now);
    expect(d.conditions.find((c) => c.type === 'ironlb.io/Announced')).toMatchObject({
      status: 'True',
      message: '192.0.2.1 announced by node-b',
    });
    expect(reconciler.keysHolding('192.0.2.1')).toEqual(['default/web']);
    expect([...reconciler.allocatedIPs()]).toEqual(['192.0.2.1']);
  });

  it('says a requested pool is invalid rather than missing', () => {
    // Pool p failed to parse, so the allocator never got it: it answers PoolNotFound.
    const allocator = new Allocator();
    const reconciler = new ServiceReconciler({
      allocator,
      namespaceLabels: () => ({}),
      lbClass: '',
      ownership: () => undefined,
      poolProblem: (p) => (p === 'p' ? 'spec.addresses[0]: bad' : undefined),
    });
    const d = reconciler.reconcile(svc('web', { annotations: { 'ironlb.io/address-pool': 'p' } }), now);
    expect(d.conditions[0]).toMatchObject({
      reason: 'PoolInvalid',
      message: 'default/web: requested pool "p" is invalid: spec.addresses[0]: bad',
    });
    const other = reconciler.reconcile(svc('other', { annotations: { 'ironlb.io/address-pool': 'q' } }), now);
    expect(other.conditions[0]).toMatchObject({
      reason: 'PoolNotFound',
      message: 'default/other: requested pool "q" does not exist',
    });
  });

  it('reads namespace labels at assign time, so namespaceSelectors pin pools', () => {
    const allocator = new Allocator();
    const blueOnly = { serviceAllocation: { priority: 1, namespaceSelectors: [{ matchLabels: { team: 'blue' } }] } };
    allocator.setPools([pool('general', ['192.0.2.0/30']), pool('blue', ['198.51.100.0/30'], blueOnly)]);
    const reconciler = new ServiceReconciler({
      allocator,
      lbClass: '',
      ownership: () => undefined,
      namespaceLabels: (ns): Record<string, string> => (ns === 'blue' ? { team: 'blue' } : {}),
    });
    const blue = reconciler.reconcile(svc('x', { ns: 'blue' }), now);
    expect(blue).toMatchObject({ ingressIPs: ['198.51.100.0'], pool: 'blue' });
    expect(reconciler.reconcile(svc('y'), now)).toMatchObject({ ingressIPs: ['192.0.2.0'], pool: 'general' });
  });

  it('keeps a shared IP when its ports change, and refuses a second Service on the same port', () => {
    const { reconciler } = setup(['192.0.2.0/29']);
    const shared = { 'ironlb.io/allow-shared-ip': 'k', 'ironlb.io/loadBalancerIPs': '192.0.2.3' };
    const one = reconciler.reconcile(svc('one', { annotations: shared, ports: [80] }), now);
    expect(one.ingressIPs).toEqual(['192.0.2.3']);
    const moved = reconciler.reconcile(svc('one', { annotations: shared, ports: [8080], ips: ['192.0.2.3'] }), now);
    expect(moved).toMatchObject({ ingressIPs: ['192.0.2.3'], events: [], usesChanged: true });
    const two = reconciler.reconcile(svc('two', { annotations: shared, ports: [8080] }), now);
    expect(two.ingressIPs).toEqual([]);
    expect(two.conditions[0]).toMatchObject({
      status: 'False',
      reason: 'PortConflict',
      message: 'default/two: port TCP/8080 on 192.0.2.3 is already used by default/one',
    });
    const otherPort = reconciler.reconcile(svc('two', { annotations: shared, ports: [443] }), now);
    expect(otherPort.ingressIPs).toEqual(['192.0.2.3']);
  });

  it('keeps a PreferDualStack Service waiting for its second family until a pool offers it', () => {
    const { reconciler, allocator } = setup(['192.0.2.0/30']);
    const dual = { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] };
    const first = reconciler.reconcile(svc('web', dual), now);
    expect(first.ingressIPs).toEqual(['192.0.2.0']);
    expect(reconciler.waitingKeys()).toEqual(['default/web']);
    // One requested address is all such a Service gets: it waits for nothing.
    const requested = svc('one', { ...dual, annotations: { 'ironlb.io/loadBalancerIPs': '192.0.2.2' } });
    expect(reconciler.reconcile(requested, now).ingressIPs).toEqual(['192.0.2.2']);
    expect(reconciler.waitingKeys()).toEqual(['default/web']);
    allocator.setPools([pool('pool-a', ['192.0.2.0/30', '2001:db8::/126'])]);
    const second = reconciler.reconcile(svc('web', { ...dual, ips: first.ingressIPs }), now);
    expect(second).toMatchObject({ ingressIPs: ['192.0.2.0', '2001:db8::'], pool: 'pool-a' });
    expect(second.events).toEqual([
      { type: 'Normal', reason: 'IPAllocated', message: 'assigned 2001:db8:: from pool pool-a' },
    ]);
    expect(reconciler.waitingKeys()).toEqual([]);
  });

  it('says once that a MetalLB annotation prefix was used', () => {
    const { reconciler } = setup();
    const s = svc('web', { annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.2' } });
    expect(reconciler.reconcile(s, now).events.map((e) => e.reason)).toEqual(['DeprecatedAnnotation', 'IPAllocated']);
    expect(reconciler.reconcile(s, now).events).toEqual([]);
  });
});
