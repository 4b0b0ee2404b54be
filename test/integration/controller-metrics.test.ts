import { describe, expect, it } from 'vitest';
import {
  createPool,
  createService,
  deletePool,
  eventually,
  setup,
  targets,
  waitForAllocated,
  waitForIPs,
  closeEnvAfterEach,
} from './controller-harness.js';

const keep = closeEnvAfterEach();

describe.each(targets({ faults: false }))('controller metrics and probes (%s)', (target) => {
  it('serves pool use, pending Services, allocations, failures, leadership and API requests', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.0/31', '2001:db8::/127']);
    const controller = await env.startController({ metricsPort: -1, metricsHost: '127.0.0.1' });
    const base = `http://127.0.0.1:${controller.metricsPort}`;
    await createService(env, 'a');
    await createService(env, 'b');
    await waitForIPs(env, 'a');
    await waitForIPs(env, 'b');
    await createService(env, 'c');
    await waitForAllocated(env, 'c', 'False');
    const text = await eventually(async () => {
      const body = await (await fetch(`${base}/metrics`)).text();
      expect(body).toContain('ironlb_pool_addresses_in_use{pool="main",family="ipv4"} 2');
      return body;
    });
    expect(text).toContain('ironlb_pool_addresses_total{pool="main",family="ipv4"} 2');
    expect(text).toContain('ironlb_pool_addresses_total{pool="main",family="ipv6"} 2');
    expect(text).toContain('ironlb_pool_addresses_in_use{pool="main",family="ipv6"} 0');
    expect(text).toContain('ironlb_pool_valid{pool="main"} 1');
    expect(text).toContain('ironlb_services_pending 1');
    expect(text).toContain('ironlb_allocations_total{pool="main"} 2');
    expect(text).toContain('ironlb_allocation_failures_total{reason="PoolExhausted"} 1');
    expect(text).toContain('ironlb_controller_leader 1');
    expect(text).toMatch(/ironlb_api_requests_total\{verb="patch",resource="services\/status"\} [1-9]/);
    expect(text).toMatch(/ironlb_api_requests_total\{verb="watch",resource="services"\} [1-9]/);
    await deletePool(env, 'main');
    await eventually(async () =>
      expect(await (await fetch(`${base}/metrics`)).text()).not.toMatch(/ironlb_pool_[a-z_]+\{pool="main"/),
    );
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});
