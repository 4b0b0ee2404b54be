// Starts the whole speaker in-process: kube client, caches -> candidates ->
// election -> wire, the liveness mesh, metrics. main.ts parses the flags and
// calls startSpeaker; nothing here reads argv or handles signals.
import { isIPv4 } from 'node:net';
import { announceInterfaces, type IpCandidates } from '../src/election/candidates.js';
import { SpeakerRuntime } from '../src/election/runtime.js';
import { createKubeClient } from '../src/kube/client.js';
import { loadKubeConfig } from '../src/kube/config.js';
import { EventRecorder } from '../src/kube/events.js';
import { KubeSpeakerLeaseStore } from '../src/kube/speaker-leases.js';
import { readLinkStates, watchInterfaces } from '../src/l2/interfaces.js';
import { openPacketSocket } from '../src/l2/socket.js';
import { createSpeakerMetrics } from '../src/metrics/metrics.js';
import { startMetricsServer } from '../src/metrics/server.js';
import type { SpeakerFlags } from './flags.js';
import { SpeakerView } from '../src/kube/speaker-view.js';
import { L2Wire } from '../src/l2/l2-wire.js';
import { MESH_STATE_MESSAGES } from '../src/election/runtime.js';
import type { MeshHealth } from '../src/election/membership.js';
import type { KubeClient } from '../src/kube/client.js';
import { LIVENESS_KEY_SECRET, readLivenessKeys } from '../src/kube/liveness-key.js';
import { MeshLiveness } from '../src/liveness/mesh.js';
import { PortInUseError } from '../src/liveness/udp.js';
import type { Logger } from '../src/log/logger.js';
import type { SpeakerMetrics } from '../src/metrics/metrics.js';
import { createSpeakerBgp } from './bgp.js';

export interface RunningSpeaker {
  readonly metricsPort: number | undefined;
  /** SIGTERM: tell the mesh, withdraw, release every held IP, delete the node Leases, close everything. */
  stop(): Promise<void>;
}

/**
 * Resolves once the caches have their first lists. `onFatal`: an error after
 * start that the speaker cannot run on (its liveness port is taken).
 */
export async function startSpeaker(
  flags: SpeakerFlags,
  logger: Logger,
  onFatal: (err: Error) => void,
): Promise<RunningSpeaker> {
  const node = flags.nodeName;
  const metrics = createSpeakerMetrics();
  const kubeConfig = loadKubeConfig(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {});
  const client = createKubeClient({
    kubeConfig,
    onRequest: (verb, resource) => metrics.apiRequests.inc({ verb, resource }),
  });
  const interfaces = watchInterfaces(() => undefined, {
    onError: (err) => logger.warn({ err: err.message }, 'listing interfaces failed'),
  });

  let candidates = new Map<string, IpCandidates>();
  // Declared before use by the callbacks below; all are set before anything starts.
  let runtime: SpeakerRuntime | undefined;
  let view: SpeakerView | undefined;

  const wire: L2Wire = new L2Wire({
    interfaces: () => interfaces.current(),
    override: flags.interfaces,
    interfacesForIp: (ip): readonly string[] | 'auto' => {
      const pool = candidates.get(ip)?.pool;
      const self = view?.nodeFacts(node);
      if (pool === undefined || self === undefined || view === undefined) return 'auto';
      const names: string[] = wire.publishedInterfaces().map((i) => i.ifname);
      return announceInterfaces(
        { advertisements: view.parsedAdvertisements(), pools: view.poolFacts() },
        pool,
        self,
        names,
      );
    },
    openSocket: (ifname) => openPacketSocket(ifname),
    isSpeakerMac: (mac) => runtime?.machine.isSpeakerMac(mac) ?? false,
    linkStates: readLinkStates,
    refreshInterfaces: () => interfaces.refresh(),
    garpRounds: flags.garpRounds,
    garpRefreshMs: flags.garpRefreshMs,
    metrics,
    logger,
  });
  const events = new EventRecorder(client, { component: 'ironlb-speaker', host: node, logger });
  const mesh =
    flags.livenessPort === 0
      ? undefined
      : new MeshLiveness({
          self: node,
          address: flags.livenessAddress,
          port: flags.livenessPort,
          intervalMs: flags.livenessIntervalMs,
          detectMultiplier: flags.livenessDetectMultiplier,
          onDrop: (reason) => metrics.livenessDropped.inc({ reason }),
          onError: (err) => logger.warn({ err: err.message }, 'liveness mesh'),
        });
  runtime = new SpeakerRuntime({
    node,
    store: new KubeSpeakerLeaseStore(client, flags.namespace, { logger }),
    wire,
    heartbeatIntervalMs: flags.heartbeatIntervalMs,
    leaseDurationMs: flags.leaseDurationMs,
    staggerMs: flags.staggerMs,
    interfaces: () => wire.publishedInterfaces(),
    // uid and resourceVersion from the cache, so `kubectl describe service` lists the event.
    events: {
      emit: (service, type, reason, message) =>
        events.record(
          {
            kind: 'Service',
            apiVersion: 'v1',
            ...(view?.serviceReference(service.namespace, service.name) ?? service),
          },
          type,
          reason,
          message,
        ),
    },
    metrics,
    logger,
    onSpeakersChanged: (published) => view?.setSpeakerInterfaces(published),
    liveness: mesh,
    // With the mesh judging peers, a fresh view has heard them within a few detection times.
    settleMs: mesh === undefined ? undefined : 3 * flags.livenessIntervalMs * flags.livenessDetectMultiplier,
    onMeshState: (state) =>
      events.record(
        { kind: 'Node', apiVersion: 'v1', name: node },
        state === 'ok' ? 'Normal' : 'Warning',
        MESH_EVENT_REASONS[state],
        MESH_STATE_MESSAGES[state],
      ),
  });
  const election = runtime;
  view = new SpeakerView({
    client,
    namespace: flags.namespace,
    loadBalancerClass: flags.lbClass,
    logger,
    informerOptions: { logger },
    onCandidates: (next) => {
      candidates = next;
      election.setCandidates(next);
      bgp?.update();
    },
  });
  const caches = view;
  const bgp =
    flags.frrVtySocket === undefined
      ? undefined
      : createSpeakerBgp({
          node,
          namespace: flags.namespace,
          client,
          view,
          events,
          metrics,
          logger,
          socketDir: flags.frrVtySocket,
          pollIntervalMs: flags.bgpPollIntervalMs,
          routerID: isIPv4(flags.livenessAddress) ? flags.livenessAddress : undefined,
        });
  caches.setSpeakerInterfaces(election.speakers());
  election.start();
  const server = await startMetricsServer({
    port: flags.metricsPort,
    registry: metrics.registry,
    healthy: () => true,
    // Not ready while it blames itself: it hears no peer and takes no IP.
    ready: () => caches.hasSynced() && election.isSynced() && !election.isSelfBlamed(),
  });
  const keys =
    mesh === undefined ? undefined : watchLivenessKeys(client, flags.namespace, mesh, metrics, logger, onFatal);
  await caches.start();
  await bgp?.start();
  logger.info(
    {
      namespace: flags.namespace,
      lbClass: flags.lbClass ?? '(none)',
      metricsPort: server?.port ?? 0,
      heartbeatIntervalMs: flags.heartbeatIntervalMs,
      leaseDurationMs: flags.leaseDurationMs,
    },
    'speaker started',
  );

  return {
    metricsPort: server?.port,
    stop: async () => {
      // BGP first: the routers withdraw this node while everything else still runs.
      await bgp?.withdraw();
      keys?.stop();
      await election.stop();
      wire.close();
      interfaces.stop();
      await bgp?.stop();
      await caches.stop();
      await server?.close();
    },
  };
}

const MESH_EVENT_REASONS: Record<MeshHealth, string> = {
  ok: 'MeshHealthy',
  'self-blamed': 'MeshIsolated',
  fallback: 'MeshUnreachable',
};
const KEY_POLL_MS = 2000;
const KEY_REFRESH_MS = 60_000;

/**
 * Reads the mesh key Secret until it exists (the controller creates it), then
 * starts the mesh, and re-reads it every minute for rotations. A taken port
 * is fatal, with a message naming the likely holder.
 */
function watchLivenessKeys(
  client: KubeClient,
  namespace: string,
  mesh: MeshLiveness,
  metrics: SpeakerMetrics,
  logger: Logger,
  onFatal: (err: Error) => void,
): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let reported = { sent: 0, received: 0 };
  const check = async (): Promise<void> => {
    try {
      const keys = await readLivenessKeys(client, namespace);
      if (keys === undefined)
        logger.warn(
          { secret: LIVENESS_KEY_SECRET },
          'waiting for the liveness key Secret (the controller creates it); peers are judged by their heartbeat ' +
            'Leases meanwhile',
        );
      else if (!mesh.started) await mesh.start(keys);
      else mesh.setKeys(keys);
    } catch (err) {
      if (err instanceof PortInUseError) onFatal(err);
      logger.warn({ err: String(err) }, 'reading the liveness key failed');
    }
    const now = mesh.datagrams();
    metrics.livenessDatagrams.inc({ direction: 'sent' }, now.sent - reported.sent);
    metrics.livenessDatagrams.inc({ direction: 'received' }, now.received - reported.received);
    reported = now;
    if (!stopped) timer = setTimeout(() => void check(), mesh.started ? KEY_REFRESH_MS : KEY_POLL_MS);
  };
  void check();
  return {
    stop: () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
