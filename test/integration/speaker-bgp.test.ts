// The speaker's BGP side through the API server double: its caches of the BGP
// kinds, Secrets, Nodes, pools, Services and EndpointSlices become the FRR
// configuration handed to an FrrControl; bad objects get an Event and disturb
// nothing else; the status Lease says what FRR reported. The FrrControl here is a
// recorder that can be told to fail; the real FRR is test/e2e/frr-daemon.test.ts.
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, type CoreV1Event } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { FrrError, type FrrControl } from '../../src/bgp/frr-daemon.js';
import { parseBgpNeighbors, type BfdPeerState, type BgpSessionState } from '../../src/bgp/frr-state.js';
import { BGP_STATUS_ANNOTATION, bgpStatusLeaseName, type BgpNodeStatus } from '../../src/bgp/status.js';
import { createKubeClient } from '../../src/kube/client.js';
import { EventRecorder } from '../../src/kube/events.js';
import { SpeakerView } from '../../src/kube/speaker-view.js';
import { silentLogger } from '../../src/log/logger.js';
import { createSpeakerMetrics } from '../../src/metrics/metrics.js';
import { createSpeakerBgp, type SpeakerBgp } from '../../speaker/bgp.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { waitFor } from '../wait.js';
import { ironlbObject } from '../ironlb-objects.js';

const NS = 'ironlb-system';
const NODE = 'node-a';
/** FRR as the speaker sees it: takes configurations (or refuses them), reports sessions. */
class RecordingFrr implements FrrControl {
  applied: string[] = [];
  refuse: string | undefined;
  /** An FRR that takes a configuration and never answers (hung). */
  hang = false;
  sessionsJson = '{}';
  async apply(config: string): Promise<void> {
    if (this.hang) return new Promise(() => undefined);
    if (this.refuse !== undefined) throw new FrrError(this.refuse);
    this.applied.push(config);
  }
  async runningConfig(): Promise<string> {
    return this.applied.at(-1) ?? '';
  }
  async sessions(): Promise<Map<string, BgpSessionState>> {
    return parseBgpNeighbors(this.sessionsJson);
  }
  async bfdPeers(): Promise<BfdPeerState[]> {
    return [];
  }
  get last(): string {
    return this.applied.at(-1) ?? '';
  }
}

let server: ApiServer | undefined;
let stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.reverse()) await stop();
  stops = [];
  await server?.close();
  server = undefined;
});

async function start(frr: RecordingFrr): Promise<{
  bgp: SpeakerBgp;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
  metrics: ReturnType<typeof createSpeakerMetrics>;
}> {
  server = await startApiServer({ namespaces: [NS] });
  const kc = server.kubeConfig;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  await core.createNode({ body: { metadata: { name: NODE, labels: { rack: 'r1' } } } });
  await custom.createNamespacedCustomObject(
    ironlbObject('IPAddressPool', NS, 'web', { addresses: ['203.0.113.0/28'] }),
  );
  const client = createKubeClient({ kubeConfig: kc });
  const logger = silentLogger();
  const metrics = createSpeakerMetrics();
  const events = new EventRecorder(client, { component: 'ironlb-speaker', host: NODE, logger, minWriteIntervalMs: 0 });
  let bgp: SpeakerBgp | undefined;
  const view = new SpeakerView({ client, namespace: NS, logger, onCandidates: () => bgp?.update() });
  bgp = createSpeakerBgp({
    node: NODE,
    namespace: NS,
    client,
    view,
    events,
    metrics,
    logger,
    socketDir: '/nonexistent',
    frr,
    pollIntervalMs: 100,
    withdrawTimeoutMs: 300,
  });
  await view.start();
  await bgp.start();
  stops.push(async () => {
    await bgp.stop();
    await view.stop();
    await events.stop();
  });
  return { bgp, custom, core, coordination, metrics };
}

async function service(core: CoreV1Api, name: string, ip: string): Promise<void> {
  await core.createNamespacedService({
    namespace: 'default',
    body: {
      metadata: { name, annotations: { 'ironlb.io/ip-allocated-from-pool': 'web' } },
      spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
    },
  });
  const current = await core.readNamespacedService({ name, namespace: 'default' });
  current.status = { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } };
  await core.replaceNamespacedServiceStatus({ name, namespace: 'default', body: current });
}

async function eventsOf(core: CoreV1Api, reason: string): Promise<CoreV1Event[]> {
  const list = await core.listEventForAllNamespaces();
  return list.items.filter((e) => e.reason === reason);
}

async function status(coordination: CoordinationV1Api): Promise<BgpNodeStatus | undefined> {
  try {
    const lease = await coordination.readNamespacedLease({ name: bgpStatusLeaseName(NODE), namespace: NS });
    const raw = lease.metadata?.annotations?.[BGP_STATUS_ANNOTATION];
    return raw === undefined ? undefined : (JSON.parse(raw) as BgpNodeStatus);
  } catch {
    return undefined;
  }
}

/** One peer at 192.0.2.254 announcing 203.0.113.5/32 over a session FRR reports Established. */
async function establishedPeer(frr: RecordingFrr, cluster: Awaited<ReturnType<typeof start>>, name: string) {
  const { custom, core, coordination } = cluster;
  await custom.createNamespacedCustomObject(
    ironlbObject('BGPPeer', NS, name, { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.254' }),
  );
  await custom.createNamespacedCustomObject(ironlbObject('BGPAdvertisement', NS, 'all', {}));
  await service(core, 'web', '203.0.113.5');
  await waitFor('the route', () => frr.last.includes('network 203.0.113.5/32'));
  frr.sessionsJson = JSON.stringify({
    '192.0.2.254': {
      nbrDesc: name,
      bgpState: 'Established',
      addressFamilyInfo: { ipv4Unicast: { sentPrefixCounter: 1 } },
    },
  });
  await waitFor('status established', async () => (await status(coordination))?.peers[0]?.established === true);
}

describe('speaker BGP side against the API server double', () => {
  it('no BGPPeer: no router bgp; then a peer and a Service: the peer and the /32', async () => {
    const frr = new RecordingFrr();
    const { custom, core } = await start(frr);
    await waitFor('a first configuration', () => frr.applied.length > 0);
    expect(frr.last).not.toContain('router bgp');

    await custom.createNamespacedCustomObject(
      ironlbObject('BGPPeer', NS, 'tor', { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.254' }),
    );
    await custom.createNamespacedCustomObject(ironlbObject('BGPAdvertisement', NS, 'all', {}));
    await service(core, 'web', '203.0.113.5');
    await waitFor(
      'the peer and the route',
      () => frr.last.includes('neighbor 192.0.2.254 remote-as 64513') && frr.last.includes('network 203.0.113.5/32'),
    );
  });

  it('missing password Secret, unknown BFD profile: Events naming the field; the good peer untouched', async () => {
    const frr = new RecordingFrr();
    const { custom, core } = await start(frr);
    await custom.createNamespacedCustomObject(
      ironlbObject('BGPPeer', NS, 'good', { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.254' }),
    );
    await custom.createNamespacedCustomObject(ironlbObject('BGPAdvertisement', NS, 'all', {}));
    await service(core, 'web', '203.0.113.5');
    await waitFor(
      'the good peer and its route',
      () => frr.last.includes('neighbor 192.0.2.254 remote-as') && frr.last.includes('network 203.0.113.5/32'),
    );
    const before = frr.last;

    await custom.createNamespacedCustomObject(
      ironlbObject('BGPPeer', NS, 'secretless', {
        myASN: 64512,
        peerASN: 64513,
        peerAddress: '192.0.2.253',
        passwordSecret: { name: 'nope' },
      }),
    );
    await custom.createNamespacedCustomObject(
      ironlbObject('BGPPeer', NS, 'nobfd', {
        myASN: 64512,
        peerASN: 64513,
        peerAddress: '192.0.2.252',
        bfdProfile: 'missing',
      }),
    );
    await waitFor('two Events', async () => (await eventsOf(core, 'InvalidBGPConfiguration')).length === 2);
    const messages = (await eventsOf(core, 'InvalidBGPConfiguration'))
      .map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`)
      .sort();
    expect(messages).toEqual([
      'BGPPeer/nobfd: node node-a: left out: spec.bfdProfile: BFDProfile "missing" not found',
      'BGPPeer/secretless: node node-a: left out: spec.passwordSecret: Secret "nope" not found',
    ]);
    expect(frr.last).toBe(before);

    // The Secret arrives: the peer joins with its password.
    await core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: 'nope' },
        type: 'kubernetes.io/basic-auth',
        data: { password: Buffer.from('s3cret').toString('base64') },
      },
    });
    await waitFor('the peer with its password', () => frr.last.includes('neighbor 192.0.2.253 password s3cret'));
  });

  it('each kind of bad input: an Event and a status entry naming the field; the good session undisturbed', async () => {
    const frr = new RecordingFrr();
    const cluster = await start(frr);
    const { custom, core, coordination, metrics } = cluster;
    await establishedPeer(frr, cluster, 'good');
    const goodBefore = (await status(coordination))?.peers;
    const applies = frr.applied.length;
    const before = frr.last;

    // What the 1.29 schema can express is refused at apply time, naming the field (apiserver-bgp.test.ts).
    await expect(
      custom.createNamespacedCustomObject(
        ironlbObject('BGPPeer', NS, 'short-hold', {
          myASN: 64512,
          peerASN: 64513,
          peerAddress: '192.0.2.250',
          holdTime: '2s',
        }),
      ),
    ).rejects.toThrow(/spec\.holdTime/);
    // What it cannot (address families: CEL's ip() is 1.30+) reaches the speaker, whose parser refuses it.
    const bad: [string, Record<string, unknown>][] = [
      ['mixed', { peerAddress: '192.0.2.251', sourceAddress: '2001:db8::5' }],
      ['nobfd', { peerAddress: '192.0.2.252', bfdProfile: 'missing' }],
      ['secretless', { peerAddress: '192.0.2.253', passwordSecret: { name: 'nope' } }],
    ];
    for (const [name, spec] of bad)
      await custom.createNamespacedCustomObject(
        ironlbObject('BGPPeer', NS, name, { myASN: 64512, peerASN: 64513, ...spec }),
      );
    await waitFor('three Events', async () => (await eventsOf(core, 'InvalidBGPConfiguration')).length === 3);
    const events = (await eventsOf(core, 'InvalidBGPConfiguration'))
      .map((e) => `${e.type} ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`)
      .sort();
    expect(events).toEqual([
      'Warning BGPPeer/mixed: node node-a: left out: ' +
        'spec.sourceAddress: 2001:db8::5 is IPv6 but spec.peerAddress is IPv4',
      'Warning BGPPeer/nobfd: node node-a: left out: spec.bfdProfile: BFDProfile "missing" not found',
      'Warning BGPPeer/secretless: node node-a: left out: spec.passwordSecret: Secret "nope" not found',
    ]);
    // The current state, not only history (Events expire): the node's status and the gauge.
    await waitFor('the status lists them', async () => (await status(coordination))?.errors.length === 3);
    expect((await status(coordination))?.errors.map((e) => `${e.kind}/${e.name}`).sort()).toEqual([
      'BGPPeer/mixed',
      'BGPPeer/nobfd',
      'BGPPeer/secretless',
    ]);
    const gauge = await metrics.registry.getSingleMetric('ironlb_bgp_config_errors')?.get();
    expect(gauge?.values.map((v) => v.labels.name).sort()).toEqual(['mixed', 'nobfd', 'secretless']);
    // Undisturbed: FRR was given nothing new (so no session was touched), the good session is as it was.
    expect(frr.applied.length).toBe(applies);
    expect(frr.last).toBe(before);
    expect((await status(coordination))?.peers).toEqual(goodBefore);

    // The malformed peer fixed: it joins, its error leaves the status, the good peer's lines stay.
    const { group, version, namespace, plural } = ironlbObject('BGPPeer', NS, 'mixed', {});
    await custom.patchNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      name: 'mixed',
      body: [{ op: 'replace', path: '/spec/sourceAddress', value: '192.0.2.10' }],
    });
    await waitFor('the fixed peer', () => frr.last.includes('neighbor 192.0.2.251 update-source 192.0.2.10'));
    await waitFor('two errors left', async () => (await status(coordination))?.errors.length === 2);
    for (const line of before.split('\n').filter((l) => l.includes('192.0.2.254'))) expect(frr.last).toContain(line);
  });

  it('FRR refuses: a Warning Event on the Node, the status says failed, retried until FRR takes it', async () => {
    const frr = new RecordingFrr();
    frr.refuse = 'frr-reload.py failed (exit 1): bgpd is not running';
    const { custom, core, coordination, metrics } = await start(frr);
    await custom.createNamespacedCustomObject(
      ironlbObject('BGPPeer', NS, 'tor', { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.254' }),
    );
    await waitFor('a Warning Event', async () => (await eventsOf(core, 'FRRConfigurationFailed')).length > 0);
    const [event] = await eventsOf(core, 'FRRConfigurationFailed');
    expect(event?.involvedObject).toMatchObject({ kind: 'Node', name: NODE });
    expect(event?.message).toContain('bgpd is not running');
    await waitFor('status failed', async () => (await status(coordination))?.frr === 'failed');
    expect((await metrics.registry.getSingleMetric('ironlb_bgp_frr_config_applied')?.get())?.values[0]?.value).toBe(0);

    frr.refuse = undefined;
    await waitFor('applied after a retry', async () => (await status(coordination))?.frr === 'applied', 10_000);
    expect(frr.last).toContain('neighbor 192.0.2.254 remote-as 64513');
  });

  it('sessions read back: status Lease, metric, session-up Event; withdraw keeps the peer, drops routes', async () => {
    const frr = new RecordingFrr();
    const cluster = await start(frr);
    const { bgp, core, coordination, metrics } = cluster;
    await establishedPeer(frr, cluster, 'tor');
    expect((await status(coordination))?.peers).toEqual([
      {
        name: 'tor',
        address: '192.0.2.254',
        state: 'Established',
        established: true,
        prefixesSent: 1,
        prefixesPlanned: 1,
      },
    ]);
    await waitFor('a session-up Event', async () => (await eventsOf(core, 'BGPSessionUp')).length === 1);
    const up = await metrics.registry.getSingleMetric('ironlb_bgp_session_up')?.get();
    expect(up?.values).toEqual([{ labels: { peer: 'tor', address: '192.0.2.254' }, value: 1 }]);

    await bgp.withdraw();
    expect(frr.last).toContain('neighbor 192.0.2.254 remote-as 64513');
    expect(frr.last).not.toContain('network 203.0.113.5/32');
    expect((await status(coordination))?.withdrawn).toBe(true);
  });

  it('SIGTERM with a hung FRR: the withdrawal gives up after its bound, so the rest of the shutdown runs', async () => {
    const frr = new RecordingFrr();
    const { bgp, custom } = await start(frr);
    await custom.createNamespacedCustomObject(
      ironlbObject('BGPPeer', NS, 'tor', { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.254' }),
    );
    await waitFor('the peer', () => frr.last.includes('neighbor 192.0.2.254'));
    frr.hang = true;
    await bgp.withdraw(); // resolves: a hung FRR does not hold the speaker
    expect(frr.last).toContain('neighbor 192.0.2.254'); // nothing newer was taken
  });
});
