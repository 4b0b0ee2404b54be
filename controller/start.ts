// Starts the whole controller in-process: kube client, caches, leader
// election, the allocation loop per leadership term, metrics. main.ts and the
// integration tests both call startController.

import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { createLogger, type Logger } from '../src/log/logger.js';
import { createControllerMetrics, type ControllerMetrics } from '../src/metrics/metrics.js';
import { startMetricsServer, type MetricsServer } from '../src/metrics/server.js';
import { createKubeClient } from '../src/kube/client.js';
import type { InformerOptions } from '../src/kube/informer.js';
import { LeaderElector } from '../src/kube/leader.js';
import { ensureLivenessKey } from '../src/kube/liveness-key.js';
import { LeaseClient } from '../src/kube/leases.js';
import { AllocationController } from '../src/allocation/controller.js';
import { EventRecorder } from '../src/kube/events.js';
import { createKubeIO } from '../src/kube/controller-io.js';

export const LEADER_LEASE_NAME = 'ironlb-controller';

export interface StartControllerOptions {
  kubeConfig: KubeConfig;
  namespace?: string;
  lbClass?: string;
  /** 0 (the default here) serves nothing; -1 picks a free port. */
  metricsPort?: number;
  metricsHost?: string;
  leaderElect?: boolean;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  identity?: string;
  logger?: Logger;
  registry?: Registry;
  /** Watch timeouts and reconnect backoff (tests shorten them). */
  informer?: Pick<InformerOptions, 'watchTimeoutSeconds' | 'idleTimeoutMs' | 'backoff'>;
  /** Parallel Service writes. */
  concurrency?: number;
  /** Grace before an ownership Lease of an unallocated IP is deleted (default 60 s). */
  orphanLeaseGraceMs?: number;
}

export interface RunningController {
  readonly identity: string;
  readonly metrics: ControllerMetrics;
  readonly metricsPort: number | undefined;
  isLeader(): boolean;
  /** Every cache has its first full list. */
  synced(): boolean;
  /** Caches synced and, when leading, the rebuild from status done. */
  ready(): boolean;
  /** Resolves when the leading loop has nothing queued or running; at once when not leading. */
  idle(): Promise<void>;
  pendingCount(): number;
  stop(): Promise<void>;
}

export async function startController(options: StartControllerOptions): Promise<RunningController> {
  const namespace = options.namespace ?? 'ironlb-system';
  const identity = options.identity ?? process.env.POD_NAME ?? hostname();
  const logger = options.logger ?? createLogger('controller');
  const metrics = createControllerMetrics(options.registry ?? new Registry());
  const client = createKubeClient({
    kubeConfig: options.kubeConfig,
    onRequest: (verb, resource) => metrics.apiRequests.inc({ verb, resource }),
  });
  const events = new EventRecorder(client, { component: 'ironlb-controller', host: identity, logger });
  const io = createKubeIO(client, namespace, logger, options.informer ?? {}, (ref, type, reason, message) =>
    events.record(ref, type, reason, message),
  );
  io.start();

  // The speakers' mesh key: created once, by whichever replica gets there first.
  let stopping = false;
  const keyReady = (async () => {
    for (let attempt = 0; !stopping; attempt++) {
      try {
        await ensureLivenessKey(client, namespace, logger);
        return;
      } catch (err) {
        if (attempt === 0) logger.warn({ err: String(err) }, 'cannot create the liveness key Secret yet; retrying');
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  })();

  let cachesSynced = false;
  const synced = Promise.all([io.services, io.pools, io.namespaces, io.leases].map((c) => c.waitForSync())).then(() => {
    cachesSynced = true;
  });
  synced.catch(() => undefined);

  let active: AllocationController | undefined;
  const lead = (): void => {
    if (stopping) return;
    metrics.isLeader.set(1);
    logger.info({ identity }, 'leading: rebuilding allocations from Service status');
    const controller = new AllocationController({
      io,
      namespace,
      lbClass: options.lbClass ?? '',
      logger,
      metrics,
      concurrency: options.concurrency || undefined,
      orphanLeaseGraceMs: options.orphanLeaseGraceMs,
    });
    active = controller;
    controller.start().catch((err: unknown) => logger.error({ err: String(err) }, 'controller loop failed to start'));
  };
  const unlead = (): void => {
    metrics.isLeader.set(0);
    if (active) logger.info({ identity }, 'stopped leading: the allocation loop stops');
    active?.stop();
    active = undefined;
  };

  let elector: LeaderElector | undefined;
  if (options.leaderElect ?? true) {
    elector = new LeaderElector({
      leases: new LeaseClient(client, namespace),
      leaseName: LEADER_LEASE_NAME,
      identity,
      leaseDurationMs: options.leaseDurationMs || undefined,
      renewDeadlineMs: options.renewDeadlineMs || undefined,
      retryPeriodMs: options.retryPeriodMs || undefined,
      onStartedLeading: lead,
      onStoppedLeading: unlead,
      onNewLeader: (leader) => logger.info({ leader }, 'leader observed'),
      logger,
    });
    elector.start();
  } else {
    lead();
  }

  let server: MetricsServer | undefined;
  const ready = (): boolean => cachesSynced && (active === undefined || active.ready);
  try {
    server = await startMetricsServer({
      port: options.metricsPort ?? 0,
      host: options.metricsHost || undefined,
      registry: metrics.registry,
      healthy: () => !stopping,
      ready,
    });
  } catch (err) {
    await elector?.stop();
    unlead();
    await io.stop();
    throw err;
  }

  return {
    identity,
    metrics,
    metricsPort: server?.port,
    isLeader: () => active !== undefined,
    synced: () => cachesSynced,
    ready,
    idle: async () => {
      await synced;
      await active?.idle();
    },
    pendingCount: () => active?.pendingCount() ?? 0,
    stop: async () => {
      stopping = true;
      // Release the leader Lease first so the standby takes over at its next retry.
      await elector?.stop();
      unlead();
      await keyReady;
      await server?.close();
      await events.stop();
      await io.stop();
    },
  };
}
