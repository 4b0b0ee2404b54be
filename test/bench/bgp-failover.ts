// BGP failover in the lab (root): a BIRD router peers with FRR in three node
// namespaces, each configured by ironlb's generator (src/bgp), all announcing
// one Service IP; the router holds it as an ECMP route. A node's fault is its
// link cut (no TCP FIN, no BFD goodbye: what a dead node looks like); the
// figure is the time from the cut to the router's kernel dropping that node's
// next hop, seen by `ip monitor route` in the router's namespace.
//
//   node1  always up (the route never disappears)
//   node2  BFD at the BFDProfile defaults (300 ms x 3), hold time 90 s, so only BFD can be fast
//   node3  no BFD, hold time BGP_FAILOVER_HOLD_TIME (default 3 s, the least FRR takes)
//
//   npm run bench -- bgp-failover      BGP_FAILOVER_TRIALS=10 BGP_FAILOVER_HOLD_TIME=3
import { performance } from 'node:perf_hooks';
import { BFD_DEFAULTS } from '../../src/bgp/bfd-profile.js';
import { renderFrrConfig } from '../../src/bgp/frr-config.js';
import { planNode } from '../../src/bgp/plan.js';
import { BgpLab, ROUTER_IPV4, type RouteWatch } from '../lab/bgp.js';
import { createLab, type Lab, type LabNode } from '../lab/lab.js';
import { percentile } from '../lab/system-measure.js';
import { waitFor } from '../lab/system.js';
import { advertisement, bfdProfile, peer, pool } from '../unit/bgp/fixtures.js';

const NODE_ASN = 64512;
const ROUTER_ASN = 64513;
const VIP = '203.0.113.10';
const ROUTE = `${VIP}/32`;
const ROLES = ['anchor', 'bfd', 'hold'] as const;
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

function configFor(node: LabNode, holdTimeS: number): string {
  const role = ROLES[node.index - 1]!;
  const spec = role === 'bfd' ? { holdTime: '90s', bfdProfile: 'defaults' } : { holdTime: `${holdTimeS}s` };
  const plan = planNode({
    node: { name: node.name, labels: {}, networkUnavailable: false },
    peers: [
      peer('tor', { myASN: NODE_ASN, peerASN: ROUTER_ASN, peerAddress: ROUTER_IPV4, connectTime: '1s', ...spec }),
    ],
    advertisements: [advertisement('lab', {})],
    bfdProfiles: [bfdProfile('defaults', {})],
    communities: [],
    secrets: new Map(),
    pools: [pool('lab', ['203.0.113.0/28'])],
    services: [{ namespace: 'default', name: 'web', ips: [VIP], pool: 'lab', externalTrafficPolicy: 'Cluster' }],
    endpoints: [],
  });
  if (plan.errors.length > 0) throw new Error(`bgp-failover: ${JSON.stringify(plan.errors)}`);
  return renderFrrConfig(plan, { hostname: node.name });
}

async function allThree(bgp: BgpLab, lab: Lab): Promise<void> {
  const all = lab.nodes.map((n) => n.ipv4);
  await waitFor(
    'every node as a next hop on the router',
    async () => ((await bgp.nextHops(ROUTE)).length === all.length ? true : undefined),
    60_000,
  );
}

async function measure(lab: Lab, bgp: BgpLab, watch: RouteWatch, node: LabNode): Promise<number> {
  await allThree(bgp, lab);
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
  const lab = await createLab({ nodes: ROLES.length });
  const bgp = new BgpLab(lab);
  try {
    await bgp.startRouter({
      asn: ROUTER_ASN,
      neighbors: lab.nodes.map((n) => ({
        name: `node${n.index}`,
        address: n.ipv4,
        asn: NODE_ASN,
        bfd: ROLES[n.index - 1] === 'bfd',
      })),
    });
    for (const node of lab.nodes) await bgp.startFrr(node, configFor(node, holdTimeS));
    const watch = bgp.watchRoute(ROUTE);
    const samples = { bfd: [] as number[], holdTime: [] as number[] };
    for (let i = 1; i <= trials; i++) {
      for (const [kind, node] of [
        ['bfd', lab.node(2)],
        ['holdTime', lab.node(3)],
      ] as const) {
        const ms = await measure(lab, bgp, watch, node);
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
    return {
      trials,
      fault: 'link cut',
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
    await bgp.teardown();
    await lab.teardown();
  }
}
