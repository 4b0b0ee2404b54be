// IPAM benchmark (issue 3): allocate then free 1,000,000 addresses from an IPv6
// /64 and from an IPv4 /12 through the real Allocator; per-op time at 10k vs 1M
// live allocations must stay flat. A scattered run (specific random addresses)
// grows the free-interval tree to ~1M nodes, its worst case. A MetalLB-style
// linear-scan allocator, measured in the same run, is the baseline.
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parsePool } from '../../src/api/pool.js';
import { formatIP, type IPAddress, type IPFamily } from '../../src/ipam/address.js';
import { Allocator } from '../../src/ipam/allocator.js';
import { parseAddressRange } from '../../src/ipam/range.js';
import type { AllocationRequest, PoolDefinition } from '../../src/ipam/types.js';

const TOTAL = 1_000_000;
const WINDOW = 10_000;

function definePool(name: string, cidr: string): PoolDefinition {
  const result = parsePool({ metadata: { name }, spec: { addresses: [cidr] } });
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.pool;
}

function requestFor(family: IPFamily, requestedIPs: IPAddress[] = []): AllocationRequest {
  return {
    requestedIPs,
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: [family],
    ports: [{ protocol: 'TCP', port: 80 }],
    externalTrafficPolicy: 'Cluster',
    selector: {},
    serviceLabels: {},
    namespaceLabels: {},
  };
}

/** Deterministic pseudo-random numbers (mulberry32), so runs are comparable. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: T[], seed: number): T[] {
  const next = random(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function expectOk(ok: boolean, what: string): void {
  if (!ok) throw new Error(`benchmark setup failed: ${what}`);
}

interface PhaseFigures {
  opsPerSecond: number;
  meanNsAt10k: number;
  meanNsAt1M: number;
  /** meanNsAt1M / meanNsAt10k: the issue asks for < 2. */
  ratio1MTo10k: number;
}

const keys = Array.from({ length: TOTAL }, (_, i) => `bench/svc-${i}`);

/** Allocates TOTAL lowest-free addresses, then frees them in random order. */
function bulk(family: IPFamily, cidr: string): { allocate: PhaseFigures; free: PhaseFigures; seconds: number } {
  const allocator = new Allocator();
  allocator.setPools([definePool('bench', cidr)]);
  const request = requestFor(family);
  const started = performance.now();
  let windowAt10k = 0;
  let windowAt1M = 0;
  let mark = performance.now();
  for (let i = 0; i < TOTAL; i++) {
    if (i === WINDOW || i === TOTAL - WINDOW) mark = performance.now();
    expectOk(allocator.assign(keys[i]!, request).ok, `assign ${i}`);
    if (i === 2 * WINDOW - 1) windowAt10k = performance.now() - mark;
    if (i === TOTAL - 1) windowAt1M = performance.now() - mark;
  }
  const allocated = performance.now();
  const order = shuffled(keys, 7);
  let freeAt1M = 0;
  let freeAt10k = 0;
  for (let i = 0; i < TOTAL; i++) {
    if (i === 0 || i === TOTAL - 2 * WINDOW) mark = performance.now();
    expectOk(allocator.release(order[i]!).length === 1, `release ${i}`);
    if (i === WINDOW - 1) freeAt1M = performance.now() - mark;
    if (i === TOTAL - WINDOW - 1) freeAt10k = performance.now() - mark;
  }
  const freed = performance.now();
  const usage = allocator.usage('bench')!;
  expectOk((family === 'IPv4' ? usage.ipv4 : usage.ipv6).assigned === 0n, 'all freed');
  return {
    allocate: figures(TOTAL, allocated - started, windowAt10k, windowAt1M),
    free: figures(TOTAL, freed - allocated, freeAt10k, freeAt1M),
    seconds: (freed - started) / 1000,
  };
}

/** Assigns TOTAL specific random addresses in a /64: every one splits a free interval (the tree's worst case). */
function scattered(): { assignSpecific: PhaseFigures; freeIntervalsAtPeak: number; seconds: number } {
  const allocator = new Allocator();
  const pool = definePool('bench', '2001:db8::/64');
  allocator.setPools([pool]);
  const range = parseAddressRange('2001:db8::/64');
  if (!range.ok) throw new Error(range.error);
  const next = random(11);
  const seen = new Set<bigint>();
  const requests: AllocationRequest[] = [];
  while (requests.length < TOTAL) {
    const offset = (BigInt(Math.floor(next() * 2 ** 32)) << 32n) | BigInt(Math.floor(next() * 2 ** 32));
    if (seen.has(offset)) continue;
    seen.add(offset);
    requests.push(requestFor('IPv6', [{ family: 'IPv6', value: range.range.start + offset }]));
  }
  const started = performance.now();
  let windowAt10k = 0;
  let windowAt1M = 0;
  let mark = started;
  for (let i = 0; i < TOTAL; i++) {
    if (i === WINDOW || i === TOTAL - WINDOW) mark = performance.now();
    expectOk(allocator.assign(keys[i]!, requests[i]!).ok, `assign specific ${i}`);
    if (i === 2 * WINDOW - 1) windowAt10k = performance.now() - mark;
    if (i === TOTAL - 1) windowAt1M = performance.now() - mark;
  }
  const elapsed = performance.now() - started;
  // With every address isolated, the free set holds one interval more than the allocations.
  const freeIntervalsAtPeak = TOTAL + 1;
  expectOk(allocator.usage('bench')!.ipv6.assigned === BigInt(TOTAL), 'all assigned');
  return { assignSpecific: figures(TOTAL, elapsed, windowAt10k, windowAt1M), freeIntervalsAtPeak, seconds: elapsed / 1000 };
}

function figures(count: number, totalMs: number, windowAt10kMs: number, windowAt1MMs: number): PhaseFigures {
  const meanNsAt10k = (windowAt10kMs * 1e6) / WINDOW;
  const meanNsAt1M = (windowAt1MMs * 1e6) / WINDOW;
  return { opsPerSecond: Math.round(count / (totalMs / 1000)), meanNsAt10k: Math.round(meanNsAt10k), meanNsAt1M: Math.round(meanNsAt1M), ratio1MTo10k: meanNsAt1M / meanNsAt10k };
}

/**
 * MetalLB's way (internal/allocator AllocateFromPool): walk the pool from its
 * first address, formatting each and looking it up, until one is free.
 */
class LinearScanAllocator {
  private readonly used = new Map<string, string>();
  constructor(private readonly start: bigint, private readonly end: bigint) {}

  allocate(service: string): string | undefined {
    for (let value = this.start; value <= this.end; value++) {
      const text = formatIP({ family: 'IPv4', value });
      if (!this.used.has(text)) {
        this.used.set(text, service);
        return text;
      }
    }
    return undefined;
  }

  free(address: string): void {
    this.used.delete(address);
  }

  /** Setup only: marks the first `count` addresses used without scanning (what `count` allocations would leave). */
  prefill(count: number): void {
    for (let i = 0; i < count; i++) this.used.set(formatIP({ family: 'IPv4', value: this.start + BigInt(i) }), keys[i]!);
  }
}

/** Per-allocation time with `live` allocations in place: allocate one, free it, repeat. */
function steadyState(live: number, operations: number): { linearScanNs: number; ironlbNs: number; speedup: number } {
  const range = parseAddressRange('10.16.0.0/12');
  if (!range.ok) throw new Error(range.error);
  const naive = new LinearScanAllocator(range.range.start, range.range.end);
  naive.prefill(live);
  let started = performance.now();
  for (let i = 0; i < operations; i++) naive.free(naive.allocate('bench/probe')!);
  const linearScanNs = ((performance.now() - started) * 1e6) / operations;

  const allocator = new Allocator();
  allocator.setPools([definePool('bench', '10.16.0.0/12')]);
  const request = requestFor('IPv4');
  for (let i = 0; i < live; i++) allocator.assign(keys[i]!, request);
  const ironlbOperations = 20_000;
  // A new Service each time, as in a cluster; the same lowest address is freed and re-used throughout.
  const probes = Array.from({ length: ironlbOperations }, (_, i) => `bench/probe-${i}`);
  started = performance.now();
  for (let i = 0; i < ironlbOperations; i++) {
    allocator.assign(probes[i]!, request);
    allocator.release(probes[i]!);
  }
  const ironlbNs = ((performance.now() - started) * 1e6) / ironlbOperations;
  return { linearScanNs: Math.round(linearScanNs), ironlbNs: Math.round(ironlbNs), speedup: Math.round(linearScanNs / ironlbNs) };
}

function warmUp(): void {
  const allocator = new Allocator();
  allocator.setPools([definePool('warm', '198.18.0.0/15'), definePool('warm6', '2001:db8:1::/64')]);
  for (let i = 0; i < 50_000; i++) allocator.assign(keys[i]!, requestFor(i % 2 === 0 ? 'IPv4' : 'IPv6'));
  for (let i = 0; i < 50_000; i++) allocator.release(keys[i]!);
}

function progress(step: string, since: number): void {
  process.stderr.write(`ipam bench: ${step} (${((performance.now() - since) / 1000).toFixed(1)} s)\n`);
}

export async function run(): Promise<object> {
  const started = performance.now();
  // Other work on the machine inflates every figure; the load average says how much to trust them.
  const loadAverageAtStart = loadavg()[0];
  warmUp();
  const ipv6Slash64 = bulk('IPv6', '2001:db8::/64');
  progress('IPv6 /64 done', started);
  const ipv4Slash12 = bulk('IPv4', '10.16.0.0/12');
  progress('IPv4 /12 done', started);
  const scatteredIPv6 = scattered();
  progress('scattered IPv6 done', started);
  const baseline = { at10k: steadyState(10_000, 300), at50k: steadyState(50_000, 60) };
  progress('baseline done', started);
  return {
    allocations: TOTAL,
    loadAverageAtStart,
    loadAverageAtEnd: loadavg()[0],
    ipv6Slash64,
    ipv4Slash12,
    scatteredIPv6,
    linearScanBaseline: baseline,
    totalSeconds: (performance.now() - started) / 1000,
  };
}
