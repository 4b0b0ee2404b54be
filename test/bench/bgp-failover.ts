// BGP failover in the lab (root), driven by ironlb itself: the system lab's
// controller and three real speakers (--frr-vty-socket) against the API server
// double, each speaker configuring the FRR in its node's namespace (started
// empty) from the objects of `npm run lab -- --bgp` (test/lab/bgp-demo.ts); a
// BIRD router peers with every node and holds the Service IP as an ECMP
// route. A node's fault is its link cut (no TCP FIN, no BFD goodbye: what a
// dead node looks like); the figure is the time from the cut to the router's
// kernel dropping that node's next hop, seen by `ip monitor route` in the
// router's namespace.
//
//   node1  always up (the route never disappears); peer tor-bfd
//   node2  peer tor-bfd: BFD at the BFDProfile defaults (300 ms x 3), hold time 90 s, so only BFD can be fast
//   node3  peer tor-hold: no BFD, hold time BGP_FAILOVER_HOLD_TIME (default 3 s, the least FRR takes)
//
//   npm run bench -- bgp-failover      BGP_FAILOVER_TRIALS=10 BGP_FAILOVER_HOLD_TIME=3
import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BFD_DEFAULTS } from '../../src/bgp/bfd-profile.js';
import type { BgpLab, RouteWatch } from '../lab/bgp.js';
import { applyBgpObjects, bgpSpeakerArgs, BFD_NODE, HOLD_NODE, startBgp } from '../lab/bgp-demo.js';
import type { Lab, LabNode } from '../lab/lab.js';
import { percentile } from '../lab/system-measure.js';
import { startSystem, waitFor } from '../lab/system.js';

/** MetalLB's BFD anchor: the BFDProfile defaults, 3 x 300 ms. */
const METALLB_BFD_MS = BFD_DEFAULTS.detectMultiplier * BFD_DEFAULTS.receiveInterval;

function countFromEnv(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  return value;
}

async function allThree(bgp: BgpLab, lab: Lab, route: string): Promise<void> {
  const all = lab.nodes.map((n) => n.ipv4);
  await waitFor(
    'every node as a next hop on the router',
    async () => ((await bgp.nextHops(route)).length === all.length ? true : undefined),
    120_000,
  );
}

async function measure(lab: Lab, bgp: BgpLab, watch: RouteWatch, node: LabNode, route: string): Promise<number> {
  await allThree(bgp, lab, route);
  const withdrawn = watch.withdrawn(node.ipv4);
  const cutAt = performance.now();
  await lab.linkDown(node);
  const at = await Promise.race([
    withdrawn,
    new Promise<number>((_, reject) =>
      setTimeout(
        () => reject(new Error(`bgp-failover: ${node.name} still a next hop 120 s after its link was cut`)),
        120_000,
      ),
    ),
  ]);
  await lab.linkUp(node);
  return at - cutAt;
}

export async function run(): Promise<object> {
  const trials = countFromEnv('BGP_FAILOVER_TRIALS', 10, 1, 1000);
  const holdTimeS = countFromEnv('BGP_FAILOVER_HOLD_TIME', 3, 3, 65535);
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'ilbbgpbench-'));
  chmodSync(logDir, 0o755); // FRR, once it dropped to its user, must reach its socket folders inside
  const system = await startSystem({ nodes: 3, logDir, speakerArgsFor: (node) => bgpSpeakerArgs(logDir, node) });
  const lab = system.lab;
  try {
    const bgp = await startBgp(system);
    const ip = await applyBgpObjects(system, holdTimeS, (text) => process.stderr.write(`bgp-failover: ${text}\n`));
    const route = `${ip}/32`;
    const watch = bgp.watchRoute(route);
    const samples = { bfd: [] as number[], holdTime: [] as number[] };
    for (let i = 1; i <= trials; i++) {
      for (const [kind, node] of [
        ['bfd', lab.node(BFD_NODE)],
        ['holdTime', lab.node(HOLD_NODE)],
      ] as const) {
        const ms = await measure(lab, bgp, watch, node, route);
        samples[kind].push(ms);
        process.stderr.write(
          `bgp-failover ${kind} ${i}/${trials}: ${node.name} withdrawn ${ms.toFixed(0)} ms after its link was cut\n`,
        );
      }
    }
    const summary = (values: number[]) => ({
      withdrawP50Ms: Math.round(percentile(values, 50)),
      withdrawP95Ms: Math.round(percentile(values, 95)),
      withdrawMaxMs: Math.round(Math.max(...values)),
    });
    await watch.stop();
    return {
      trials,
      fault: 'link cut',
      driver: 'ironlb speakers (real controller and speaker processes configuring FRR)',
      bfd: {
        ...summary(samples.bfd),
        receiveIntervalMs: BFD_DEFAULTS.receiveInterval,
        transmitIntervalMs: BFD_DEFAULTS.transmitInterval,
        detectMultiplier: BFD_DEFAULTS.detectMultiplier,
      },
      holdTime: { ...summary(samples.holdTime), holdTimeS },
      anchor: { metallbBfdDefaultMs: METALLB_BFD_MS },
    };
  } finally {
    // The BGP lab's teardown is one of the system's (startBgp registers it).
    await system.teardown();
  }
}
