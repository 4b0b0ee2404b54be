// election-load: API writes and watch events per second at steady state for
// 1000 IPs held by 3, 10 and 50 speakers, all through client-node against the
// API server double, counted by the double (writes) and at the watchers
// (events delivered), in one run:
// - ironlb: the liveness mesh judges peers (a stand-in Liveness that calls every
//   member alive: the mesh itself costs the API nothing); heartbeat Leases
//   renewed every 10 s and watched by nobody; member and ownership Leases
//   written only on change;
// - the previous design: a heartbeat Lease per node renewed every 1 s and
//   watched by every speaker (nodes^2 events per second);
// - the per-Service-lease design (client-go leader election per IP, as
//   kube-vip and Cilium do).
import { performance } from 'node:perf_hooks';
import type { V1Lease } from '@kubernetes/client-node';
import type { IpCandidates } from '../../src/election/candidates.js';
import { IP_ANNOTATION, ipLeaseName, nodeLeaseName } from '../../src/api/leases.js';
import type { LeaseStore, Liveness, Wire } from '../../src/election/boundaries.js';
import { SpeakerRuntime } from '../../src/election/runtime.js';
import { createKubeClient } from '../../src/kube/client.js';
import { LeaseClient } from '../../src/kube/leases.js';
import { KubeSpeakerLeaseStore } from '../../src/kube/speaker-leases.js';
import { createLogger } from '../../src/log/logger.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { sleep } from '../wait.js';

const NS = 'ironlb-system';
const IPS = 1000;
/** ELECTION_LOAD_SPEAKERS=3,10 runs a subset. */
const SPEAKER_COUNTS = (process.env.ELECTION_LOAD_SPEAKERS ?? '3,10,50').split(',').map(Number);
if (SPEAKER_COUNTS.some((n) => !Number.isInteger(n) || n < 1))
  throw new Error(
    `ELECTION_LOAD_SPEAKERS: expected a list of speaker counts, got ${process.env.ELECTION_LOAD_SPEAKERS}`,
  );
/** ironlb defaults. */
const HEARTBEAT_MS = 10_000;
const LEASE_MS = 40_000;
const STAGGER_MS = 150;
/** The previous design's defaults: every node Lease renewed every second, watched by all. */
const PREVIOUS_HEARTBEAT_MS = 1000;
/** client-go leader election as kube-vip / Cilium configure it: 15 s lease, 2 s retry period. */
const BASELINE_LEASE_SECONDS = 15;
const BASELINE_RETRY_MS = 2000;
/** Requests the in-process double can take while staying honest about the clock. */
const BASELINE_REQUEST_BUDGET_PER_SECOND = 300;
const WINDOW_MS = 6000;
/** Two heartbeat periods: a 10 s renewal needs a long window to be counted fairly. */
const IRONLB_WINDOW_MS = 2 * HEARTBEAT_MS;

/** The mesh as the election sees it when every speaker hears every other. */
function allAliveMesh(): Liveness {
  return {
    endpoint: () => '192.0.2.1:7947',
    setMembers: () => undefined,
    verdict: () => 'alive',
    isolated: () => false,
    quorumPossible: () => true,
    onChange: () => undefined,
    setApiStanding: () => undefined,
    leave: () => undefined,
    stop: () => undefined,
  };
}

const WRITE_VERBS = ['create', 'update', 'patch', 'delete'] as const;
const READ_VERBS = ['get', 'list', 'watch'] as const;

interface Rates {
  writesPerSecond: number;
  readsPerSecond: number;
}

function rates(server: ApiServer, seconds: number): Rates {
  const writes = WRITE_VERBS.reduce((sum, verb) => sum + server.counters.get(verb, 'leases'), 0);
  const reads = READ_VERBS.reduce((sum, verb) => sum + server.counters.get(verb, 'leases'), 0);
  return { writesPerSecond: writes / seconds, readsPerSecond: reads / seconds };
}

const silentWire: Wire = {
  announce: () => Promise.resolve({}),
  withdraw: () => undefined,
  onClaim: () => undefined,
  check: () => Promise.resolve({}),
  onLink: () => undefined,
  ipsOn: () => [],
};

/** Counts watch events a store delivers (they cost the API server fan-out, not requests). */
function countingStore(inner: LeaseStore, counter: { events: number }): LeaseStore {
  return {
    get: (n) => inner.get(n),
    listHeartbeats: () => inner.listHeartbeats(),
    create: (n, c) => inner.create(n, c),
    update: (n, rv, c) => inner.update(n, rv, c),
    delete: (n, rv) => inner.delete(n, rv),
    watch: (h) =>
      inner.watch({
        onUpsert: (l) => {
          counter.events++;
          h.onUpsert(l);
        },
        onDelete: (n) => {
          counter.events++;
          h.onDelete(n);
        },
        onSynced: h.onSynced,
      }),
  };
}

function ipList(count: number): string[] {
  // 198.51.100.0/24 and 203.0.113.0/24 hold 508 usable addresses; the rest come from 2001:db8::/32.
  return Array.from({ length: count }, (_, i) =>
    i < 254 ? `198.51.100.${i + 1}` : i < 508 ? `203.0.113.${i - 253}` : `2001:db8::${(i - 507).toString(16)}`,
  );
}

/**
 * Ownership Leases as a running cluster has them (round-robin holders), so the
 * measurement starts at steady state instead of replaying a placement storm
 * through one process.
 */
async function preplace(server: ApiServer, ips: string[], nodes: string[]): Promise<void> {
  const store = new KubeSpeakerLeaseStore(createKubeClient({ kubeConfig: server.kubeConfig }), NS);
  for (let start = 0; start < ips.length; start += 25) {
    await Promise.all(
      ips.slice(start, start + 25).map((ip, i) =>
        store.create(ipLeaseName(ip), {
          holderIdentity: nodes[(start + i) % nodes.length] ?? '',
          annotations: { [IP_ANNOTATION]: ip },
        }),
      ),
    );
  }
}

async function measureIronlb(speakers: number): Promise<Rates & { watchEventsPerSecond: number; owned: number }> {
  const server = await startApiServer({ namespaces: [NS] });
  const nodes = Array.from({ length: speakers }, (_, i) => `node-${i}`);
  const ips = ipList(IPS);
  await preplace(server, ips, nodes);
  const delivered = { events: 0 };
  const runtimes = nodes.map(
    (node, i) =>
      new SpeakerRuntime({
        node,
        store: countingStore(
          new KubeSpeakerLeaseStore(createKubeClient({ kubeConfig: server.kubeConfig }), NS),
          delivered,
        ),
        wire: silentWire,
        heartbeatIntervalMs: HEARTBEAT_MS,
        leaseDurationMs: LEASE_MS,
        staggerMs: STAGGER_MS,
        liveness: allAliveMesh(),
        settleMs: 1000,
        logger: process.env.ELECTION_LOAD_DEBUG ? createLogger('election-load', 'info') : undefined,
        interfaces: () => [
          {
            ifname: 'eth0',
            mac: `02:00:5e:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
          },
        ],
      }),
  );
  try {
    for (const r of runtimes) r.start();
    const deadline = Date.now() + 60_000;
    while (!runtimes.every((r) => nodes.every((n) => r.machine.isLive(n, performance.now())))) {
      if (Date.now() > deadline) throw new Error('speakers never saw each other');
      await sleep(100);
    }
    const candidates = new Map<string, IpCandidates>(
      ips.map((ip, i) => [ip, { eligible: new Set(nodes), services: [{ namespace: 'default', name: `svc-${i}` }] }]),
    );
    for (const r of runtimes) r.setCandidates(candidates);
    const owned = () =>
      runtimes.reduce((sum, r) => sum + r.machine.heldIps().filter((ip) => r.machine.isAnnouncing(ip)).length, 0);
    while (owned() < IPS) {
      if (Date.now() > deadline + 120_000) throw new Error(`speakers announce only ${owned()} of ${IPS} IPs`);
      await sleep(100);
    }
    // Steady state: placement retries (timeouts, lost races) have died out,
    // i.e. a heartbeat's worth of seconds without a single ownership create.
    for (let quiet = 0; quiet < 3; ) {
      if (Date.now() > deadline + 300_000) throw new Error('ownership writes never settled');
      server.counters.reset();
      await sleep(1000);
      quiet =
        server.counters.get('create', 'leases') === 0 && server.counters.get('get', 'leases') === 0 ? quiet + 1 : 0;
    }
    server.counters.reset();
    delivered.events = 0;
    await sleep(IRONLB_WINDOW_MS);
    const seconds = IRONLB_WINDOW_MS / 1000;
    if (process.env.ELECTION_LOAD_DEBUG) console.error(speakers, server.counters.snapshot());
    return { ...rates(server, seconds), watchEventsPerSecond: delivered.events / seconds, owned: owned() };
  } finally {
    for (const r of runtimes) await r.abandon();
    await server.close();
  }
}

/**
 * The previous design's steady state: each node renews its heartbeat Lease
 * every second (update with the version it holds) and every speaker watches
 * every Lease of the namespace; ownership Leases sit unchanged.
 */
async function measurePreviousDesign(speakers: number): Promise<{ writesPerSec: number; watchEventsPerSec: number }> {
  const server = await startApiServer({ namespaces: [NS] });
  const nodes = Array.from({ length: speakers }, (_, i) => `node-${i}`);
  await preplace(server, ipList(IPS), nodes);
  const clients = nodes.map(() => new LeaseClient(createKubeClient({ kubeConfig: server.kubeConfig }), NS));
  const informers = clients.map((c) => c.informer({}));
  const delivered = { events: 0 };
  const timers: NodeJS.Timeout[] = [];
  try {
    for (const informer of informers) {
      informer.on({
        onAdd: () => delivered.events++,
        onUpdate: () => delivered.events++,
        onDelete: () => delivered.events++,
      });
      informer.start();
    }
    await Promise.all(informers.map((i) => i.waitForSync()));
    nodes.forEach((node, i) => {
      const leases = clients[i]!;
      let held: V1Lease | undefined;
      const renew = async () => {
        const now = new Date();
        if (held === undefined) {
          const created = await leases.create(nodeLeaseName(node), {
            holderIdentity: node,
            leaseDurationSeconds: 3,
            renewTime: now,
          });
          if (created.ok) held = created.lease;
          return;
        }
        held.spec = { ...held.spec, renewTime: now };
        const written = await leases.update(held);
        held = written.ok ? written.lease : undefined;
      };
      const phase = Math.random() * PREVIOUS_HEARTBEAT_MS;
      timers.push(
        setTimeout(
          () => timers.push(setInterval(() => void renew().catch(() => undefined), PREVIOUS_HEARTBEAT_MS)),
          phase,
        ),
      );
    });
    await sleep(3 * PREVIOUS_HEARTBEAT_MS);
    server.counters.reset();
    delivered.events = 0;
    await sleep(WINDOW_MS);
    const seconds = WINDOW_MS / 1000;
    return { writesPerSec: rates(server, seconds).writesPerSecond, watchEventsPerSec: delivered.events / seconds };
  } finally {
    for (const t of timers) clearTimeout(t);
    await Promise.all(informers.map((i) => i.stop()));
    await server.close();
  }
}

/**
 * client-go's tryAcquireOrRenew per (candidate, IP) every retry period: GET;
 * create when absent; renew (UPDATE) when held; take (UPDATE) when expired.
 * Simulated on fewer IPs when needed and scaled linearly: every IP's Lease is
 * renewed on its own, so the rates are proportional to the number of IPs.
 */
async function measureBaseline(
  speakers: number,
): Promise<
  Rates & { simulatedIps: number; scale: number; formulaWritesPerSecond: number; formulaReadsPerSecond: number }
> {
  const perIpRequestsPerSecond = (speakers + 1) * (1000 / BASELINE_RETRY_MS);
  const simulatedIps = Math.max(
    1,
    Math.min(IPS, Math.floor(BASELINE_REQUEST_BUDGET_PER_SECOND / perIpRequestsPerSecond)),
  );
  const server = await startApiServer({ namespaces: [NS] });
  const clients = Array.from(
    { length: speakers },
    () => new LeaseClient(createKubeClient({ kubeConfig: server.kubeConfig }), NS),
  );
  const timers: NodeJS.Timeout[] = [];
  const tryAcquireOrRenew = async (leases: LeaseClient, identity: string, name: string) => {
    const now = new Date();
    const lease = await leases.get(name);
    if (lease === undefined) {
      await leases.create(name, {
        holderIdentity: identity,
        leaseDurationSeconds: BASELINE_LEASE_SECONDS,
        acquireTime: now,
        renewTime: now,
      });
      return;
    }
    const spec = lease.spec ?? {};
    const renewedAt = spec.renewTime === undefined ? 0 : new Date(spec.renewTime).getTime();
    const expired = renewedAt + BASELINE_LEASE_SECONDS * 1000 < now.getTime();
    if (spec.holderIdentity !== identity && !expired) return;
    lease.spec = { ...spec, holderIdentity: identity, renewTime: now, leaseDurationSeconds: BASELINE_LEASE_SECONDS };
    await leases.update(lease);
  };
  try {
    for (let s = 0; s < speakers; s++) {
      for (let i = 0; i < simulatedIps; i++) {
        const name = `svc-lease-${i}`;
        const leases = clients[s];
        if (leases === undefined) continue;
        const tick = () => void tryAcquireOrRenew(leases, `node-${s}`, name).catch(() => undefined);
        // Spread the loops over the retry period, as independent processes would be.
        const phase = Math.random() * BASELINE_RETRY_MS;
        timers.push(
          setTimeout(() => {
            tick();
            timers.push(setInterval(tick, BASELINE_RETRY_MS));
          }, phase),
        );
      }
    }
    await sleep(3 * BASELINE_RETRY_MS);
    server.counters.reset();
    await sleep(WINDOW_MS);
    const measured = rates(server, WINDOW_MS / 1000);
    const scale = IPS / simulatedIps;
    return {
      writesPerSecond: measured.writesPerSecond * scale,
      readsPerSecond: measured.readsPerSecond * scale,
      simulatedIps,
      scale,
      // client-go: the holder renews every retry period (GET + UPDATE), every other candidate GETs.
      formulaWritesPerSecond: IPS * (1000 / BASELINE_RETRY_MS),
      formulaReadsPerSecond: IPS * speakers * (1000 / BASELINE_RETRY_MS),
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    await server.close();
  }
}

export async function run(): Promise<object> {
  const result: Record<string, object> = {};
  for (const speakers of SPEAKER_COUNTS) {
    const ironlb = await measureIronlb(speakers);
    const previousDesign = await measurePreviousDesign(speakers);
    const perServiceLease = await measureBaseline(speakers);
    result[String(speakers)] = {
      writesPerSec: ironlb.writesPerSecond,
      watchEventsPerSec: ironlb.watchEventsPerSecond,
      readsPerSec: ironlb.readsPerSecond,
      ownedIps: ironlb.owned,
      previousDesign,
      perServiceLease,
      watchEventsVsPrevious:
        previousDesign.watchEventsPerSec === 0 ? null : ironlb.watchEventsPerSecond / previousDesign.watchEventsPerSec,
      writesVsPrevious: ironlb.writesPerSecond / previousDesign.writesPerSec,
    };
  }
  return {
    ips: IPS,
    ironlb: `liveness mesh + heartbeat Lease every ${HEARTBEAT_MS / 1000}s (watched by nobody)`,
    previousDesign: `heartbeat Lease every ${PREVIOUS_HEARTBEAT_MS / 1000}s, watched by every speaker`,
    baseline: `client-go per IP, lease ${BASELINE_LEASE_SECONDS}s, retry ${BASELINE_RETRY_MS}ms`,
    speakers: result,
  };
}
