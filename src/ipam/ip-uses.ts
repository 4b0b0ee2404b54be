import { formatIP, type IPAddress } from '../ip/address.js';
import type { AllocationRequest, ServicePort } from '../api/service.js';
import type { Refusal } from './types.js';

/** Who uses one address. Several Services only when they share it validly. */
export interface IPUse {
  readonly ip: IPAddress;
  readonly address: string;
  /** The pool this address counts against. */
  pool: string;
  sharingKey: string | undefined;
  backendKey: string;
  /** A short list: more than one entry only for a shared address. */
  readonly services: ServiceOnIP[];
}

export interface ServiceOnIP {
  readonly service: string;
  ports: readonly ServicePort[];
}

/** The sharing terms one Service brings to an address. */
export interface ShareTerms {
  readonly sharingKey: string | undefined;
  readonly backendKey: string;
  readonly ports: readonly ServicePort[];
}

/**
 * MetalLB's backend key: with externalTrafficPolicy Local, Services may share an
 * IP only with an identical selector (their endpoints, hence the announcing node,
 * must be the same); with Cluster any backends will do.
 */
export function backendKeyOf(request: Pick<AllocationRequest, 'externalTrafficPolicy' | 'selector'>): string {
  if (request.externalTrafficPolicy !== 'Local') return '';
  const pairs = Object.entries(request.selector).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `Local:${pairs.map(([k, v]) => `${k}=${v}`).join(',')}`;
}

export function termsOf(request: AllocationRequest): ShareTerms {
  return { sharingKey: request.sharingKey, backendKey: backendKeyOf(request), ports: request.ports };
}

function describeBackend(backendKey: string): string {
  return backendKey === ''
    ? 'externalTrafficPolicy Cluster'
    : `externalTrafficPolicy Local with selector {${backendKey.slice('Local:'.length)}}`;
}

/**
 * Every address in use, and an index of addresses by sharing key.
 *
 * A freed address stays in its map as a retired entry (no Services) instead of
 * being deleted: V8 keeps deleted Map entries in their hash chain until the next
 * rehash, so freeing and re-allocating the same lowest address over and over
 * would make each lookup walk thousands of dead entries. Retired entries are
 * reused in place and swept once they outnumber the live ones (amortised O(1)).
 */
export class IPUseTable {
  // Number keys for IPv4 and BigInt keys for IPv6 hash by value, with no key string built per lookup.
  private readonly ipv4 = new Map<number, IPUse>();
  private readonly ipv6 = new Map<bigint, IPUse>();
  private readonly bySharingKey = new Map<string, Set<IPUse>>();
  private retired = 0;

  get size(): number {
    return this.ipv4.size + this.ipv6.size - this.retired;
  }

  get(ip: IPAddress): IPUse | undefined {
    const use = this.lookup(ip);
    return use && use.services.length > 0 ? use : undefined;
  }

  all(): IPUse[] {
    return [...this.ipv4.values(), ...this.ipv6.values()].filter((use) => use.services.length > 0);
  }

  /** Addresses currently shared under this key (usually a handful). */
  withSharingKey(sharingKey: string): ReadonlySet<IPUse> {
    return this.bySharingKey.get(sharingKey) ?? new Set();
  }

  private lookup(ip: IPAddress): IPUse | undefined {
    return ip.family === 'IPv4' ? this.ipv4.get(Number(ip.value)) : this.ipv6.get(ip.value);
  }

  private set(use: IPUse): void {
    if (use.ip.family === 'IPv4') this.ipv4.set(Number(use.ip.value), use);
    else this.ipv6.set(use.ip.value, use);
  }

  private retire(use: IPUse): void {
    this.indexSharingKey(use, undefined);
    this.retired++;
    const live = this.ipv4.size + this.ipv6.size - this.retired;
    if (this.retired > 4096 && this.retired > live) this.sweep();
  }

  private sweep(): void {
    for (const map of [this.ipv4, this.ipv6] as Array<Map<number | bigint, IPUse>>) {
      const live = [...map].filter(([, use]) => use.services.length > 0);
      map.clear();
      for (const [key, use] of live) map.set(key, use);
    }
    this.retired = 0;
  }

  /** Why `service` may not use `ip` on these terms, or undefined when it may. */
  checkShare(ip: IPAddress, service: string, terms: ShareTerms): Refusal | undefined {
    const use = this.get(ip);
    if (!use) return undefined;
    const others = use.services.filter((s) => s.service !== service);
    if (others.length === 0) return undefined;
    const holder = others.map((s) => s.service).join(', ');
    const refuse = (reason: Refusal['reason'], cause: string): Refusal => ({
      ok: false,
      reason,
      message: `${service}: ${use.address} is already used by ${holder} (${cause})`,
    });
    if (use.sharingKey === undefined) return refuse('IPInUse', `${holder} does not allow sharing`);
    if (terms.sharingKey === undefined)
      return refuse('IPInUse', `this Service has no sharing key, ${holder} shares under "${use.sharingKey}"`);
    if (terms.sharingKey !== use.sharingKey) {
      return refuse('IPInUse', `sharing key "${terms.sharingKey}" does not match "${use.sharingKey}"`);
    }
    if (terms.backendKey !== use.backendKey) {
      return refuse(
        'SelectorMismatch',
        `sharing with externalTrafficPolicy Local needs identical selectors: ` +
          `this Service has ${describeBackend(terms.backendKey)}, ` +
          `the other ${describeBackend(use.backendKey)}`,
      );
    }
    for (const other of others) {
      const clash = terms.ports.find((p) => other.ports.some((t) => t.protocol === p.protocol && t.port === p.port));
      if (clash) {
        return {
          ok: false,
          reason: 'PortConflict',
          message:
            `${service}: port ${clash.protocol}/${clash.port} on ${use.address} ` +
            `is already used by ${other.service}`,
        };
      }
    }
    return undefined;
  }

  /**
   * Adds (or updates) a Service on an address and returns the address's use; `existing` is get(ip), passed in to save a
   * lookup.
   */
  join(existing: IPUse | undefined, ip: IPAddress, pool: string, service: string, terms: ShareTerms): IPUse {
    let use = existing;
    if (!use) {
      use = this.lookup(ip);
      if (use) {
        this.retired--;
        use.pool = pool;
      } else {
        use = { ip, address: formatIP(ip), pool, sharingKey: undefined, backendKey: terms.backendKey, services: [] };
        this.set(use);
      }
    }
    // checkShare made the terms equal to the others'; a sole user may change its own.
    this.indexSharingKey(use, terms.sharingKey);
    use.backendKey = terms.backendKey;
    const entry = use.services.find((s) => s.service === service);
    if (entry) entry.ports = terms.ports;
    else use.services.push({ service, ports: terms.ports });
    return use;
  }

  /** Removes a Service from an address; returns true when nobody uses the address any more. */
  leave(use: IPUse, service: string): boolean {
    const index = use.services.findIndex((s) => s.service === service);
    if (index < 0) return false;
    use.services.splice(index, 1);
    if (use.services.length > 0) return false;
    this.retire(use);
    return true;
  }

  /** Forgets an address entirely (it left every pool). */
  drop(ip: IPAddress): void {
    const use = this.get(ip);
    if (!use) return;
    use.services.length = 0;
    this.retire(use);
  }

  private indexSharingKey(use: IPUse, sharingKey: string | undefined): void {
    if (use.sharingKey === sharingKey) return;
    if (use.sharingKey !== undefined) {
      const set = this.bySharingKey.get(use.sharingKey);
      set?.delete(use);
      if (set && set.size === 0) this.bySharingKey.delete(use.sharingKey);
    }
    use.sharingKey = sharingKey;
    if (sharingKey !== undefined) {
      let set = this.bySharingKey.get(sharingKey);
      if (!set) {
        set = new Set();
        this.bySharingKey.set(sharingKey, set);
      }
      set.add(use);
    }
  }
}
