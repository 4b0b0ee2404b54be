// MetalLB parity of the running controller (issue: replaying MetalLB's
// controller and e2e assignment scenarios): retries when an IP may have become
// usable, the second family added in place. Restart cases: controller-restart.
import { afterEach, describe, expect, it } from 'vitest';
import {
  createPool, createService, eventually, getService, ips, patchService, setup, targets,
  waitForAllocated, waitForIPs, type Env,
} from './controller-harness.js';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe.each(targets({ faults: false }))('controller retries waiting Services when a holder changes its sharing terms (%s)', (target) => {
  it('gives the IP back once the holder moves to Local with the same selector', async () => {
    env = await setup(target);
    await createPool(env, 'one', ['192.0.2.160/32']);
    await env.startController();
    const shared = { 'ironlb.io/allow-shared-ip': 'k' };
    await createService(env, 'first', { annotations: shared, ports: [{ port: 80 }], spec: { selector: { app: 'x' } } });
    await createService(env, 'second', { annotations: shared, ports: [{ port: 81 }], spec: { selector: { app: 'x' } } });
    expect(await waitForIPs(env, 'first')).toEqual(['192.0.2.160']);
    expect(await waitForIPs(env, 'second')).toEqual(['192.0.2.160']);
    await patchService(env, 'second', { spec: { externalTrafficPolicy: 'Local' } });
    await eventually(async () => expect(ips(await getService(env!, 'second'))).toEqual([]));
    expect((await waitForAllocated(env, 'second', 'False')).reason).toBe('PoolExhausted');
    await patchService(env, 'first', { spec: { externalTrafficPolicy: 'Local' } });
    expect(await waitForIPs(env, 'second')).toEqual(['192.0.2.160']);
    expect(ips(await getService(env, 'first'))).toEqual(['192.0.2.160']);
  });

  it('gives the IP to a Service refused for a port clash once the holder moves its port', async () => {
    env = await setup(target);
    await createPool(env, 'main', ['192.0.2.170-192.0.2.179']);
    await env.startController();
    const shared = { 'ironlb.io/allow-shared-ip': 'k', 'ironlb.io/loadBalancerIPs': '192.0.2.175' };
    await createService(env, 'holder', { annotations: shared, ports: [{ port: 80 }] });
    expect(await waitForIPs(env, 'holder')).toEqual(['192.0.2.175']);
    await createService(env, 'waiting', { annotations: shared, ports: [{ port: 80 }] });
    expect((await waitForAllocated(env, 'waiting', 'False')).reason).toBe('PortConflict');
    await patchService(env, 'holder', { spec: { ports: [{ port: 8080, protocol: 'TCP' }] } });
    expect(await waitForIPs(env, 'waiting')).toEqual(['192.0.2.175']);
  });

  it('gives the IP to a Service refused for another sharing key once the holder takes its key', async () => {
    env = await setup(target);
    await createPool(env, 'one', ['192.0.2.180/32']);
    await env.startController();
    await createService(env, 'holder', { annotations: { 'ironlb.io/allow-shared-ip': 'a' }, ports: [{ port: 80 }] });
    expect(await waitForIPs(env, 'holder')).toEqual(['192.0.2.180']);
    await createService(env, 'waiting', { annotations: { 'ironlb.io/allow-shared-ip': 'b' }, ports: [{ port: 81 }] });
    await waitForAllocated(env, 'waiting', 'False');
    await patchService(env, 'holder', { metadata: { annotations: { 'ironlb.io/allow-shared-ip': 'b' } } });
    expect(await waitForIPs(env, 'waiting')).toEqual(['192.0.2.180']);
  });
});
