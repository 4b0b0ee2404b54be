import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export interface LoadKubeConfigOptions {
  /** An explicit kubeconfig path (the --kubeconfig flag). */
  kubeconfig?: string;
  /** Injectable for tests; default process.env. */
  env?: Record<string, string | undefined>;
  /** Injectable for tests; default os.homedir(). */
  homeDir?: string;
  /** Prefix before /var/run/secrets/kubernetes.io/serviceaccount; injectable for tests. */
  rootDir?: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Finds the API server like kubectl and client-go do, in this order: the
 * explicit path, $KUBECONFIG (':'-separated, merged), the in-cluster service
 * account, ~/.kube/config. Unlike client-node's loadFromDefault it never falls
 * back to http://localhost:8080: if nothing is found, the error lists what was tried.
 */
export function loadKubeConfig(options: LoadKubeConfigOptions = {}): KubeConfig {
  const env = options.env ?? process.env;
  const tried: string[] = [];
  const kubeConfig = new KubeConfig();

  if (options.kubeconfig) {
    if (!fs.existsSync(options.kubeconfig))
      throw new Error(`kubeconfig ${options.kubeconfig} (given explicitly) does not exist`);
    loadFile(kubeConfig, options.kubeconfig);
    return checked(kubeConfig, `kubeconfig ${options.kubeconfig}`);
  }
  tried.push('no --kubeconfig given');

  const fromEnv = (env.KUBECONFIG ?? '').split(path.delimiter).filter((file) => file.length > 0);
  const existing = fromEnv.filter((file) => fs.existsSync(file));
  if (existing.length > 0) {
    const [first, ...rest] = existing;
    loadFile(kubeConfig, first!);
    for (const file of rest) {
      const other = new KubeConfig();
      loadFile(other, file);
      kubeConfig.mergeConfig(other, true);
    }
    return checked(kubeConfig, `$KUBECONFIG ${existing.join(path.delimiter)}`);
  }
  tried.push(fromEnv.length > 0 ? `$KUBECONFIG=${env.KUBECONFIG} (no such file)` : '$KUBECONFIG not set');

  const rootDir = options.rootDir ?? '';
  const tokenFile = `${rootDir}${SERVICE_ACCOUNT_DIR}/token`;
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && fs.existsSync(tokenFile)) {
    withEnv(env, () => kubeConfig.loadFromCluster(rootDir));
    return checked(kubeConfig, 'in-cluster service account');
  }
  tried.push(
    env.KUBERNETES_SERVICE_HOST
      ? `in-cluster (KUBERNETES_SERVICE_HOST set, but ${tokenFile} missing or KUBERNETES_SERVICE_PORT unset)`
      : 'in-cluster (KUBERNETES_SERVICE_HOST not set)',
  );

  const home = options.homeDir ?? os.homedir();
  const defaultFile = path.join(home, '.kube', 'config');
  if (fs.existsSync(defaultFile)) {
    loadFile(kubeConfig, defaultFile);
    return checked(kubeConfig, `kubeconfig ${defaultFile}`);
  }
  tried.push(`${defaultFile} (no such file)`);

  throw new Error(`no Kubernetes API server configured; tried: ${tried.join('; ')}`);
}

/** A KubeConfig for a plain-HTTP server with no auth (the API server double, the lab). */
export function kubeConfigForServer(server: string): KubeConfig {
  const url = new URL(server);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`API server URL must be http(s), got ${server}`);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'ironlb', server: server.replace(/\/+$/, ''), skipTLSVerify: true }],
    users: [{ name: 'ironlb' }],
    contexts: [{ name: 'ironlb', cluster: 'ironlb', user: 'ironlb' }],
    currentContext: 'ironlb',
  });
  return kubeConfig;
}

/** One line for the startup log: which server, which context. */
export function describeKubeConfig(kubeConfig: KubeConfig): string {
  return (
    `server ${kubeConfig.getCurrentCluster()?.server ?? '(none)'} context ` +
    `${kubeConfig.getCurrentContext() || '(none)'}`
  );
}

function loadFile(kubeConfig: KubeConfig, file: string): void {
  try {
    kubeConfig.loadFromFile(file);
  } catch (err) {
    throw new Error(`kubeconfig ${file} could not be read: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function checked(kubeConfig: KubeConfig, source: string): KubeConfig {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster)
    throw new Error(
      `${source}: no current cluster (current-context ${JSON.stringify(kubeConfig.getCurrentContext())} names no ` +
        `known context/cluster)`,
    );
  if (!cluster.server) throw new Error(`${source}: cluster ${cluster.name} has no server URL`);
  return kubeConfig;
}

// loadFromCluster reads KUBERNETES_SERVICE_HOST/PORT from process.env.
function withEnv(env: Record<string, string | undefined>, fn: () => void): void {
  if (env === process.env) {
    fn();
    return;
  }
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  process.env.KUBERNETES_SERVICE_HOST = env.KUBERNETES_SERVICE_HOST;
  process.env.KUBERNETES_SERVICE_PORT = env.KUBERNETES_SERVICE_PORT;
  try {
    fn();
  } finally {
    restore('KUBERNETES_SERVICE_HOST', saved.host);
    restore('KUBERNETES_SERVICE_PORT', saved.port);
  }
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
