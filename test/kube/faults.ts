// Request counters and fault injection for the API server double.

import type { RequestVerb } from '../../src/kube/request-kind.js';

export type Verb = RequestVerb;

export class Counters {
  private readonly counts = new Map<string, number>();

  /** `resource` is the plural, with `/status` for the subresource: `services/status`. */
  record(verb: Verb, resource: string): void {
    const key = `${verb} ${resource}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Requests with this verb (and resource, when given). */
  get(verb: Verb, resource?: string): number {
    let total = 0;
    for (const [key, count] of this.counts) {
      const [v, r] = key.split(' ');
      if (v === verb && (resource === undefined || r === resource)) total += count;
    }
    return total;
  }

  total(): number {
    let sum = 0;
    for (const count of this.counts.values()) sum += count;
    return sum;
  }

  /** `{"get services": 3, ...}` */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort());
  }

  reset(): void {
    this.counts.clear();
  }
}

export interface FailureMatch {
  verb?: Verb;
  resource?: string;
}

interface PendingFailure {
  remaining: number;
  code: number;
  match: FailureMatch;
}

/** Deterministic PRNG (mulberry32) so error-rate runs repeat exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FaultHooks {
  dropWatches(): number;
  setOutage(on: boolean): Promise<void>;
}

export class Faults {
  private latencyMs = 0;
  private readonly pending: PendingFailure[] = [];
  private rate = 0;
  private rateCode = 500;

  constructor(
    private readonly hooks: FaultHooks,
    private readonly random: () => number,
  ) {}

  /** Delay every response by `ms` (0 turns it off). */
  latency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`latency must be a non-negative number of ms, got ${ms}`);
    this.latencyMs = ms;
  }

  /** The next `n` requests matching `match` fail with `code` (a metav1.Status body). */
  failNext(n: number, code: number, match: FailureMatch = {}): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`failNext needs a positive whole count, got ${n}`);
    if (!Number.isInteger(code) || code < 400 || code > 599)
      throw new Error(`failNext needs an HTTP error code 400-599, got ${code}`);
    this.pending.push({ remaining: n, code, match });
  }

  /** Every request fails with `code` with probability `fraction` (0 turns it off). */
  errorRate(fraction: number, code = 500): void {
    if (!(fraction >= 0 && fraction <= 1)) throw new Error(`errorRate fraction must be within 0..1, got ${fraction}`);
    if (!Number.isInteger(code) || code < 400 || code > 599)
      throw new Error(`errorRate needs an HTTP error code 400-599, got ${code}`);
    this.rate = fraction;
    this.rateCode = code;
  }

  /** Cuts every open watch connection, as a network failure would; returns how many. */
  dropWatches(): number {
    return this.hooks.dropWatches();
  }

  /** On: the server stops listening and drops every connection (clients get ECONNREFUSED). */
  outage(on: boolean): Promise<void> {
    return this.hooks.setOutage(on);
  }

  /** Clears every fault. */
  async reset(): Promise<void> {
    this.latencyMs = 0;
    this.pending.length = 0;
    this.rate = 0;
    await this.hooks.setOutage(false);
  }

  get delayMs(): number {
    return this.latencyMs;
  }

  /** The error code this request must fail with, if any; consumes a failNext slot. */
  failureFor(verb: Verb, resource: string): number | undefined {
    const index = this.pending.findIndex(
      (p) =>
        (p.match.verb === undefined || p.match.verb === verb) &&
        (p.match.resource === undefined || p.match.resource === resource),
    );
    if (index >= 0) {
      const failure = this.pending[index];
      failure.remaining--;
      if (failure.remaining === 0) this.pending.splice(index, 1);
      return failure.code;
    }
    if (this.rate > 0 && this.random() < this.rate) return this.rateCode;
    return undefined;
  }
}
