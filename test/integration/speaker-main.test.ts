// The speaker program itself (dist/speaker/main.js, built by `npm test`):
// it starts against the API server double, publishes its node Lease, and on
// SIGTERM deletes it and exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { until } from './speaker-harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = path.join(root, 'dist', 'speaker', 'main.js');
const NS = 'ironlb-system';

let server: ApiServer | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  if (child?.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
  child = undefined;
  await server?.close();
  server = undefined;
});

function exited(proc: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) resolve(proc.exitCode);
    else proc.once('exit', (code) => resolve(code));
  });
}

describe('speaker program', () => {
  it('refuses to start without a node name, saying which flag is missing', async () => {
    expect(existsSync(entry), `${entry} is built by npm test`).toBe(true);
    const proc = spawn(process.execPath, [entry], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exited(proc)).toBe(2);
    expect(stderr).toMatch(/--node-name: required/);
  });

  it('publishes its node Lease, and on SIGTERM deletes it and exits 0', async () => {
    expect(existsSync(entry), `${entry} is built by npm test`).toBe(true);
    server = await startApiServer({ namespaces: [NS] });
    const leases = server.kubeConfig.makeApiClient(CoordinationV1Api);
    const names = async () => (await leases.listNamespacedLease({ namespace: NS })).items.map((l) => l.metadata?.name);
    child = spawn(
      process.execPath,
      [entry, '--node-name=node-a', `--kubeconfig=${server.kubeconfigPath}`, '--metrics-port=0', '--heartbeat-interval=200ms', '--lease-duration=1s'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } },
    );
    const proc = child;
    await until(async () => (await names()).includes('ironlb-node-node-a'), 30_000, 'the node Lease');
    const lease = await leases.readNamespacedLease({ name: 'ironlb-node-node-a', namespace: NS });
    expect(lease.spec?.holderIdentity).toBe('node-a');
    expect(lease.metadata?.annotations?.['ironlb.io/macs']).toBeDefined();
    proc.kill('SIGTERM');
    expect(await exited(proc)).toBe(0);
    expect(await names()).not.toContain('ironlb-node-node-a');
  });
});
