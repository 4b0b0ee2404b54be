import { parsePool, type PoolDefinition } from '../../../src/api/pool.js';
import type { AllocationRequest } from '../../../src/api/service.js';
import { mustParseIP } from '../../../src/ip/address.js';
import type { AssignResult } from '../../../src/ipam/types.js';

/** A pool from the same raw shape users write, through the real parser. */
export function pool(
  name: string,
  addresses: string[],
  spec: Record<string, unknown> = {},
  createdAt = '2026-01-01T00:00:00Z',
): PoolDefinition {
  const result = parsePool({ metadata: { name, creationTimestamp: createdAt }, spec: { addresses, ...spec } });
  if (!result.ok) throw new Error(`test pool ${name}: ${result.errors.join('; ')}`);
  return result.pool;
}

type RequestOverrides = Omit<Partial<AllocationRequest>, 'requestedIPs'> & { requestedIPs?: string[] };

export function request(overrides: RequestOverrides = {}): AllocationRequest {
  const { requestedIPs, ...rest } = overrides;
  return {
    requestedIPs: (requestedIPs ?? []).map(mustParseIP),
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
    ports: [{ protocol: 'TCP', port: 80 }],
    externalTrafficPolicy: 'Cluster',
    selector: { app: 'web' },
    serviceLabels: {},
    namespaceLabels: {},
    ...rest,
  };
}

/** The addresses of a successful result; fails the test with the refusal otherwise. */
export function addresses(result: AssignResult): string[] {
  if (!result.ok) throw new Error(`expected an assignment, got ${result.reason}: ${result.message}`);
  return result.ips.map((i) => i.address);
}
