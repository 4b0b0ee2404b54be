// The speaker's FRR adapter and BGP runtime against a real FRR (node
// namespace) judged by the BIRD router: what reaches the router's sessions
// and kernel table is the evidence; FRR's own JSON, as the adapter parses
// it, must agree with it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realScheduler } from '../../src/clock/scheduler.js';
import { FrrDaemon, FrrError } from '../../src/bgp/frr-daemon.js';
import { renderFrrConfig } from '../../src/bgp/frr-config.js';
import { planNode, type BgpNodeInputs } from '../../src/bgp/plan.js';
import { BgpRuntime, type BgpRuntimeEvents } from '../../src/bgp/runtime.js';
import { createSpeakerMetrics } from '../../src/metrics/metrics.js';
import { silentLogger } from '../../src/log/logger.js';
import { BgpLab, ROUTER_IPV4, type FrrInstance } from '../lab/bgp.js';
import { createLab, type Lab } from '../lab/lab.js';
import { waitFor } from '../lab/system.js';
import { oneRouter } from '../unit/bgp/fixtures.js';
import { sleep } from '../wait.js';

const NODE_ASN = 64512;
const ROUTER_ASN = 64513;
const IP_A = '203.0.113.20';
const IP_B = '203.0.113.21';

let lab: Lab;
let bgp: BgpLab;
let frr: FrrInstance;
let work: string;

function inputs(ips: string[]): BgpNodeInputs {
  const timers = { holdTime: '9s', keepaliveTime: '3s', connectTime: '1s' };
  return oneRouter(lab.node(1).name, ips, { peerAddress: ROUTER_IPV4, ...timers });
}
const config = (ips: string[]) => renderFrrConfig(planNode(inputs(ips)), { hostname: lab.node(1).name });
const empty = () => renderFrrConfig(planNode({ ...inputs([]), peers: [] }), { hostname: lab.node(1).name });
const session = async () => (await bgp.protocols()).get('node1');
/** The session's `since` once two reads agree (BIRD restamps a session just up a millisecond later). */
async function settledSince(): Promise<string | undefined> {
  let before = (await session())?.since;
  for (let read = 0; read < 20; read++) {
    await sleep(200);
    const again = (await session())?.since;
    if (again === before) break;
    before = again;
  }
  return before;
}
const established = async () => ((await session())?.info.startsWith('Established') ? true : undefined);
const routeIs = (ip: string, hops: string[]) => async () =>
  JSON.stringify(await bgp.nextHops(`${ip}/32`)) === JSON.stringify(hops) ? true : undefined;

beforeAll(async () => {
  lab = await createLab({ nodes: 1 });
  bgp = new BgpLab(lab);
  work = mkdtempSync(path.join(os.tmpdir(), `${lab.prefix}-work-`));
  try {
    await bgp.startRouter({
      asn: ROUTER_ASN,
      neighbors: [{ name: 'node1', address: lab.node(1).ipv4, asn: NODE_ASN }],
    });
    frr = await bgp.startFrr(lab.node(1), empty());
  } catch (err) {
    await bgp.teardown();
    await lab.teardown();
    throw err;
  }
}, 120_000);

afterAll(async () => {
  await bgp?.teardown();
  await lab?.teardown();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('FrrDaemon: frr-reload.py and vtysh against real FRR 8.4', () => {
  it("applies a configuration; the router gets the session and the route; FRR's JSON agrees", async () => {
    const daemon = new FrrDaemon({ socketDir: frr.dir, workDir: work });
    expect(await daemon.runningConfig()).not.toMatch(/^router bgp/m);
    await daemon.apply(config([IP_A]));
    expect(await daemon.runningConfig()).toMatch(/^ neighbor 192\.0\.2\.254 graceful-restart-disable$/m);
    await waitFor('the session', established);
    await waitFor('the route', routeIs(IP_A, [lab.node(1).ipv4]));
    await waitFor('FRR to count the prefix sent', async () =>
      (await daemon.sessions()).get(ROUTER_IPV4)?.prefixesSent === 1 ? true : undefined,
    );
    expect((await daemon.sessions()).get(ROUTER_IPV4)).toMatchObject({
      peer: 'tor',
      state: 'Established',
      established: true,
    });
  });

  it('a change is applied without resetting the session', async () => {
    const daemon = new FrrDaemon({ socketDir: frr.dir, workDir: work });
    const since = await settledSince();
    await daemon.apply(config([IP_A, IP_B]));
    await waitFor('the second route', routeIs(IP_B, [lab.node(1).ipv4]));
    const after = await session();
    expect(after?.state).toBe('up');
    expect(after?.since).toBe(since);
  });

  it("a configuration FRR refuses is an FrrError with FRR's words; what ran before keeps running", async () => {
    const daemon = new FrrDaemon({ socketDir: frr.dir, workDir: work });
    const bad = `${config([IP_A, IP_B])}router bgp ${NODE_ASN}\n neighbor ${ROUTER_IPV4} timers 1 not-a-number\nexit\n`;
    await expect(daemon.apply(bad)).rejects.toThrow(FrrError);
    await expect(daemon.apply(bad)).rejects.toThrow(/frr-reload.py failed/);
    expect(await bgp.nextHops(`${IP_A}/32`)).toEqual([lab.node(1).ipv4]);
  });

  it('a socket folder with no FRR: reading and applying are FrrErrors', async () => {
    const daemon = new FrrDaemon({ socketDir: work, workDir: work });
    await expect(daemon.sessions()).rejects.toThrow(FrrError);
    await expect(daemon.apply(config([IP_A]))).rejects.toThrow(FrrError);
  });
});

describe('BgpRuntime on real FRR', () => {
  it('withdraws everything but keeps the session; re-applies after FRR restarts empty', async () => {
    const metrics = createSpeakerMetrics();
    const events: string[] = [];
    const sink: BgpRuntimeEvents = {
      object: (_k, name, _t, reason) => events.push(`${reason} ${name}`),
      node: (_t, reason) => events.push(reason),
    };
    const runtime = new BgpRuntime({
      node: lab.node(1).name,
      frr: new FrrDaemon({ socketDir: frr.dir, workDir: work }),
      scheduler: realScheduler(),
      metrics: metrics.bgp,
      events: sink,
      logger: silentLogger(),
      pollIntervalMs: 500,
      retryInitialMs: 200,
      retryMaxMs: 1000,
    });
    try {
      runtime.setInputs(inputs([IP_A]));
      runtime.start();
      await waitFor('the route from the runtime', routeIs(IP_A, [lab.node(1).ipv4]));
      await waitFor('the IP_B route gone (not in the inputs)', routeIs(IP_B, []));
      await waitFor('a session-up Event', async () => (events.includes('BGPSessionUp tor') ? true : undefined));

      // FRR restarts with nothing configured (a crashed FRR container comes back empty).
      await bgp.stopFrr(frr);
      await waitFor('the route withdrawn with FRR down', routeIs(IP_A, []));
      frr = await bgp.startFrr(lab.node(1), empty());
      await waitFor('the route back, re-applied by the runtime', routeIs(IP_A, [lab.node(1).ipv4]), 30_000);

      await waitFor('the session', established);
      const since = await settledSince();
      expect(await runtime.withdraw()).toBe(true);
      await waitFor('the route withdrawn', routeIs(IP_A, []));
      expect((await session())?.since).toBe(since);
      expect((await session())?.info).toMatch(/^Established/);
    } finally {
      runtime.stop();
    }
  }, 90_000);
});
