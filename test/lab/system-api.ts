// How the programs inside the lab reach the API server (see startApiNamespace).
import { KubeConfig } from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { HOST_IPV4, HOST_IPV6, run, type Lab } from './lab.js';

// This machine's root namespace may itself sit in 192.0.2.0/24 (its gateway
// can be 192.0.2.1), so the lab never joins the root namespace. Instead an
// "api" namespace on the lab bridge holds 192.0.2.1 and a tiny relay process
// that forwards each TCP connection to a Unix socket; this process serves the
// socket by connecting to the real address of the API server. Unix socket
// paths are not namespaced, which is what lets the two meet.
export const API_PORT = 6443;
const RELAY_SCRIPT = `
const net = require('node:net');
const [sock, host, port] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(sock);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
  c.pipe(u).pipe(c);
}).listen(Number(port), host, () => console.log('relay ready'));
`;

export interface Relay {
  close(): Promise<void>;
}

export async function serveSocket(socketPath: string, targetHost: string, targetPort: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(targetPort, targetHost);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The api namespace on the lab bridge: 192.0.2.1 / 2001:db8::1 with the relay listening on API_PORT. */
export async function startApiNamespace(lab: Lab, socketPath: string): Promise<string> {
  const ns = `${lab.prefix}-api`;
  await run('ip', ['netns', 'add', ns]);
  await run('ip', ['link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', 'api', 'netns', lab.lan]);
  await run('ip', ['-n', lab.lan, 'link', 'set', 'api', 'master', 'br0', 'up']);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', ns, 'addr', 'add', `${HOST_IPV4}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', ns, 'addr', 'add', `${HOST_IPV6}/64`, 'dev', 'eth0', 'nodad']);
  await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  const relay = lab.spawn(ns, process.execPath, ['-e', RELAY_SCRIPT, socketPath, HOST_IPV4, String(API_PORT)]);
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`API relay in ${ns} did not start: ${output}`)), 10_000);
    const seen = (d: Buffer) => {
      output += d.toString();
      if (output.includes('relay ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    relay.stdout?.on('data', seen);
    relay.stderr?.on('data', seen);
    relay.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`API relay in ${ns} exited (${code}): ${output}`));
    });
  });
  return ns;
}

/** A kubeconfig for the programs in the lab: the same cluster and credentials, dialled at the relay. */
export function labKubeconfig(source: KubeConfig, file: string, insecureHttp: boolean): void {
  const cluster = source.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const target = new URL(cluster.server);
  const scheme = insecureHttp ? 'http:' : target.protocol;
  const forLab = new KubeConfig();
  forLab.loadFromOptions({
    // TLS still checks the server's own name, not the relay's address.
    clusters: source.clusters.map((c) =>
      c.name === cluster.name
        ? {
            ...c,
            server: `${scheme}//${HOST_IPV4}:${API_PORT}`,
            tlsServerName:
              scheme === 'https:' ? (c.tlsServerName ?? target.hostname.replace(/^\[|\]$/g, '')) : c.tlsServerName,
          }
        : c,
    ),
    users: source.users,
    contexts: source.contexts,
    currentContext: source.currentContext,
  });
  writeFileSync(file, forLab.exportConfig(), { mode: 0o600 });
}

export function hostAndPort(server: string): { host: string; port: number } {
  const url = new URL(server);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
  };
}
