// `kubectl ironlb` against the API server double: the real controller fills
// pool status, Service conditions and events; the speakers' Leases are
// written as speakers write them. The plugin reads through src/kube and the
// real kubeconfig resolution.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ApiextensionsV1Api, CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONFLICT_ANNOTATION,
  IP_ANNOTATION,
  ipLeaseName,
  MACS_ANNOTATION,
  memberLeaseName,
  nodeLeaseName,
} from '../../src/api/leases.js';
import { toMicroTime } from '../../src/kube/resources.js';
import { connectPluginCluster } from '../../src/kube/plugin-cluster.js';
import { runPlugin } from '../../src/plugin/run.js';
import type { NodeRow } from '../../src/plugin/nodes.js';
import type { PoolsView } from '../../src/plugin/pools.js';
import type { ServiceStatus } from '../../src/plugin/status.js';
import { ironlbObject } from '../ironlb-objects.js';
import {
  condition,
  createPool,
  createService,
  eventually,
  getPool,
  getService,
  setup,
  type Env,
} from './controller-harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = path.join(root, 'test', 'unit', 'plugin', 'fixtures', 'metallb');
const entry = path.join(root, 'dist', 'plugin', 'main.js');
// The plugin's clock: Leases are stamped relative to it, so liveness does not depend on how long the test takes.
const NOW = Date.parse('2026-11-29T12:00:00Z');

let env: Env;
let configDir: string;

async function plugin(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runPlugin(
    [...argv, `--kubeconfig=${env.api!.kubeconfigPath}`, `--ironlb-namespace=${env.system}`],
    {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      readFile: async (p) => (await import('node:fs/promises')).readFile(p, 'utf8'),
      connect: connectPluginCluster,
      now: () => NOW,
    },
  );
  return { code, stdout, stderr };
}

async function speakerLease(
  name: string,
  holder: string,
  renewedAgoMs: number,
  durationSeconds: number,
  annotations: Record<string, string>,
): Promise<void> {
  await env.kubeConfig.makeApiClient(CoordinationV1Api).createNamespacedLease({
    namespace: env.system,
    body: {
      metadata: { name, annotations },
      spec: {
        holderIdentity: holder,
        leaseDurationSeconds: durationSeconds,
        renewTime: toMicroTime(new Date(NOW - renewedAgoMs)) as unknown as Date,
      },
    },
  });
}

beforeAll(async () => {
  env = await setup('double');
  configDir = mkdtempSync(path.join(tmpdir(), 'ironlb-plugin-test-'));
  for (const [name, labels] of Object.entries({
    'node-a': { zone: 'a' },
    'node-b': { zone: 'a' },
    'node-c': { zone: 'b' },
  })) {
    await env.core.createNode({ body: { metadata: { name, labels } } });
  }
  await createPool(env, 'lab', ['192.0.2.200-192.0.2.201']);
  await env.custom.createNamespacedCustomObject(
    ironlbObject('L2Advertisement', env.system, 'zone-a', {
      ipAddressPools: ['lab'],
      nodeSelectors: [{ matchLabels: { zone: 'a' } }],
    }),
  );
  await env.startController();
  for (const name of ['web', 'db']) {
    await createService(env, name);
    await eventually(async () =>
      expect(condition(await getService(env, name), 'ironlb.io/Allocated')?.status).toBe('True'),
    );
  }
  await createService(env, 'late');
  await eventually(async () =>
    expect(condition(await getService(env, 'late'), 'ironlb.io/Allocated')?.reason).toBe('PoolExhausted'),
  );
  await eventually(async () => expect((await getPool(env, 'lab')).status?.assignedIPv4).toBe('2'));
  const webIp = (await getService(env, 'web')).status?.loadBalancer?.ingress?.[0]?.ip ?? '';
  const dbIp = (await getService(env, 'db')).status?.loadBalancer?.ingress?.[0]?.ip ?? '';
  // node-a renewed 1 s ago (3 s lease), node-b 4 s ago (3 s lease: expired), node-c 5 s ago with a 10 s lease: live.
  // Heartbeats say who is live; member Leases say which MACs each speaker publishes.
  await speakerLease(nodeLeaseName('node-a'), 'node-a', 1000, 3, {});
  await speakerLease(nodeLeaseName('node-b'), 'node-b', 4000, 3, {});
  await speakerLease(nodeLeaseName('node-c'), 'node-c', 5000, 10, {});
  await speakerLease(memberLeaseName('node-a'), 'node-a', 60_000, 3, { [MACS_ANNOTATION]: 'eth0=02:00:5e:00:53:0a' });
  await speakerLease(memberLeaseName('node-b'), 'node-b', 60_000, 3, {
    [MACS_ANNOTATION]: 'eth0=02:00:5e:00:53:0b,eth1=02:00:5e:00:53:1b',
  });
  await speakerLease(memberLeaseName('node-c'), 'node-c', 60_000, 3, { [MACS_ANNOTATION]: 'eth0=02:00:5e:00:53:0c' });
  await speakerLease(ipLeaseName(webIp), 'node-a', 30_000, 3, { [IP_ANNOTATION]: webIp });
  await speakerLease(ipLeaseName(dbIp), 'node-b', 30_000, 3, {
    [IP_ANNOTATION]: dbIp,
    [CONFLICT_ANNOTATION]: '02:00:5e:00:53:99: answered ARP',
  });
});

afterAll(async () => {
  await env?.close();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

describe('kubectl ironlb against the API server double', () => {
  it('status: per Service its IPs, pool, announcing node and MAC, conditions with reasons, last events', async () => {
    const { code, stdout } = await plugin('status', '-n', env.apps, '-o', 'json');
    expect(code).toBe(0);
    const services = JSON.parse(stdout) as ServiceStatus[];
    expect(services.map((s) => s.name)).toEqual(['db', 'late', 'web']);
    const web = services.find((s) => s.name === 'web')!;
    expect(web.pool).toBe('lab');
    expect(web.ips).toEqual([
      {
        ip: expect.stringMatching(/^192\.0\.2\.20[01]$/),
        node: 'node-a',
        macs: ['eth0=02:00:5e:00:53:0a'],
        holderLive: true,
      },
    ]);
    expect(web.events.map((e) => e.reason)).toContain('IPAllocated');
    const db = services.find((s) => s.name === 'db')!;
    expect(db.ips[0]).toMatchObject({
      node: 'node-b',
      holderLive: false,
      conflict: '02:00:5e:00:53:99: answered ARP',
      macs: ['eth0=02:00:5e:00:53:0b', 'eth1=02:00:5e:00:53:1b'],
    });
    const late = services.find((s) => s.name === 'late')!;
    expect(late.ips).toEqual([]);
    expect(late.conditions.find((c) => c.type === 'ironlb.io/Allocated')).toMatchObject({
      status: 'False',
      reason: 'PoolExhausted',
    });
    expect(late.events[0]).toMatchObject({
      type: 'Warning',
      reason: 'AllocationFailed',
      from: expect.stringContaining('ironlb-controller'),
    });
  });

  it('status as a table names the pending reason, and SERVICE gives conditions and events', async () => {
    const all = await plugin('status', '-n', env.apps);
    expect(all.stdout.split('\n')[0]).toMatch(/^NAMESPACE\s+SERVICE\s+POOL\s+IP\s+NODE\s+MAC\s+ALLOCATED\s+ANNOUNCED$/);
    expect(all.stdout).toMatch(/late\s+<none>\s+<pending>\s+<none>\s+<none>\s+False \(PoolExhausted\)/);
    expect(all.stdout).toContain('node-b (not live)');
    expect(all.stdout).toMatch(/ironlb\.io\/Allocated=False PoolExhausted: /);
    const one = await plugin('status', '-n', env.apps, 'web');
    const lastEvent =
      String.raw`Last events:\n\s+\S+ ago {2}Normal {2}IPAllocated {2}` +
      String.raw`assigned 192\.0\.2\.20[01] from pool lab {2}\(ironlb-controller`;
    expect(one.stdout).toMatch(new RegExp(lastEvent));
    const missing = await plugin('status', '-n', env.apps, 'nope');
    expect(missing).toMatchObject({ code: 1, stderr: `error: service "nope" not found in namespace "${env.apps}"\n` });
  });

  it('pools: addresses, used/free per family, Valid/Conflict, covering advertisements and nodes', async () => {
    const { code, stdout } = await plugin('pools', '-o', 'json');
    expect(code).toBe(0);
    const view = JSON.parse(stdout) as PoolsView;
    expect(view.pools).toEqual([
      {
        name: 'lab',
        addresses: ['192.0.2.200-192.0.2.201'],
        ipv4: { used: '2', free: '0' },
        ipv6: { used: '0', free: '0' },
        valid: 'True',
        conflict: 'False',
        problems: [],
        advertisements: ['zone-a'],
        nodes: ['node-a', 'node-b'],
      },
    ]);
    const table = await plugin('pools');
    const [header, row, ...rest] = table.stdout.split('\n');
    expect(header).toMatch(
      /^POOL\s+ADDRESSES\s+IPV4 USED\/FREE\s+IPV6 USED\/FREE\s+VALID\s+CONFLICT\s+ADVERTISEMENTS\s+NODES$/,
    );
    expect(row).toMatch(/^lab\s+192\.0\.2\.200-192\.0\.2\.201\s+2\/0\s+0\/0\s+True\s+False\s+zone-a\s+node-a,node-b$/);
    expect(rest).toEqual(['']);
  });

  it("nodes: live from each Lease's own renewTime + leaseDurationSeconds, IPs held, interfaces", async () => {
    const { stdout } = await plugin('nodes', '-o', 'json');
    const rows = JSON.parse(stdout) as NodeRow[];
    expect(
      rows.map((r) => [r.node, r.live, r.leaseDurationSeconds, r.ips.length, r.interfaces.map((i) => i.ifname)]),
    ).toEqual([
      ['node-a', true, 3, 1, ['eth0']],
      ['node-b', false, 3, 1, ['eth0', 'eth1']],
      ['node-c', true, 10, 0, ['eth0']],
    ]);
    const table = await plugin('nodes');
    const [header, first] = table.stdout.split('\n');
    expect(header).toMatch(/^NODE\s+LIVE\s+RENEWED\s+LEASE\s+IPS\s+INTERFACES$/);
    expect(first).toMatch(/^node-a\s+yes\s+1s ago\s+3s\s+192\.0\.2\.20[01]\s+eth0=02:00:5e:00:53:0a$/);
  });

  it('migrate -f creates the converted MetalLB samples (the CRD schema takes them); a rerun leaves them', async () => {
    const file = path.join(fixtures, 'simple_pool_adv_l2.yaml');
    let nowhereErr = '';
    const first = await plugin('migrate', '-f', file);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`IPAddressPool ${env.system}/example: created`);
    expect(first.stderr).toContain(`L2Advertisement ${env.system}/empty: created`);
    const pool = (await env.custom.getNamespacedCustomObject({
      group: 'ironlb.io',
      version: 'v1beta1',
      namespace: env.system,
      plural: 'ipaddresspools',
      name: 'example',
    })) as { spec: { addresses: string[]; autoAssign: boolean } };
    expect(pool.spec).toEqual({
      addresses: ['192.168.10.0/24', '192.168.9.1-192.168.9.5', 'fc00:f853:0ccd:e799::/124'],
      autoAssign: true,
      avoidBuggyIPs: false,
    });
    const again = await plugin('migrate', '-f', file);
    expect(again.stderr).toContain(`IPAddressPool ${env.system}/example: already exists, left unchanged`);
    const nowhere = await runPlugin(
      ['migrate', '-f', file, `--kubeconfig=${env.api!.kubeconfigPath}`, '--ironlb-namespace=no-such-ns'],
      {
        stdout: () => undefined,
        stderr: (t) => (nowhereErr += t),
        readFile: async (p) => (await import('node:fs/promises')).readFile(p, 'utf8'),
        connect: connectPluginCluster,
        now: () => NOW,
      },
    );
    expect(nowhere).toBe(1);
    expect(nowhereErr).toContain("IPAddressPool no-such-ns/example: the namespace or ironlb's CRDs are missing");
  });

  it('migrate -f creates the converted MetalLB BGP objects: the CRD schemas and CEL rules take them', async () => {
    const bgp = path.join(root, 'test', 'unit', 'plugin', 'fixtures', 'bgp');
    const { code, stderr } = await plugin(
      'migrate',
      '-f',
      path.join(bgp, 'samples.yaml'),
      '-f',
      path.join(bgp, 'v1beta1.yaml'),
    );
    expect(stderr).not.toMatch(/\berror\b/);
    expect(code).toBe(0);
    const names = async (plural: string) =>
      (
        (await env.custom.listNamespacedCustomObject({
          group: 'ironlb.io',
          version: 'v1beta1',
          namespace: env.system,
          plural,
        })) as { items: { metadata: { name: string } }[] }
      ).items
        .map((o) => o.metadata.name)
        .sort();
    expect(await names('bgppeers')).toEqual(['edge', 'tor-bfd', 'tor-connect', 'tor-secret', 'tor-simple', 'tor-v6']);
    expect(await names('bgpadvertisements')).toEqual([
      'aliased',
      'by-label',
      'by-list',
      'everything',
      'some-nodes',
      'tagged',
    ]);
    expect(await names('bfdprofiles')).toEqual(['quick']);
    expect(await names('communities')).toEqual(['well-known']);
    expect(stderr).toContain(`BGPPeer ${env.system}/tor-secret: created`);
    expect(stderr).toMatch(/copy the Secret metallb-system\/tor-md5/);
  });

  it("migrate --from-cluster reads MetalLB's objects; --dry-run writes nothing", async () => {
    // client-node's typed body: the schema flag is spelled as its TypeScript property.
    const crd = (plural: string, kind: string, version: string) => ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.metallb.io` },
      spec: {
        group: 'metallb.io',
        scope: 'Namespaced',
        names: { plural, kind, singular: kind.toLowerCase(), listKind: `${kind}List` },
        versions: [
          {
            name: version,
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
          },
        ],
      },
    });
    const crds = env.kubeConfig.makeApiClient(ApiextensionsV1Api);
    await crds.createCustomResourceDefinition({ body: crd('ipaddresspools', 'IPAddressPool', 'v1beta1') });
    await crds.createCustomResourceDefinition({ body: crd('l2advertisements', 'L2Advertisement', 'v1beta1') });
    await crds.createCustomResourceDefinition({ body: crd('bgppeers', 'BGPPeer', 'v1beta2') });
    await env.core.createNamespace({ body: { metadata: { name: 'metallb-system' } } });
    await env.custom.createNamespacedCustomObject({
      group: 'metallb.io',
      version: 'v1beta2',
      namespace: 'metallb-system',
      plural: 'bgppeers',
      body: {
        apiVersion: 'metallb.io/v1beta2',
        kind: 'BGPPeer',
        metadata: { name: 'tor' },
        spec: { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.254', passwordSecret: { name: 'tor-md5' } },
      },
    });
    await env.custom.createNamespacedCustomObject({
      group: 'metallb.io',
      version: 'v1beta1',
      namespace: 'metallb-system',
      plural: 'ipaddresspools',
      body: {
        apiVersion: 'metallb.io/v1beta1',
        kind: 'IPAddressPool',
        metadata: { name: 'old' },
        spec: { addresses: ['203.0.113.9/29'] },
      },
    });
    const { code, stdout, stderr } = await plugin('migrate', '--from-cluster', '--dry-run');
    expect(stderr).not.toContain('error');
    expect(code).toBe(0);
    expect(stdout).toContain('name: old');
    expect(stdout).toContain('- 203.0.113.8/29');
    // BGP kinds are read too (BGPPeer at MetalLB's storage version v1beta2); the Secret is named, not read.
    expect(stdout).toMatch(/kind: BGPPeer\nmetadata:\n {2}name: tor\n {2}namespace: /);
    expect(stderr).toContain('copy the Secret metallb-system/tor-md5');
    expect(stderr).toMatch(
      /IPAddressPool metallb-system\/old\s+spec\.addresses\[0\]\s+changed\s+203\.0\.113\.9\/29 -> 203\.0\.113\.8\/29/,
    );
    const pools = (await env.custom.listNamespacedCustomObject({
      group: 'ironlb.io',
      version: 'v1beta1',
      namespace: env.system,
      plural: 'ipaddresspools',
    })) as { items: { metadata: { name: string } }[] };
    expect(pools.items.map((p) => p.metadata.name)).not.toContain('old');
  });

  it("the installed entry finds the cluster via $KUBECONFIG and the context's namespace, like kubectl", async () => {
    expect(existsSync(entry), `${entry} is built by npm test`).toBe(true);
    const kc = new KubeConfig();
    kc.loadFromFile(env.api!.kubeconfigPath);
    const context = kc.getContextObject(kc.getCurrentContext())!;
    const withNamespace = {
      ...kc,
      contexts: kc.contexts.map((c) => (c.name === context.name ? { ...c, namespace: env.apps } : c)),
    };
    const file = path.join(configDir, 'kubeconfig');
    const copy = new KubeConfig();
    copy.loadFromOptions(withNamespace);
    writeFileSync(file, copy.exportConfig());
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [entry, 'status', `--ironlb-namespace=${env.system}`],
      { env: { PATH: process.env.PATH ?? '', KUBECONFIG: file, HOME: configDir } },
    );
    expect(stdout).toMatch(/\nNAMESPACE|^NAMESPACE/);
    expect(stdout).toContain(`${env.apps}   web`);
    const bad = await promisify(execFile)(process.execPath, [entry, 'nodes', '-n', 'x'], {
      env: { PATH: process.env.PATH ?? '' },
    }).catch((err: { code: number; stderr: string }) => err);
    expect(bad).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('nodes: -n/-A select Services and apply to status only'),
    });
  });
});
