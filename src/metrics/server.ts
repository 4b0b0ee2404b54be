import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServerOptions {
  /** 0 disables the server (MetalLB's --port=0 convention). */
  port: number;
  /** Defaults to all interfaces; tests pass 127.0.0.1. */
  host?: string;
  registry: Registry;
  /** Liveness: false makes /healthz answer 503 so the kubelet restarts the pod. */
  healthy: () => boolean;
  /** Readiness: false makes /readyz answer 503 (caches not synced yet, ...). */
  ready: () => boolean;
}

export interface MetricsServer {
  /** The port actually bound (differs from the option when -1 asked for an ephemeral one). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves /metrics, /healthz and /readyz for the controller and the speaker.
 * Returns undefined when disabled (port 0). Pass port -1 to bind an ephemeral
 * port (tests).
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer | undefined> {
  if (options.port === 0) return undefined;
  if (!Number.isInteger(options.port) || options.port < -1 || options.port > 65535) {
    throw new Error(`metrics port must be an integer in 0..65535 (0 disables), got ${options.port}`);
  }
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`),
      );
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const ok = path === '/healthz' ? options.healthy() : options.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ok\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz, /readyz\n');
  });
  const listenPort = options.port === -1 ? 0 : options.port;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
