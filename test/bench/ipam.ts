// IPAM benchmark (issue 3): allocate then free 1,000,000 addresses from an IPv6
// /64 and from an IPv4 /12 through the real Allocator; per-op time at 10k vs 1M
// live allocations must stay flat. A scattered run (specific random addresses)
// grows the free-interval tree to 250k nodes, its worst case. A MetalLB-style
// linear-scan allocator, measured in the same run, is the baseline.
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parsePool, type PoolDefinition } from '../../src/api/pool.js';
import type { AllocationRequest } from '../../src/api/service.js';
import { formatIP, type IPAddress, type IPFamily } from '../../src/ip/address.js';
import { Allocator } from '../../src/ipam/allocator.js';
import { parseAddressRange } from '../../src/ip/range.js';
import { seededRandom } from '../kube/faults.js';

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

function shuffled<T>(items: T[], seed: number): T[] {
  const next = seededRandom(seed);
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

const BATCH = 1_000;
const SCATTERED_TOTAL = 250_000;

/**
 * Per-op figures in two windows of WINDOW ops: with ~10k live allocations and
 * with the most. The mean includes garbage collection and time the scheduler
 * gave to other processes; the median of 1000-op batches leaves out those rare
 * pauses and so shows the data structure's own cost.
 */
interface PhaseFigures {
  opsPerSecond: number;
  liveInHighWindow: number;
  meanNsAt10k: number;
  meanNsAtHigh: number;
  medianBatchNsAt10k: number;
  medianBatchNsAtHigh: number;
  /** Process CPU time (all threads, GC included) per op: what other processes on the machine inflate least. */
  cpuNsAt10k: number;
  cpuNsAtHigh: number;
  /** meanNsAtHigh / meanNsAt10k; the issue asks for < 2 at 1M. */
  meanRatio: number;
  medianRatio: number;
  cpuRatio: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Runs `count` ops, timing 1000-op batches inside the two windows starting at the given op indexes. */
function timed(
  count: number,
  lowWindowStart: number,
  highWindowStart: number,
  liveInHighWindow: number,
  op: (i: number) => void,
): PhaseFigures {
  const low: number[] = [];
  const high: number[] = [];
  let lowCpuMicros = 0;
  let highCpuMicros = 0;
  const started = performance.now();
  let batchStart = started;
  let cpuStart = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    op(i);
    if ((i + 1) % BATCH === 0) {
      const now = performance.now();
      const cpu = process.cpuUsage(cpuStart);
      const cpuMicros = cpu.user + cpu.system;
      if (i >= lowWindowStart && i < lowWindowStart + WINDOW) {
        low.push(now - batchStart);
        lowCpuMicros += cpuMicros;
      }
      if (i >= highWindowStart && i < highWindowStart + WINDOW) {
        high.push(now - batchStart);
        highCpuMicros += cpuMicros;
      }
      batchStart = now;
      cpuStart = process.cpuUsage();
    }
  }
  const totalMs = performance.now() - started;
  const meanNsAt10k = (low.reduce((a, b) => a + b, 0) * 1e6) / WINDOW;
  const meanNsAtHigh = (high.reduce((a, b) => a + b, 0) * 1e6) / WINDOW;
  const medianBatchNsAt10k = (median(low) * 1e6) / BATCH;
  const medianBatchNsAtHigh = (median(high) * 1e6) / BATCH;
  return {
    opsPerSecond: Math.round(count / (totalMs / 1000)),
    liveInHighWindow,
    meanNsAt10k: Math.round(meanNsAt10k),
    meanNsAtHigh: Math.round(meanNsAtHigh),
    medianBatchNsAt10k: Math.round(medianBatchNsAt10k),
    medianBatchNsAtHigh: Math.round(medianBatchNsAtHigh),
    cpuNsAt10k: Math.round((lowCpuMicros * 1000) / WINDOW),
    cpuNsAtHigh: Math.round((highCpuMicros * 1000) / WINDOW),
    meanRatio: meanNsAtHigh / meanNsAt10k,
    medianRatio: medianBatchNsAtHigh / medianBatchNsAt10k,
    cpuRatio: highCpuMicros / lowCpuMicros,
  };
}

const keys = Array.from({ length: TOTAL }, (_, i) => `bench/svc-${i}`);

/** Allocates TOTAL lowest-free addresses, then frees them in random order. */
function bulk(family: IPFamily, cidr: string): { allocate: PhaseFigures; free: PhaseFigures; seconds: number } {
  const allocator = new Allocator();
  allocator.setPools([definePool('bench', cidr)]);
  const request = requestFor(family);
  const started = performance.now();
  // Allocation: ~10k live in ops [10k, 20k), ~1M live in the last 10k.
  const allocate = timed(TOTAL, WINDOW, TOTAL - WINDOW, TOTAL, (i) =>
    expectOk(allocator.assign(keys[i]!, request).ok, `assign ${i}`),
  );
  const order = shuffled(keys, 7);
  // Freeing: ~1M live in the first 10k, ~10k live in ops [N-20k, N-10k).
  const freeing = timed(TOTAL, TOTAL - 2 * WINDOW, 0, TOTAL, (i) =>
    expectOk(allocator.release(order[i]!).length === 1, `release ${i}`),
  );
  const usage = allocator.usage('bench')!;
  expectOk((family === 'IPv4' ? usage.ipv4 : usage.ipv6).assigned === 0n, 'all freed');
  return { allocate, free: freeing, seconds: (performance.now() - started) / 1000 };
}

/** Assigns specific random addresses in a /64: every one splits a free interval (the tree's worst case). */
function scattered(): { assignSpecific: PhaseFigures; freeIntervalsAtPeak: number; seconds: number } {
  const allocator = new Allocator();
  allocator.setPools([definePool('bench', '2001:db8::/64')]);
  const range = parseAddressRange('2001:db8::/64');
  if (!range.ok) throw new Error(range.error);
  const next = seededRandom(11);
  const seen = new Set<bigint>();
  const requests: AllocationRequest[] = [];
  while (requests.length < SCATTERED_TOTAL) {
    const offset = (BigInt(Math.floor(next() * 2 ** 32)) << 32n) | BigInt(Math.floor(next() * 2 ** 32));
    if (seen.has(offset)) continue;
    seen.add(offset);
    requests.push(requestFor('IPv6', [{ family: 'IPv6', value: range.range.start + offset }]));
  }
  const started = performance.now();
  const assignSpecific = timed(SCATTERED_TOTAL, WINDOW, SCATTERED_TOTAL - WINDOW, SCATTERED_TOTAL, (i) =>
    expectOk(allocator.assign(keys[i]!, requests[i]!).ok, `assign specific ${i}`),
  );
  expectOk(allocator.usage('bench')!.ipv6.assigned === BigInt(SCATTERED_TOTAL), 'all assigned');
  // Every address isolated: the free set holds one interval more than the allocations.
  return { assignSpecific, freeIntervalsAtPeak: SCATTERED_TOTAL + 1, seconds: (performance.now() - started) / 1000 };
}

/**
 * MetalLB's way (internal/allocator AllocateFromPool): walk the pool from its
 * first address, formatting each and looking it up, until one is free.
 */
class LinearScanAllocator {
  private readonly used = new Map<string, string>();
  constructor(
    private readonly start: bigint,
    private readonly end: bigint,
  ) {}

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
    for (let i = 0; i < count; i++)
      this.used.set(formatIP({ family: 'IPv4', value: this.start + BigInt(i) }), keys[i]!);
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
  return {
    linearScanNs: Math.round(linearScanNs),
    ironlbNs: Math.round(ironlbNs),
    speedup: Math.round(linearScanNs / ironlbNs),
  };
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
