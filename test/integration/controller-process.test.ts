import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CoordinationV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startSilentApiServer, type SilentApiServer } from './silent-apiserver.js';
import {
  changedIPs,
  createPool,
  createService,
  createServices,
  eventually,
  getService,
  ips,
  patchPool,
  patchService,
  setup,
  waitAllAssigned,
  waitForIPs,
  type Env,
} from './controller-harness.js';

// The built program (npm test builds first), flags and signals included.
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'controller', 'main.js');

let env: Env | undefined;
let silent: SilentApiServer | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
  await env?.close();
  env = undefined;
  await silent?.close();
  silent = undefined;
});

function run(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const proc = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  proc.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { child: proc, output: () => text, exited };
}

describe('controller program (dist/controller/main.js, double)', { timeout: 120_000 }, () => {
  it('allocates with its flags, and on SIGTERM releases the leader Lease and exits 0', async () => {
    env = await setup('double');
    await createPool(env, 'main', ['192.0.2.200/30']);
    await createService(env, 'web');
    const p = run([
      '--kubeconfig',
      env.api!.kubeconfigPath,
      '--namespace',
      env.system,
      '--metrics-port',
      '0',
      '--identity',
      'proc-1',
      '--leader-lease-duration',
      '3s',
      '--leader-renew-deadline',
      '2s',
      '--leader-retry-period',
      '500ms',
    ]);
    child = p.child;
    expect(await waitForIPs(env, 'web', 1, 30_000)).toEqual(['192.0.2.200']);
    const leases = env.kubeConfig.makeApiClient(CoordinationV1Api);
    const held = await leases.readNamespacedLease({ namespace: env.system, name: 'ironlb-controller' });
    expect(held.spec?.holderIdentity).toBe('proc-1');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const released = await leases.readNamespacedLease({ namespace: env.system, name: 'ironlb-controller' });
    expect(released.spec?.holderIdentity ?? '').toBe('');
    expect(p.output()).toContain('"msg":"controller started"');
  });

  it('exits 0 at once on SIGTERM before it has synced (API server never answers)', async () => {
    silent = await startSilentApiServer();
    const p = run(['--kubeconfig', silent.kubeconfigPath, '--metrics-port', '0', '--identity', 'unsynced']);
    child = p.child;
    await silent.connected;
    p.child.kill('SIGTERM');
    expect(await p.exited, p.output()).toBe(0);
    expect(p.output()).toContain('"signal":"SIGTERM"');
    expect(p.output()).toContain('stopping before sync');
  });

  it('fails over to the standby when the leader process is killed with SIGKILL, changing no IP', async () => {
    env = await setup('double');
    await createPool(env, 'main', ['192.0.2.192/27']);
    const p = run([
      '--kubeconfig',
      env.api!.kubeconfigPath,
      '--namespace',
      env.system,
      '--metrics-port',
      '0',
      '--identity',
      'crashing',
      '--leader-lease-duration',
      '2s',
      '--leader-renew-deadline',
      '1500ms',
      '--leader-retry-period',
      '250ms',
    ]);
    child = p.child;
    const leases = env.kubeConfig.makeApiClient(CoordinationV1Api);
    await eventually(async () => {
      const lease = await leases.readNamespacedLease({ namespace: env!.system, name: 'ironlb-controller' });
      expect(lease.spec?.holderIdentity).toBe('crashing');
    }, 30_000);
    const standby = await env.startController({
      leaderElect: true,
      identity: 'standby',
      leaseDurationMs: 2000,
      renewDeadlineMs: 1500,
      retryPeriodMs: 250,
    });
    await createServices(env, 'svc', 8);
    const before = await waitAllAssigned(env, 8, 30_000);
    expect(standby.isLeader()).toBe(false);

    p.child.kill('SIGKILL');
    await p.exited;
    await eventually(() => expect(standby.isLeader()).toBe(true), 30_000);
    await createServices(env, 'after', 2);
    const after = await waitAllAssigned(env, 10, 30_000);
    expect(changedIPs(before, after)).toEqual([]);
    expect(new Set([...after.values()].map((v) => v[0])).size).toBe(10);
  });

  it('after a restart of the process, fixes what no longer fits and keeps every IP that does', async () => {
    env = await setup('double');
    await createPool(env, 'general', ['192.0.2.0/28', '2001:db8::/120']);
    await createPool(env, 'team', ['198.51.100.0/28'], { serviceAllocation: { priority: 1, namespaces: [env.apps] } });
    const flags = [
      '--kubeconfig',
      env.api!.kubeconfigPath,
      '--namespace',
      env.system,
      '--metrics-port',
      '0',
      '--leader-elect=false',
    ];
    const first = run(flags);
    child = first.child;
    await createService(env, 'kept', { spec: { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] } });
    await createService(env, 'pinned', { spec: { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] } });
    await createService(env, 'was-dual', {
      spec: { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] },
    });
    await createService(env, 'wrong-family', { spec: { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] } });
    const kept = await waitForIPs(env, 'kept', 1, 30_000);
    expect(await waitForIPs(env, 'pinned', 1, 30_000)).toEqual(['198.51.100.0']);
    const wasDual = await waitForIPs(env, 'was-dual', 2, 30_000);
    await waitForIPs(env, 'wrong-family', 1, 30_000);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    await patchService(env, 'was-dual', { spec: { ipFamilyPolicy: 'SingleStack' } });
    await env.core.patchNamespacedServiceStatus(
      {
        namespace: env.apps,
        name: 'wrong-family',
        body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.14' }] } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await patchPool(env, 'team', { serviceAllocation: { priority: 1, namespaces: ['elsewhere'] } });

    const second = run(flags);
    child = second.child;
    await eventually(
      async () => expect(ips(await getService(env!, 'pinned'))).toEqual([expect.stringMatching(/^192\.0\.2\./)]),
      30_000,
    );
    await eventually(async () => expect(ips(await getService(env!, 'was-dual'))).toEqual([wasDual[0]]), 30_000);
    await eventually(
      async () => expect(ips(await getService(env!, 'wrong-family'))).toEqual([expect.stringMatching(/^2001:db8::/)]),
      30_000,
    );
    expect(ips(await getService(env, 'kept'))).toEqual(kept);
    expect(second.output()).toContain('could not keep the IP in status');
  });

  it('refuses a bad flag with exit code 2 and the flag named', async () => {
    const p = run(['--metrics-port', 'eighty']);
    child = p.child;
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain('--metrics-port: expected a port 0..65535');
  });

  it('says which kubeconfig is missing and exits 1', async () => {
    const p = run(['--kubeconfig', 'no-such-kubeconfig.yaml']);
    child = p.child;
    expect(await p.exited).toBe(1);
    await eventually(() => expect(p.output()).toContain('no-such-kubeconfig.yaml'));
  });
});
