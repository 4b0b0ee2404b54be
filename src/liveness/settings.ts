import type { Scheduler } from '../clock/scheduler.js';
import type { ApiStanding } from '../election/boundaries.js';
import { isNodeName } from './codec.js';
import type { LivenessTransport } from './types.js';

// The failure detector's options, their defaults and their limits.

export interface FailureDetectorOptions {
  self: string;
  scheduler: Scheduler;
  transport: LivenessTransport;
  /** Heartbeat interval (default 100 ms). */
  intervalMs?: number;
  /** Missed intervals before a monitor suspects (default 4). */
  detectMultiplier?: number;
  /** Ring successors that monitor each node, K (default 3). */
  monitors?: number;
  /** Suspecting monitors needed to declare a death (default 2, at least 2). */
  quorum?: number;
  /** Extra silence allowed to a newly assigned predecessor (default 5 intervals). */
  assignmentGraceMs?: number;
  /** Heartbeat rounds that carry each learned verdict (default 3). */
  relayRounds?: number;
  /** Random members each node tells when it learns a verdict change (default 3). */
  gossipFanout?: number;
  /** How long a watch request keeps heartbeats coming (default 10 s). */
  subscriptionMs?: number;
  /** Starting incarnation; must exceed any earlier run's (default Date.now()). */
  incarnation?: number;
  random?: () => number;
  /** This node's standing with the API server (default: steady, never cut off). */
  apiStanding?: () => ApiStanding;
  onChange?: (event: LivenessEvent) => void;
}

export type LivenessEvent =
  | { type: 'verdict'; node: string; verdict: 'alive' | 'suspect' | 'dead'; reason?: 'confirmed' | 'left' }
  | { type: 'isolated'; isolated: boolean };

export interface LivenessCounters {
  sent: { heartbeat: number; notice: number };
  received: { heartbeat: number; notice: number };
  /** Messages from a non-member or an older incarnation of their sender. */
  ignored: number;
  suspicions: number;
  deathsDeclared: number;
  deathsLearned: number;
  leavesLearned: number;
  refutations: number;
  isolations: number;
  /** Heartbeats not counted as proof of life: their sender is cut off from the API server and this node is not. */
  cutOffHeartbeats: number;
  /** Suspicions or deaths of this node left unrefuted while it was cut off from the API server. */
  unrefuted: number;
}

export interface Settings {
  intervalMs: number;
  detectMs: number;
  monitors: number;
  quorum: number;
  assignmentGraceMs: number;
  relayRounds: number;
  gossipFanout: number;
  subscriptionMs: number;
  incarnation: number;
}

/** Defaults filled in; throws a clear error on a setting that would break the protocol. */
export function resolveSettings(options: FailureDetectorOptions): Settings {
  if (!isNodeName(options.self))
    throw new Error(`liveness: self ${JSON.stringify(options.self)} is not a valid node name`);
  const intervalMs = options.intervalMs ?? 100;
  const multiplier = options.detectMultiplier ?? 4;
  const monitors = options.monitors ?? 3;
  const quorum = options.quorum ?? 2;
  if (!(intervalMs >= 10)) throw new Error(`liveness: interval must be at least 10 ms, got ${intervalMs}`);
  if (!Number.isInteger(multiplier) || multiplier < 2)
    throw new Error(`liveness: detect multiplier must be an integer >= 2, got ${multiplier}`);
  if (!Number.isInteger(quorum) || quorum < 2)
    throw new Error(`liveness: quorum must be an integer >= 2 (no single observer's word), got ${quorum}`);
  if (!Number.isInteger(monitors) || monitors < quorum)
    throw new Error(`liveness: monitors (${monitors}) must be an integer >= quorum (${quorum})`);
  const gossipFanout = options.gossipFanout ?? 3;
  if (!Number.isInteger(gossipFanout) || gossipFanout < 0)
    throw new Error(`liveness: gossip fanout must be a non-negative integer, got ${gossipFanout}`);
  const relayRounds = options.relayRounds ?? 3;
  if (!Number.isInteger(relayRounds) || relayRounds < 1)
    throw new Error(`liveness: relay rounds must be a positive integer, got ${relayRounds}`);
  const incarnation = options.incarnation ?? Date.now();
  if (!Number.isSafeInteger(incarnation) || incarnation < 0)
    throw new Error(`liveness: incarnation must be a non-negative safe integer, got ${incarnation}`);
  const assignmentGraceMs = options.assignmentGraceMs ?? 5 * intervalMs;
  const subscriptionMs = options.subscriptionMs ?? 10_000;
  if (!(assignmentGraceMs >= 0) || !(subscriptionMs > 3 * intervalMs))
    throw new Error('liveness: assignment grace must be >= 0 and the subscription longer than 3 intervals');
  return {
    intervalMs,
    detectMs: intervalMs * multiplier,
    monitors,
    quorum,
    assignmentGraceMs,
    relayRounds,
    gossipFanout,
    subscriptionMs,
    incarnation,
  };
}

export function newCounters(): LivenessCounters {
  return {
    sent: { heartbeat: 0, notice: 0 },
    received: { heartbeat: 0, notice: 0 },
    ignored: 0,
    suspicions: 0,
    deathsDeclared: 0,
    deathsLearned: 0,
    leavesLearned: 0,
    refutations: 0,
    isolations: 0,
    cutOffHeartbeats: 0,
    unrefuted: 0,
  };
}
