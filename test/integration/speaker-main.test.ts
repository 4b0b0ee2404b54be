// The speaker program itself (dist/speaker/main.js, built by `npm test`):
// it starts against the API server double, publishes its heartbeat and member
// Leases, joins the mesh, and on SIGTERM deletes both and exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { livenessKeySecret } from '../../src/kube/liveness-key.js';
import {
  LIVENESS_ANNOTATION,
  MACS_ANNOTATION,
  memberLeaseName,
  nodeLeaseName,
  ROLE_LABEL,
} from '../../src/api/leases.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { startSilentApiServer, type SilentApiServer } from './silent-apiserver.js';
import { until } from './speaker-harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = path.join(root, 'dist', 'speaker', 'main.js');
const NS = 'ironlb-system';

let server: ApiServer | SilentApiServer | undefined;
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

/** A port of this test's own on loopback: far from 7947, so a speaker on this host cannot clash. */
const MESH_PORT = 47_947;

/** Whether binding the UDP port on 127.0.0.1 fails because something holds it. */
function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(true));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(false)));
  });
}

describe('speaker program', () => {
  it('refuses to start without a node name, saying which flag is missing', async () => {
    expect(existsSync(entry), `${entry} is built by npm test`).toBe(true);
    const proc = spawn(process.execPath, [entry], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exited(proc)).toBe(2);
    expect(stderr).toMatch(/--node-name: required/);
  });

  it('publishes heartbeat and member Leases, joins the keyed mesh; on SIGTERM deletes both and exits 0', async () => {
    expect(existsSync(entry), `${entry} is built by npm test`).toBe(true);
    server = await startApiServer({ namespaces: [NS] });
    const leases = server.kubeConfig.makeApiClient(CoordinationV1Api);
    const names = async () => (await leases.listNamespacedLease({ namespace: NS })).items.map((l) => l.metadata?.name);
    // The controller would have made it.
    await server.kubeConfig
      .makeApiClient(CoreV1Api)
      .createNamespacedSecret({ namespace: NS, body: livenessKeySecret(NS, [randomBytes(32)]) });
    child = spawn(
      process.execPath,
      [
        entry,
        '--node-name=node-a',
        `--kubeconfig=${server.kubeconfigPath}`,
        '--metrics-port=0',
        '--heartbeat-interval=200ms',
        '--lease-duration=1s',
        '--liveness-address=127.0.0.1',
        `--liveness-port=${MESH_PORT}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } },
    );
    const proc = child;
    let stdout = '';
    proc.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await until(async () => (await names()).includes(nodeLeaseName('node-a')), 30_000, 'the node Lease');
    // Synced: before that a SIGTERM exits at once without a stop (next test).
    await until(async () => stdout.includes('"msg":"speaker started"'), 30_000, 'the speaker started');
    const lease = await leases.readNamespacedLease({ name: nodeLeaseName('node-a'), namespace: NS });
    expect(lease.spec?.holderIdentity).toBe('node-a');
    expect(lease.metadata?.labels?.[ROLE_LABEL]).toBe('heartbeat');
    await until(async () => (await names()).includes(memberLeaseName('node-a')), 30_000, 'the member Lease');
    const member = await leases.readNamespacedLease({ name: memberLeaseName('node-a'), namespace: NS });
    expect(member.metadata?.labels?.[ROLE_LABEL]).toBe('member');
    expect(member.metadata?.annotations?.[MACS_ANNOTATION]).toBeDefined();
    expect(member.metadata?.annotations?.[LIVENESS_ANNOTATION]).toBe(`127.0.0.1:${MESH_PORT}`);
    // The mesh is up: its UDP port is taken (a second bind fails).
    await until(() => portTaken(MESH_PORT), 30_000, 'the mesh to open its UDP port');
    proc.kill('SIGTERM');
    expect(await exited(proc)).toBe(0);
    expect(await names()).not.toContain(nodeLeaseName('node-a'));
    expect(await names()).not.toContain(memberLeaseName('node-a'));
  });

  it('exits 0 at once on SIGTERM before it has synced (API server never answers)', async () => {
    expect(existsSync(entry), `${entry} is built by npm test`).toBe(true);
    const silent = await startSilentApiServer();
    server = silent;
    const proc = spawn(
      process.execPath,
      [entry, '--node-name=node-a', `--kubeconfig=${silent.kubeconfigPath}`, '--metrics-port=0', '--liveness-port=0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LOG_LEVEL: 'info' },
      },
    );
    child = proc;
    let output = '';
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await silent.connected;
    proc.kill('SIGTERM');
    expect(await exited(proc), output).toBe(0);
    expect(output).toContain('"signal":"SIGTERM"');
    expect(output).toContain('stopping before sync');
    expect(output).not.toContain('speaker started');
  });
});
