// BGP mode in the speaker process: the BGP caches, the runtime driving FRR
// beside the speaker, Events, metrics and the status Lease. start.ts creates
// it only with --frr-vty-socket; without a BGPPeer selecting the node the
// rendered configuration has no `router bgp`, so FRR announces nothing.
import { realScheduler } from '../src/clock/scheduler.js';
import { FrrDaemon } from '../src/bgp/frr-daemon.js';
import { BgpRuntime } from '../src/bgp/runtime.js';
import { BgpStatusPublisher } from '../src/kube/bgp-status.js';
import type { KubeClient } from '../src/kube/client.js';
import type { EventRecorder } from '../src/kube/events.js';
import { LeaseClient } from '../src/kube/leases.js';
import { IRONLB_GROUP, IRONLB_VERSION } from '../src/kube/resources.js';
import { SpeakerBgpCaches } from '../src/kube/speaker-bgp.js';
import type { SpeakerView } from '../src/kube/speaker-view.js';
import type { Logger } from '../src/log/logger.js';
import type { SpeakerMetrics } from '../src/metrics/metrics.js';
import type { FrrControl } from '../src/bgp/frr-daemon.js';

export interface SpeakerBgpOptions {
  node: string;
  namespace: string;
  client: KubeClient;
  view: SpeakerView;
  events: EventRecorder;
  metrics: SpeakerMetrics;
  logger: Logger;
  /** FRR's vty socket folder (shared with the FRR container). */
  socketDir: string;
  pollIntervalMs?: number;
  /** FRR's router ID when no BGPPeer sets one (the node's IPv4 address). */
  routerID?: string;
  /** Tests give another FRR; default FrrDaemon on socketDir. */
  frr?: FrrControl;
  /** SIGTERM waits this long at most for FRR to withdraw (default 5 s: inside the pod's grace period). */
  withdrawTimeoutMs?: number;
}

export interface SpeakerBgp {
  /** The caches SpeakerView holds changed. */
  update(): void;
  start(): Promise<void>;
  /** SIGTERM: announce nothing, wait for FRR to have it and for the status to be written. */
  withdraw(): Promise<void>;
  stop(): Promise<void>;
}

export function createSpeakerBgp(options: SpeakerBgpOptions): SpeakerBgp {
  const { node, namespace, client, view, events, metrics, logger } = options;
  const log = logger.child({ mode: 'bgp' });
  let synced = false;
  let scheduled = false;
  const status = new BgpStatusPublisher(new LeaseClient(client, namespace), node, log);
  const caches: SpeakerBgpCaches = new SpeakerBgpCaches({
    client,
    namespace,
    informerOptions: { logger: log },
    onChange: () => update(),
  });
  const runtime = new BgpRuntime({
    node,
    frr: options.frr ?? new FrrDaemon({ socketDir: options.socketDir }),
    scheduler: realScheduler(),
    metrics: metrics.bgp,
    events: {
      object: (kind, name, type, reason, message) => {
        const apiVersion = `${IRONLB_GROUP}/${IRONLB_VERSION}`;
        const ref = { kind, apiVersion, namespace, name, ...caches.reference(kind, name) };
        events.record(ref, type, reason, message);
      },
      node: (type, reason, message) =>
        events.record({ kind: 'Node', apiVersion: 'v1', name: node }, type, reason, message),
    },
    logger: log,
    pollIntervalMs: options.pollIntervalMs,
    onStatus: (s) => status.publish(s),
  });

  // Coalesced: a burst of cache events replans once.
  function update(): void {
    if (!synced || scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      const { inputs, parseErrors } = caches.inputs(node, view.nodeFacts(node), view.clusterFacts());
      runtime.setInputs({ ...inputs, defaultRouterID: options.routerID }, parseErrors);
    });
  }

  return {
    update,
    start: async () => {
      await caches.start();
      synced = true;
      update();
      runtime.start();
    },
    withdraw: async () => {
      // A hung FRR must not hold the rest of the shutdown past the grace period.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), options.withdrawTimeoutMs ?? 5000);
      });
      const done = await Promise.race([runtime.withdraw(), timeout]);
      clearTimeout(timer);
      if (done !== true) {
        const why = done === 'timeout' ? 'FRR did not answer in time' : 'FRR could not be told';
        log.error(`SIGTERM: ${why}; it may keep announcing until its sessions time out`);
      }
      await Promise.race([status.flush(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    },
    stop: async () => {
      runtime.stop();
      await caches.stop();
    },
  };
}
