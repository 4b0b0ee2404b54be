// The shipped manifests applied to the API server double, which starts with no
// CRD (they come from the manifests): first by the real `kubectl apply -k`,
// then object by object with `fieldValidation=Strict`, under which the double
// decodes built-ins against their Kubernetes types and custom resources
// against their CRD's schema and CEL rules, as kube-apiserver does. Not run
// against a real server: it would install cluster-scoped objects there, and
// the double has no dryRun.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import {
  type KubeObject,
  podTemplateOf,
  renderKustomization,
  repoRoot,
  requireKubectl,
} from '../unit/deploy-manifests.js';

const install = renderKustomization('deploy');
const samples = renderKustomization('deploy/samples');

let api: ApiServer | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await api?.close();
  api = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A double serving no CRD until the manifests create them. */
async function emptyDouble(): Promise<ApiServer> {
  const noCrds = mkdtempSync(path.join(tmpdir(), 'ironlb-no-crds-'));
  dirs.push(noCrds);
  api = await startApiServer({ crdDir: noCrds });
  return api;
}

/** Runs kubectl without blocking the event loop (the double answers from this process). */
function kubectl(server: ApiServer, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const argv = [`--kubeconfig=${server.kubeconfigPath}`, ...args];
    execFile('kubectl', argv, { cwd: repoRoot, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

interface Answer {
  status: number;
  body: { message?: string; metadata?: { name?: string } };
  warnings: string | null;
}

/** POSTs one object with `fieldValidation`, finding its resource through discovery as clients do. */
async function create(server: ApiServer, object: KubeObject, fieldValidation = 'Strict'): Promise<Answer> {
  const base = server.kubeConfig.getCurrentCluster()?.server ?? '';
  const groupVersion = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  const discovery = (await (await fetch(`${base}${groupVersion}`)).json()) as {
    resources?: Array<{ name: string; kind: string; namespaced: boolean }>;
  };
  const resource = discovery.resources?.find((r) => r.kind === object.kind && !r.name.includes('/'));
  if (!resource) throw new Error(`the double serves no ${object.apiVersion} ${object.kind}`);
  const namespace = resource.namespaced ? `/namespaces/${object.metadata.namespace ?? 'default'}` : '';
  const answer = await fetch(`${base}${groupVersion}${namespace}/${resource.name}?fieldValidation=${fieldValidation}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(object),
  });
  const body = (await answer.json()) as Answer['body'];
  return { status: answer.status, body, warnings: answer.headers.get('warning') };
}

/** Creates in order, waiting for each CRD to be served before the next object. */
async function createAll(server: ApiServer, objects: readonly KubeObject[]): Promise<string[]> {
  const refused: string[] = [];
  for (const object of objects) {
    const answer = await create(server, object);
    if (answer.status !== 201 || answer.warnings !== null) {
      const why = `${answer.status} ${answer.body.message ?? ''} ${answer.warnings ?? ''}`;
      refused.push(`${object.kind}/${object.metadata.name}: ${why}`);
    }
  }
  return refused;
}

describe('the manifests on the API server double', () => {
  it('kubectl apply -k deploy/ then -k deploy/samples creates every object', async () => {
    requireKubectl();
    const server = await emptyDouble();
    // No /openapi on the double, so kubectl cannot validate on its side: the strict pass below does it server-side.
    const installed = await kubectl(server, 'apply', '--validate=false', '-k', 'deploy/');
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);
    expect(
      installed.stdout
        .trim()
        .split('\n')
        .filter((l) => l.endsWith(' created')),
    ).toHaveLength(install.length);
    const applied = await kubectl(server, 'apply', '--validate=false', '-k', 'deploy/samples');
    expect(applied.stderr).toBe('');
    expect(
      applied.stdout
        .trim()
        .split('\n')
        .filter((l) => l.endsWith(' created')),
    ).toHaveLength(samples.length);
    const pools = await kubectl(server, 'get', 'ipaddresspools', '-n', 'ironlb-system', '-o', 'name');
    expect(pools.stdout.trim().split('\n').length).toBe(samples.filter((o) => o.kind === 'IPAddressPool').length);
  });

  it('every object of the install and the samples decodes strictly: no unknown field, no wrong type', async () => {
    const server = await emptyDouble();
    expect(await createAll(server, [...install, ...samples])).toEqual([]);
  });

  it('the strict pass catches a misspelled field, a wrong type, a pruned CR field and a bad address', async () => {
    const server = await emptyDouble();
    const [namespace, ...rest] = install;
    expect(namespace?.kind).toBe('Namespace');
    const crds = rest.filter((o) => o.kind === 'CustomResourceDefinition');
    expect(await createAll(server, [namespace as KubeObject, ...crds])).toEqual([]);

    type Deployment = KubeObject & { spec: { replicas: unknown } };
    const deployment = structuredClone(install.find((o) => o.kind === 'Deployment')) as Deployment;
    const sc = podTemplateOf(deployment).spec.containers[0]?.securityContext ?? {};
    sc.readOnlyRootFileSystem = true;
    const field = 'spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem';
    expect(await create(server, deployment)).toMatchObject({
      status: 400,
      body: { message: `strict decoding error: unknown field "${field}"` },
    });
    // Without Strict (kubectl's --validate=false sends Ignore; no parameter means Warn) it is dropped with a warning.
    const warned = await create(server, deployment, 'Warn');
    expect(warned.status).toBe(201);
    expect(warned.warnings).toBe(`299 - "unknown field \\"${field}\\""`);
    deployment.metadata.name = 'ignored';
    expect(await create(server, deployment, 'Ignore')).toMatchObject({ status: 201, warnings: null });
    expect((await create(server, deployment, 'Loose')).body.message).toBe(
      'fieldValidation: Unsupported value: "Loose": supported values: "Ignore", "Strict", "Warn"',
    );
    deployment.metadata.name = 'other';
    deployment.spec.replicas = '2';
    expect((await create(server, deployment)).body.message).toMatch(
      /cannot be handled as a Deployment: .*spec\.replicas/,
    );

    type Pool = KubeObject & { spec: Record<string, unknown> };
    const pool = structuredClone(samples.find((o) => o.kind === 'IPAddressPool')) as Pool;
    pool.spec.autoassign = false;
    expect(await create(server, pool)).toMatchObject({
      status: 400,
      body: { message: 'strict decoding error: unknown field "spec.autoassign"' },
    });
    delete pool.spec.autoassign;
    pool.spec.addresses = ['192.0.2.300/24'];
    expect((await create(server, pool)).status).toBe(422);
  });
});
