import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKubeClient, describeKubeConfig, kubeConfigForServer, loadKubeConfig } from '../../src/kube/index.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';

// Where the programs find their API server: --kubeconfig, $KUBECONFIG,
// in-cluster, ~/.kube/config — and a clear error naming all four when none works.

function kubeconfigText(server: string, context = 'lab'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${context}`,
    'clusters:',
    '- name: lab',
    `  cluster: { server: "${server}", insecure-skip-tls-verify: true }`,
    'contexts:',
    '- name: lab',
    '  context: { cluster: lab, user: lab }',
    'users:',
    '- name: lab',
    '  user: {}',
    '',
  ].join('\n');
}

describe('loadKubeConfig', () => {
  let dir: string;
  let home: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ironlb-kubeconfig-'));
    home = path.join(dir, 'home');
    fs.mkdirSync(home);
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, server: string, context?: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, kubeconfigText(server, context));
    return file;
  };

  it('uses an explicit path first', () => {
    const explicit = write('explicit', 'https://explicit.example:6443');
    write('env', 'https://env.example:6443');
    const kc = loadKubeConfig({ kubeconfig: explicit, env: { KUBECONFIG: path.join(dir, 'env') }, homeDir: home });
    expect(kc.getCurrentCluster()?.server).toBe('https://explicit.example:6443');
    expect(describeKubeConfig(kc)).toBe('server https://explicit.example:6443 context lab');
  });

  it('fails for an explicit path that does not exist, without falling back', () => {
    write('env', 'https://env.example:6443');
    const missing = path.join(dir, 'missing');
    expect(() =>
      loadKubeConfig({ kubeconfig: missing, env: { KUBECONFIG: path.join(dir, 'env') }, homeDir: home }),
    ).toThrow(`kubeconfig ${missing} (given explicitly) does not exist`);
  });

  it('then $KUBECONFIG, skipping entries that do not exist', () => {
    const file = write('env', 'https://env.example:6443');
    const kc = loadKubeConfig({
      env: { KUBECONFIG: [path.join(dir, 'nope'), file].join(path.delimiter) },
      homeDir: home,
    });
    expect(kc.getCurrentCluster()?.server).toBe('https://env.example:6443');
  });

  it('then the in-cluster service account', () => {
    const saDir = path.join(dir, 'var/run/secrets/kubernetes.io/serviceaccount');
    fs.mkdirSync(saDir, { recursive: true });
    fs.writeFileSync(path.join(saDir, 'token'), 'token');
    fs.writeFileSync(path.join(saDir, 'ca.crt'), '');
    fs.writeFileSync(path.join(saDir, 'namespace'), 'ironlb-system');
    const kc = loadKubeConfig({
      env: { KUBERNETES_SERVICE_HOST: '2001:db8::1', KUBERNETES_SERVICE_PORT: '443' },
      homeDir: home,
      rootDir: dir,
    });
    expect(kc.getCurrentCluster()?.server).toBe('https://[2001:db8::1]:443');
  });

  it('then ~/.kube/config', () => {
    fs.mkdirSync(path.join(home, '.kube'));
    fs.writeFileSync(path.join(home, '.kube', 'config'), kubeconfigText('https://home.example:6443'));
    const kc = loadKubeConfig({ env: {}, homeDir: home, rootDir: dir });
    expect(kc.getCurrentCluster()?.server).toBe('https://home.example:6443');
  });

  it('names everything it tried when nothing is configured (never localhost:8080)', () => {
    const env = { KUBECONFIG: path.join(dir, 'nope') };
    const tried = [
      'no Kubernetes API server configured; tried: no --kubeconfig given; ',
      String.raw`\$KUBECONFIG=.*nope \(no such file\); in-cluster \(KUBERNETES_SERVICE_HOST not set\); `,
      String.raw`.*\.kube\/config \(no such file\)`,
    ];
    expect(() => loadKubeConfig({ env, homeDir: home, rootDir: dir })).toThrow(new RegExp(tried.join('')));
  });

  it('reports an in-cluster environment without a token', () => {
    expect(() =>
      loadKubeConfig({
        env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
        homeDir: home,
        rootDir: dir,
      }),
    ).toThrow(/in-cluster \(KUBERNETES_SERVICE_HOST set, but .*token missing/);
  });

  it('rejects a kubeconfig whose current-context names nothing', () => {
    const file = write('broken', 'https://x.example', 'no-such-context');
    expect(() => loadKubeConfig({ kubeconfig: file })).toThrow(
      /no current cluster \(current-context "no-such-context"/,
    );
  });

  it('rejects a file that is not a kubeconfig', () => {
    const file = path.join(dir, 'garbage');
    fs.writeFileSync(file, ': : not yaml [');
    expect(() => loadKubeConfig({ kubeconfig: file })).toThrow(new RegExp(`kubeconfig ${file} could not be read`));
  });
});

describe('kubeConfigForServer', () => {
  let server: ApiServer;

  beforeEach(async () => {
    server = await startApiServer();
  });

  afterEach(async () => {
    await server.close();
  });

  it('reaches a plain-HTTP API server', async () => {
    const client = createKubeClient({ kubeConfig: kubeConfigForServer(server.url) });
    const namespaces = await client.core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain('default');
  });

  it('rejects a URL that is not http(s)', () => {
    expect(() => kubeConfigForServer('ftp://example')).toThrow(/must be http\(s\)/);
    expect(() => kubeConfigForServer('not a url')).toThrow();
  });
});
