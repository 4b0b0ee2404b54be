// Whether the addresses a Service holds still fit its request: one set of rules
// for a running controller (assign keeps what fits) and a restarted one (restore
// keeps what fits of the status), so a restart decides what run time decides.

import { formatIP, type IPAddress, type IPFamily } from '../ip/address.js';
import type { IPUseTable, ShareTerms } from './ip-uses.js';
import { poolAllowsService, type PoolEntry, type PoolSet } from './pool-set.js';
import type { AllocationRequest } from '../api/service.js';
import type { DroppedIP, RefusalReason } from './types.js';

export interface Pick {
  readonly ip: IPAddress;
  readonly pool: PoolEntry;
}

/** A held address that no longer fits, with the refusal code used when nothing is left. */
export interface Drop extends DroppedIP {
  readonly reason: RefusalReason;
}

/** The Service's addresses split by whether they still fit its request. */
export interface Fit {
  readonly kept: Pick[];
  readonly dropped: Drop[];
}

/**
 * Splits addresses the Service holds into those that still fit its request and
 * those that do not, with why. One set of rules for a running controller (assign)
 * and a restarted one (restore), so a restart decides what run time decides.
 */
export function fitting(
  pools: PoolSet,
  uses: IPUseTable,
  held: readonly IPAddress[],
  service: string,
  namespace: string,
  request: AllocationRequest,
  wanted: IPFamily[],
  terms: ShareTerms,
): Fit {
  const kept: Pick[] = [];
  const dropped: Drop[] = [];
  for (const ip of held) {
    const address = formatIP(ip);
    const drop = (reason: RefusalReason, why: string): void => {
      dropped.push({ address, why, reason });
    };
    if (!wanted.includes(ip.family)) {
      drop(
        'IPFamilyMismatch',
        `${address} is ${ip.family}, but the Service is ${request.ipFamilyPolicy} ${wanted.join('/')}`,
      );
      continue;
    }
    if (kept.some((p) => p.ip.family === ip.family)) {
      drop('InvalidRequest', `${address} is a second ${ip.family} address`);
      continue;
    }
    const pool = pools.holderFor(ip);
    if (!pool) {
      drop('IPNotInAnyPool', `${address} is no longer in any pool`);
      continue;
    }
    const poolName = pool.definition.name;
    if (request.requestedPool !== undefined && request.requestedPool !== poolName) {
      drop(
        'IPNotInRequestedPool',
        `${address} is in pool "${poolName}", not in the requested pool "${request.requestedPool}"`,
      );
      continue;
    }
    if (!poolAllowsService(pool.definition, namespace, request)) {
      drop('PoolNotAllowed', `pool "${poolName}" holding ${address} no longer allows this Service (serviceAllocation)`);
      continue;
    }
    const shareProblem = uses.checkShare(ip, service, terms);
    if (shareProblem) {
      const prefix = `${service}: `;
      drop(
        shareProblem.reason,
        shareProblem.message.startsWith(prefix) ? shareProblem.message.slice(prefix.length) : shareProblem.message,
      );
      continue;
    }
    kept.push({ ip, pool });
  }
  return { kept, dropped };
}
