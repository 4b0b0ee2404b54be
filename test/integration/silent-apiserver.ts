// An API server that accepts connections and never answers: a program pointed
// at it can never sync, which is the state a SIGTERM before sync must handle.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export interface SilentApiServer {
  kubeconfigPath: string;
  /** Resolves on the first connection: the program is past its start-up lines. */
  connected: Promise<void>;
  close(): Promise<void>;
}

export async function startSilentApiServer(): Promise<SilentApiServer> {
  const sockets = new Set<Socket>();
  let onConnect: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (onConnect = resolve));
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnect();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'silent', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'silent' }],
    contexts: [{ name: 'silent', cluster: 'silent', user: 'silent' }],
    currentContext: 'silent',
  });
  const dir = mkdtempSync(join(tmpdir(), 'ironlb-silent-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kc.exportConfig());
  return {
    kubeconfigPath,
    connected,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
