import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createControllerMetrics } from '../../src/metrics/metrics.js';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/server.js';

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function get(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${server!.port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('metrics server', () => {
  it('serves the registry on /metrics', async () => {
    const metrics = createControllerMetrics(new Registry());
    metrics.servicesPending.set(7);
    server = await startMetricsServer({
      port: -1,
      host: '127.0.0.1',
      registry: metrics.registry,
      healthy: () => true,
      ready: () => true,
    });
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.body).toContain('ironlb_services_pending 7');
  });

  it('answers /healthz and /readyz from the callbacks', async () => {
    let ready = false;
    server = await startMetricsServer({
      port: -1,
      host: '127.0.0.1',
      registry: new Registry(),
      healthy: () => true,
      ready: () => ready,
    });
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(503);
    ready = true;
    expect((await get('/readyz')).status).toBe(200);
  });

  it('answers 404 for unknown paths and 405 for writes', async () => {
    server = await startMetricsServer({
      port: -1,
      host: '127.0.0.1',
      registry: new Registry(),
      healthy: () => false,
      ready: () => true,
    });
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/healthz')).status).toBe(503);
    const res = await fetch(`http://127.0.0.1:${server!.port}/metrics`, { method: 'POST' });
    expect(res.status).toBe(405);
  });

  it('is disabled by port 0 and rejects a bad port', async () => {
    expect(
      await startMetricsServer({ port: 0, registry: new Registry(), healthy: () => true, ready: () => true }),
    ).toBeUndefined();
    await expect(
      startMetricsServer({ port: 70000, registry: new Registry(), healthy: () => true, ready: () => true }),
    ).rejects.toThrow(/0\.\.65535/);
  });
});
