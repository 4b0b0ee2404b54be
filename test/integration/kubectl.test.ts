// What a user sees through the real kubectl binary against the API server
// double: `describe service` lists ironlb's events (selected by the Service's
// uid, as on a real server) and `get` prints the real servers' columns.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventRecorder, createKubeClient } from '../../src/kube/index.js';
import { ipLeaseName } from '../../src/api/leases.js';
import { SpeakerView } from '../../src/kube/speaker-view.js';
import { silentLogger } from '../../src/log/logger.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { until } from './speaker-harness.js';
import { requireKubectl } from '../unit/deploy-manifests.js';
import { ironlbObject } from '../ironlb-objects.js';

const run = promisify(execFile);
const NS = 'ironlb-system';
const APPS = 'apps';

let server: ApiServer;
let view: SpeakerView;

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', [`--kubeconfig=${server.kubeconfigPath}`, ...args]);
  return stdout;
}

/** The rows of a kubectl table as header -> cell maps (columns split on 2+ spaces). */
function rows(text: string): Record<string, string>[] {
  const [header = '', ...lines] = text.trimEnd().split('\n');
  const names = header.split(/\s{2,}/);
  return lines.map((line) => Object.fromEntries(line.split(/\s{2,}/).map((cell, i) => [names[i] ?? `#${i}`, cell])));
}

beforeAll(async () => {
  // `npm test` needs kubectl (test/setup/tools.mjs): without it this fails at once, naming what to install.
  requireKubectl();
  server = await startApiServer({ namespaces: [NS, APPS] });
  const core = server.kubeConfig.makeApiClient(CoreV1Api);
  const custom = server.kubeConfig.makeApiClient(CustomObjectsApi);
  await core.createNamespacedService({
    namespace: APPS,
    body: {
      metadata: { name: 'web' },
      spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80 }] },
    },
  });
  await core.patchNamespacedServiceStatus({
    namespace: APPS,
    name: 'web',
    body: [
      {
        op: 'add',
        path: '/status',
        value: {
          loadBalancer: {
            ingress: [
              { ip: '2001:db8::10', ipMode: 'VIP' },
              { ip: '192.0.2.10', ipMode: 'VIP' },
            ],
          },
        },
      },
    ],
  });
  await core.createNamespacedService({
    namespace: APPS,
    body: { metadata: { name: 'waiting' }, spec: { type: 'LoadBalancer', ports: [{ port: 53, protocol: 'UDP' }] } },
  });
  await server.kubeConfig.makeApiClient(CoordinationV1Api).createNamespacedLease({
    namespace: NS,
    body: { metadata: { name: ipLeaseName('192.0.2.10') }, spec: { holderIdentity: 'node-a' } },
  });
  await custom.createNamespacedCustomObject(ironlbObject('IPAddressPool', NS, 'lab', { addresses: ['192.0.2.0/28'] }));
  view = new SpeakerView({
    client: createKubeClient({ kubeConfig: server.kubeConfig }),
    namespace: NS,
    logger: silentLogger(),
    onCandidates: () => undefined,
  });
  await view.start();
});

afterAll(async () => {
  await view?.stop();
  await server?.close();
});

describe('kubectl against the double', () => {
  it('describe service lists the events that carry the Service uid (the speaker takes it from its cache)', async () => {
    await until(() => view.serviceReference(APPS, 'web').uid !== undefined, 10_000, 'the Service in the cache');
    const ref = view.serviceReference(APPS, 'web');
    expect(ref.resourceVersion).toMatch(/^\d+$/);
    const events = new EventRecorder(createKubeClient({ kubeConfig: server.kubeConfig }), {
      component: 'ironlb-speaker',
      host: 'node-a',
    });
    events.record(
      { kind: 'Service', apiVersion: 'v1', ...ref },
      'Normal',
      'Announcing',
      '192.0.2.10 announced by node-a',
    );
    // What the speaker wrote before: no uid. A real server's uid selector leaves it out too.
    events.record(
      { kind: 'Service', apiVersion: 'v1', namespace: APPS, name: 'web' },
      'Normal',
      'NoUid',
      'not listed by describe',
    );
    await events.stop();

    const text = await kubectl('describe', 'service', '-n', APPS, 'web');
    const listed = text.slice(text.indexOf('Events:'));
    expect(listed).toMatch(/Normal\s+Announcing\s+\S+\s+ironlb-speaker\s+192\.0\.2\.10 announced by node-a/);
    expect(listed).not.toContain('NoUid');
    expect(text).toMatch(/LoadBalancer Ingress:\s+2001:db8::10 \(VIP\), 192\.0\.2\.10 \(VIP\)/);
  });

  it('get svc shows TYPE, CLUSTER-IP, EXTERNAL-IP (sorted, or <pending>) and PORT(S)', async () => {
    const table = rows(await kubectl('get', 'svc', '-n', APPS));
    expect(table.map((r) => Object.keys(r))[0]).toEqual([
      'NAME',
      'TYPE',
      'CLUSTER-IP',
      'EXTERNAL-IP',
      'PORT(S)',
      'AGE',
    ]);
    const web = table.find((r) => r.NAME === 'web');
    expect(web).toMatchObject({ TYPE: 'LoadBalancer', 'EXTERNAL-IP': '192.0.2.10,2001:db8::10' });
    expect(web?.['PORT(S)']).toMatch(/^80:\d+\/TCP$/);
    expect(web?.['CLUSTER-IP']).toMatch(/^10\.96\./);
    expect(table.find((r) => r.NAME === 'waiting')).toMatchObject({ 'EXTERNAL-IP': '<pending>' });
    const wide = rows(await kubectl('get', 'svc', '-n', APPS, '-o', 'wide'));
    expect(wide.find((r) => r.NAME === 'web')?.SELECTOR).toBe('app=web');
  });

  it('get lease shows HOLDER, get events the event columns, get ipp the pool printer columns', async () => {
    expect(rows(await kubectl('get', 'lease', '-n', NS))).toEqual([
      { NAME: ipLeaseName('192.0.2.10'), HOLDER: 'node-a', AGE: expect.stringMatching(/^\d+s$/) },
    ]);
    const events = rows(await kubectl('get', 'events', '-n', APPS));
    expect(Object.keys(events[0] ?? {})).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(events.find((e) => e.REASON === 'Announcing')).toMatchObject({
      TYPE: 'Normal',
      OBJECT: 'service/web',
      MESSAGE: '192.0.2.10 announced by node-a',
    });
    const pools = await kubectl('get', 'ipp', '-n', NS);
    expect(pools.split('\n')[0]).toMatch(/^NAME\s+AUTO ASSIGN\s+ADDRESSES\s+/);
    expect(pools).toContain('["192.0.2.0/28"]');
  });
});
