// The speaker program: flags in, caches -> candidates -> election -> wire, metrics, signals. Nothing else.
import { announceInterfaces, type IpCandidates } from '../src/election/candidates.js';
import { SpeakerRuntime } from '../src/election/runtime.js';
import { createKubeClient } from '../src/kube/client.js';
import { loadKubeConfig } from '../src/kube/config.js';
import { EventRecorder } from '../src/kube/events.js';
import { KubeSpeakerLeaseStore } from '../src/kube/speaker-leases.js';
import { readLinkStates, watchInterfaces } from '../src/l2/interfaces.js';
import { openPacketPort } from '../src/l2/socket.js';
import { exitOnStartupFailure, handleSignals, readFlagsOrExit } from '../src/cli/program.js';
import { createLogger } from '../src/log/logger.js';
import { createSpeakerMetrics } from '../src/metrics/metrics.js';
import { startMetricsServer } from '../src/metrics/server.js';
import { USAGE, parseSpeakerFlags } from './flags.js';
import { SpeakerView } from '../src/kube/speaker-view.js';
import { L2Wire } from '../src/l2/election-wire.js';

async function main(): Promise<void> {
  const flags = readFlagsOrExit(() => parseSpeakerFlags(process.argv.slice(2)), USAGE);
  if (flags === undefined) return;
  const node = flags.nodeName;
  const logger = createLogger('speaker', flags.logLevel ?? process.env.LOG_LEVEL ?? 'info').child({ node });
  const signals = handleSignals(logger);
  const metrics = createSpeakerMetrics();
  const kubeConfig = loadKubeConfig(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {});
  const client = createKubeClient({ kubeConfig, onRequest: (verb, resource) => metrics.apiRequests.inc({ verb, resource }) });
  const interfaces = watchInterfaces(() => undefined, { onError: (err) => logger.warn({ err: err.message }, 'listing interfaces failed') });

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
      return announceInterfaces({ advertisements: view.parsedAdvertisements(), pools: view.poolFacts() }, pool, self, names);
    },
    openPort: (ifname) => openPacketPort(ifname),
    isSpeakerMac: (mac) => runtime?.machine.isSpeakerMac(mac) ?? false,
    linkStates: readLinkStates,
    refreshInterfaces: () => interfaces.refresh(),
    garpRounds: flags.garpRounds,
    garpRefreshMs: flags.garpRefreshMs,
    metrics,
    logger,
  });
  const events = new EventRecorder(client, { component: 'ironlb-speaker', host: node, logger });
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
        events.record({ kind: 'Service', apiVersion: 'v1', ...(view?.serviceReference(service.namespace, service.name) ?? service) }, type, reason, message),
    },
    metrics,
    logger,
    onSpeakersChanged: (published) => view?.setSpeakerInterfaces(published),
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
    },
  });
  const caches = view;
  caches.setSpeakerInterfaces(election.speakers());
  election.start();
  const server = await startMetricsServer({
    port: flags.metricsPort,
    registry: metrics.registry,
    healthy: () => true,
    ready: () => caches.hasSynced() && election.isSynced(),
  });
  await caches.start();
  logger.info(
    { namespace: flags.namespace, lbClass: flags.lbClass ?? '(none)', metricsPort: server?.port ?? 0, heartbeatIntervalMs: flags.heartbeatIntervalMs, leaseDurationMs: flags.leaseDurationMs },
    'speaker started',
  );

  signals.started('stopping: withdrawing, releasing every held IP, deleting the node Lease', async () => {
    await election.stop();
    wire.close();
    interfaces.stop();
    await caches.stop();
    await server?.close();
  });
}

main().catch(exitOnStartupFailure('speaker'));
