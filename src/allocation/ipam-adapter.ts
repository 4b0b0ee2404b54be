// Binds the reconcile's ServiceAllocator (boundaries.ts) to src/api's Service reading and
// src/ipam's Allocator: the namespace labels (for namespaceSelectors) come
// from a lookup the controller hands in.

import type { V1Service } from '@kubernetes/client-node';
import type { PoolDefinition } from '../api/pool.js';
import { readServiceIntent, type AllocationRequest, type ReadServiceResult, type ServiceIntent } from '../api/service.js';
import { formatIP } from '../ip/address.js';
import { Allocator } from '../ipam/allocator.js';
import type { AssignResult, PoolsReport, PoolUsage } from '../ipam/types.js';
import type { PoolAllocator } from './controller.js';
import type { AllocationOutcome, RequestReading, ServiceAllocator } from './boundaries.js';

export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>>;

function outcome(result: AssignResult): AllocationOutcome {
  if (!result.ok) return { ok: false, reason: result.reason, message: result.message };
  const pools = [...new Set(result.ips.map((a) => a.pool))];
  const base = { ok: true as const, ips: result.ips.map((a) => a.address), pool: pools.join(',') };
  return result.dropped.length > 0 ? { ...base, dropped: result.dropped.map((d) => ({ ...d })) } : base;
}

export class IpamServiceAllocator implements ServiceAllocator, PoolAllocator {
  /** One reading per Service object: a reconcile reads, then assigns or restores, the same object. */
  private readonly readings = new WeakMap<V1Service, ReadServiceResult>();

  constructor(
    private readonly namespaceLabels: NamespaceLabels,
    private readonly allocator: Allocator = new Allocator(),
  ) {}

  read(service: V1Service): RequestReading {
    const result = this.intentOf(service);
    if (!result.ok) return { ok: false, reason: 'InvalidRequest', message: result.errors.join('; ') };
    const intent = result.intent;
    const requestedIPs = intent.requestedIPs.map(formatIP);
    const legacy = intent.compatAnnotations[0];
    return {
      ok: true,
      summary: {
        requestedIPs,
        ...(intent.requestedPool ? { requestedPool: intent.requestedPool } : {}),
        identity: JSON.stringify([requestedIPs, intent.requestedPool ?? null]),
        // IP families too: a change there keeps each address that still fits (a second family is added in place).
        placement: JSON.stringify([
          intent.sharingKey ?? null,
          intent.ports.map((p) => `${p.protocol}/${p.port}`).sort(),
          intent.externalTrafficPolicy,
          Object.entries(intent.selector).sort(),
          Object.entries(intent.serviceLabels).sort(),
          intent.ipFamilyPolicy,
          intent.ipFamilies,
        ]),
        // Requested IPs are all a Service gets (one requested IPv4 on PreferDualStack: that one alone).
        families: requestedIPs.length > 0 ? requestedIPs.length : intent.ipFamilyPolicy === 'SingleStack' ? 1 : intent.ipFamilies.length,
        ...(legacy ? { legacyPrefix: legacy.prefix } : {}),
      },
    };
  }

  assign(key: string, service: V1Service): AllocationOutcome {
    const request = this.request(service);
    if (!request.ok) return request.refusal;
    return outcome(this.allocator.assign(key, request.request));
  }

  restore(key: string, ips: readonly string[], service: V1Service): AllocationOutcome {
    const request = this.request(service);
    if (!request.ok) return request.refusal;
    return outcome(this.allocator.restore(key, [...ips], request.request));
  }

  release(key: string): void {
    this.allocator.release(key);
  }

  setPools(pools: readonly PoolDefinition[]): PoolsReport {
    return this.allocator.setPools([...pools]);
  }

  usage(pool: string): PoolUsage {
    return this.allocator.usage(pool) ?? { ipv4: { assigned: 0n, available: 0n }, ipv6: { assigned: 0n, available: 0n } };
  }

  private intentOf(service: V1Service): ReadServiceResult {
    let result = this.readings.get(service);
    if (!result) this.readings.set(service, (result = readServiceIntent(service)));
    return result;
  }

  private request(service: V1Service): { ok: true; request: AllocationRequest } | { ok: false; refusal: AllocationOutcome } {
    const result = this.intentOf(service);
    if (!result.ok) return { ok: false, refusal: { ok: false, reason: 'InvalidRequest', message: result.errors.join('; ') } };
    const intent: ServiceIntent = result.intent;
    return { ok: true, request: { ...intent, namespaceLabels: this.namespaceLabels(intent.namespace) } };
  }
}
