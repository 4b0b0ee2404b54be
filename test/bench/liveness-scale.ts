// liveness-scale: the real failure detector (src/liveness) of 10, 100 and 1000
// speakers on a simulated network (1% loss, latency 0.5 ms + up to 5 ms
// jitter) driven by a virtual clock. In one long run per size:
// - every KILL_EVERY_MS a random running node is killed (no goodbye); the
//   detection time is from the kill until every running node's verdict on it
//   is `dead`; the node restarts RESTART_AFTER_MS later (a new incarnation);
// - a false death is a quorum declaring a running node dead;
// - datagrams are counted per sending node, kills and restarts included.
// API writes/s is arithmetic, not measured here: with direct liveness the node
// Lease is renewed every LEASE_RENEW_S seconds (as kubelet does), one write
// per node per renewal.
import { performance } from 'node:perf_hooks';
import { SimCluster } from '../sim/cluster.js';

/** LIVENESS_SCALE_SPEAKERS=10,100 runs a subset. */
const SIZES = (process.env.LIVENESS_SCALE_SPEAKERS ?? '10,100,1000').split(',').map(Number);
if (SIZES.some((n) => !Number.isInteger(n) || n < 3))
  throw new Error(`LIVENESS_SCALE_SPEAKERS: expected speaker counts >= 3, got ${process.env.LIVENESS_SCALE_SPEAKERS}`);
/**
 * Virtual hours per size (LIVENESS_SCALE_HOURS=12,3,1 overrides). 1000
 * speakers cost about 2-4 min of wall time per virtual hour here, so the
 * default run gives them half an hour to stay near 3 minutes in all.
 */
const DEFAULT_HOURS: Record<number, number> = { 10: 12, 100: 3, 1000: 0.5 };
const HOURS_OVERRIDE = process.env.LIVENESS_SCALE_HOURS?.split(',').map(Number);
const LOSS = 0.01;
const LATENCY_MS = 0.5;
const JITTER_MS = 5;
const WARMUP_MS = 10_000;
const KILL_EVERY_MS = 15_000;
const RESTART_AFTER_MS = 5_000;
const LEASE_RENEW_S = 10;
/** A kill not seen by everyone within this long counts as undetected. */
const DETECT_LIMIT_MS = 10_000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

interface Kill {
  node: string;
  at: number;
  waiting: Set<string>;
}

function measure(size: number, hours: number) {
  const nodes = Array.from({ length: size }, (_, i) => `node-${String(i).padStart(4, '0')}`);
  const kills = new Map<string, Kill>();
  const detections: number[] = [];
  let undetected = 0;
  const cluster: SimCluster = new SimCluster({
    nodes,
    seed: size,
    loss: LOSS,
    latencyMs: LATENCY_MS,
    jitterMs: JITTER_MS,
    onEvent: (observer, event) => {
      if (event.type !== 'verdict' || event.verdict !== 'dead') return;
      const kill = kills.get(event.node);
      if (kill === undefined || !kill.waiting.delete(observer) || kill.waiting.size > 0) return;
      detections.push(cluster.scheduler.now() - kill.at);
      kills.delete(event.node);
    },
  });
  const wallStart = performance.now();
  cluster.startAll();
  cluster.scheduler.advance(WARMUP_MS);
  const sentAtStart = new Map(nodes.map((n) => [n, cluster.network.sentBy(n)]));
  const start = cluster.scheduler.now();
  const end = start + hours * 3_600_000;
  while (cluster.scheduler.now() + KILL_EVERY_MS <= end) {
    const running = [...cluster.running];
    const victim = running[Math.floor(cluster.random() * running.length)] as string;
    const at = cluster.scheduler.now();
    cluster.kill(victim);
    kills.set(victim, { node: victim, at, waiting: new Set(cluster.running) });
    cluster.scheduler.advance(RESTART_AFTER_MS);
    if (kills.has(victim)) {
      // Not everyone knew by now: finish the measurement before the restart blurs it.
      const done = cluster.scheduler.runUntilDone(() => !kills.has(victim), DETECT_LIMIT_MS - RESTART_AFTER_MS);
      if (!done) {
        undetected++;
        kills.delete(victim);
      }
    }
    cluster.restart(victim);
    cluster.scheduler.advance(Math.max(0, at + KILL_EVERY_MS - cluster.scheduler.now()));
  }
  const seconds = (cluster.scheduler.now() - start) / 1000;
  const perNode = nodes.map((n) => (cluster.network.sentBy(n) - (sentAtStart.get(n) ?? 0)) / seconds);
  const sorted = [...detections].sort((a, b) => a - b);
  const virtualHours = seconds / 3600;
  return {
    detectP50Ms: Math.round(percentile(sorted, 50)),
    detectP99Ms: Math.round(percentile(sorted, 99)),
    detectMaxMs: Math.round(sorted[sorted.length - 1] ?? Number.NaN),
    kills: detections.length + undetected,
    undetected,
    falseDeathsPerHour: cluster.falseDeaths.size / virtualHours,
    falseDeaths: cluster.falseDeaths.size,
    virtualHours: Number(virtualHours.toFixed(2)),
    datagramsPerNodePerSec: Number((perNode.reduce((a, b) => a + b, 0) / perNode.length).toFixed(2)),
    datagramsPerNodePerSecMax: Number(Math.max(...perNode).toFixed(2)),
    apiWritesPerSec: size / LEASE_RENEW_S,
    wallSeconds: Number(((performance.now() - wallStart) / 1000).toFixed(1)),
  };
}

export async function run(): Promise<object> {
  const result: Record<string, object> = {};
  SIZES.forEach((size, i) => {
    const hours = HOURS_OVERRIDE?.[i] ?? DEFAULT_HOURS[size] ?? 1;
    if (!(hours > 0))
      throw new Error(`LIVENESS_SCALE_HOURS: expected positive hours, got ${process.env.LIVENESS_SCALE_HOURS}`);
    result[String(size)] = measure(size, hours);
  });
  return {
    loss: LOSS,
    latencyMs: LATENCY_MS,
    jitterMs: JITTER_MS,
    intervalMs: 100,
    detectMultiplier: 4,
    monitors: 3,
    quorum: 2,
    ...result,
  };
}
