import { describe, expect, it } from 'vitest';
import { CoordinationV1Api } from '@kubernetes/client-node';
import {
  changedIPs,
  createPool,
  createServices,
  eventually,
  setup,
  targets,
  waitAllAssigned,
  closeEnvAfterEach,
} from './controller-harness.js';
import type { RunningController } from '../../controller/start.js';

const keep = closeEnvAfterEach();

const fastElection = { leaderElect: true, leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };

async function leaderOf(controllers: RunningController[]): Promise<RunningController> {
  return eventually(() => {
    const leaders = controllers.filter((c) => c.isLeader());
    if (leaders.length !== 1) throw new Error(`${leaders.length} leaders`);
    return leaders[0]!;
  });
}

describe.each(targets({ faults: false }))('controller leader election (%s)', { timeout: 120_000 }, (target) => {
  it('runs one active replica; the standby takes over on the leader stopping and changes no IP', async () => {
    const env = keep(await setup(target));
    await createPool(env, 'main', ['192.0.2.0/26']);
    const a = await env.startController({ ...fastElection, identity: 'replica-a' });
    const b = await env.startController({ ...fastElection, identity: 'replica-b' });
    const leader = await leaderOf([a, b]);
    const standby = leader === a ? b : a;
    expect(standby.isLeader()).toBe(false);
    expect(await leader.metrics.isLeader.get()).toMatchObject({ values: [{ value: 1 }] });

    await createServices(env, 'svc', 20);
    const before = await waitAllAssigned(env, 20);
    const lease = await env.kubeConfig
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace: env.system, name: 'ironlb-controller' });
    expect(lease.spec?.holderIdentity).toBe(leader.identity);

    await leader.stop();
    env.controllers.splice(env.controllers.indexOf(leader), 1);
    await eventually(() => expect(standby.isLeader()).toBe(true));
    await createServices(env, 'late', 5);
    const after = await waitAllAssigned(env, 25);
    await standby.idle();
    expect(changedIPs(before, after)).toEqual([]);
    const all = [...after.values()].map((v) => v[0]);
    expect(new Set(all).size).toBe(25);
  });
});
