// `npm run lab -- --bgp`: BGP mode end to end. The system lab of the L2 demo
// (API server double, controller, one speaker per node, test/lab/system.ts),
// each speaker driving the FRR in its node's namespace (--frr-vty-socket);
// the BGP lab's BIRD router (test/lab/bgp.ts) peers with every node, and a
// client behind the router sends UDP flows to the Service IP. Shows the
// router's ECMP route, which nodes the client's flows reach, and the measured
// withdrawal of a node whose link is cut: by BFD, and by the hold time alone.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { renderFrrConfig } from '../../src/bgp/frr-config.js';
import { BgpLab, OUTSIDE_CLIENT_IPV4, ROUTER_IPV4, type RouteWatch } from './bgp.js';
import type { LabNode } from './lab.js';
import { LAB_POOL, SERVICE_NAMESPACE, SYSTEM_NAMESPACE, waitFor, type LabSystem } from './system.js';
import { parseFlowReply, UDP_FLOWS_SCRIPT, type FlowReply } from './udp-flows.js';
import { sleep } from '../wait.js';

const NODE_ASN = 64512;
const ROUTER_ASN = 64513;
const UDP_PORT = 7007;
const FLOWS = 16;
const FLOW_INTERVAL_MS = 50;
/** The node cut with BFD on its session, and the one cut with the hold time alone. */
export const BFD_NODE = 2;
export const HOLD_NODE = 3;
const HOLD_TIME_S = 3;

/** FRR as the pod starts it: no BGP until the speaker configures it. */
const EMPTY_FRR = renderFrrConfig(
  { sessions: [], prefixes: new Map(), bfdProfiles: [], errors: [] },
  { hostname: 'empty' },
);

const say = (text = '') => console.log(text);
const step = (text: string) => console.log(`\n== ${text}`);
const hostnameIn = (names: string[]) => [
  { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: names }] },
];

/** The folder where a node's speaker finds its FRR's vty sockets (inside the demo's log folder). */
export function frrSocketDir(logDir: string, node: LabNode): string {
  return path.join(logDir, `frr-${node.index}`);
}

/** The speaker flags of BGP mode for one node. */
export function bgpSpeakerArgs(logDir: string, node: LabNode): string[] {
  return ['--frr-vty-socket', frrSocketDir(logDir, node), '--bgp-poll-interval', '1s'];
}

/** The outside client's UDP flows: every answer as it arrives. */
class Flows {
  readonly replies: FlowReply[] = [];

  constructor(readonly child: ChildProcess) {
    let rest = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const reply = parseFlowReply(line);
        if (reply) this.replies.push(reply);
      }
    });
  }

  /** Answers per node in [from, to) (epoch ms), as "node: n" sorted by node. */
  byNode(from: number, to: number): string {
    const counts = new Map<string, number>();
    for (const r of this.replies) if (r.at >= from && r.at < to) counts.set(r.node, (counts.get(r.node) ?? 0) + 1);
    if (counts.size === 0) return 'no answers';
    return [...counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
      .map(([node, n]) => `${node} ${n}`)
      .join(', ');
  }

  /** The flows whose last answer before `at` came from `node`. */
  flowsOn(node: string, at: number): number[] {
    const last = new Map<number, string>();
    for (const r of this.replies) if (r.at < at) last.set(r.flow, r.node);
    return [...last.entries()].filter(([, n]) => n === node).map(([flow]) => flow);
  }

  /** The flow's last answer from `node` before `at`, and its first answer from another node after it. */
  moved(flow: number, node: string, at: number): { last?: FlowReply; next?: FlowReply } {
    const mine = this.replies.filter((r) => r.flow === flow);
    return {
      last: mine.filter((r) => r.node === node && r.at < at).pop(),
      next: mine.find((r) => r.node !== node && r.at >= at),
    };
  }
}

/** Starts the router, every node's FRR (empty, as in the pod: the speakers configure it) and the outside client. */
export async function startBgp(system: LabSystem): Promise<BgpLab> {
  const bgp = new BgpLab(system.lab);
  system.onTeardown(() => bgp.teardown());
  await bgp.startRouter({
    asn: ROUTER_ASN,
    neighbors: system.lab.nodes.map((n) => ({
      name: `node${n.index}`,
      address: n.ipv4,
      asn: NODE_ASN,
      bfd: n.index !== HOLD_NODE,
    })),
  });
  for (const node of system.lab.nodes) await bgp.startFrr(node, EMPTY_FRR, frrSocketDir(system.logDir, node));
  await bgp.addOutsideClient();
  return bgp;
}

/**
 * The demo's objects (shared with `npm run bench -- bgp-failover`): one pool,
 * the default BFDProfile, peer "tor-bfd" (BFD, hold 90 s) for every node but
 * HOLD_NODE, peer "tor-hold" (no BFD, hold `holdTimeS`) for HOLD_NODE, an
 * advertisement for every node and a Service; returns its IP. `log` says what
 * was applied.
 */
export async function applyBgpObjects(
  system: LabSystem,
  holdTimeS = HOLD_TIME_S,
  log: (text: string) => void = say,
): Promise<string> {
  const nodes = system.lab.nodes;
  const hold = system.lab.node(HOLD_NODE);
  const others = nodes.filter((n) => n !== hold).map((n) => n.name);
  await system.applyPool('default', LAB_POOL);
  log(`IPAddressPool "default": ${LAB_POOL.join(', ')}`);
  await system.applyObject('bfdprofiles', 'BFDProfile', 'defaults', {});
  log('BFDProfile "defaults": {} (300 ms x 3, as MetalLB)');
  const common = { myASN: NODE_ASN, peerASN: ROUTER_ASN, peerAddress: ROUTER_IPV4, connectTime: '1s' };
  await system.applyObject('bgppeers', 'BGPPeer', 'tor-bfd', {
    ...common,
    holdTime: '90s',
    bfdProfile: 'defaults',
    nodeSelectors: hostnameIn(others),
  });
  log(
    `BGPPeer "tor-bfd": AS ${NODE_ASN} -> ${ROUTER_IPV4} AS ${ROUTER_ASN}, BFD "defaults", hold 90 s; ` +
      others.join(', '),
  );
  await system.applyObject('bgppeers', 'BGPPeer', 'tor-hold', {
    ...common,
    holdTime: `${holdTimeS}s`,
    keepaliveTime: '1s',
    nodeSelectors: hostnameIn([hold.name]),
  });
  log(`BGPPeer "tor-hold": the same router, no BFD, hold ${holdTimeS} s, keepalive 1 s; ${hold.name}`);
  await system.applyObject('bgpadvertisements', 'BGPAdvertisement', 'all-nodes', { ipAddressPools: ['default'] });
  log('BGPAdvertisement "all-nodes": pool "default", every node, every peer (a /32 per IP)');
  const [ip] = await system.waitForIngress(await system.createService({ name: 'web', family: 'IPv4' }), 60_000);
  log(`Service ${SERVICE_NAMESPACE}/web (type LoadBalancer): the controller assigned ${ip}`);
  return ip!;
}

async function startResponders(system: LabSystem): Promise<void> {
  for (const node of system.lab.nodes) {
    const child = system.lab.spawn(node.name, process.execPath, [
      UDP_FLOWS_SCRIPT,
      'serve',
      node.name,
      String(UDP_PORT),
    ]);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the UDP responder on ${node.name} did not start`)), 10_000);
      child.stdout!.once('data', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

async function allNextHops(bgp: BgpLab, route: string): Promise<void> {
  await waitFor(
    `every node as a next hop of ${route} on the router`,
    async () => ((await bgp.nextHops(route)).length === bgp.lab.nodes.length ? true : undefined),
    120_000,
    50,
  );
}

async function showRoute(bgp: BgpLab, ip: string): Promise<void> {
  say(`$ ip netns exec ${bgp.router} ip route show ${ip}`);
  const out = await bgp.lab.exec(bgp.router, ['ip', 'route', 'show', ip]);
  say((out.stdout.trimEnd() || '(no route)').replace(/^/gm, '  '));
}

async function showSessions(bgp: BgpLab): Promise<void> {
  say(`$ birdc -s ${bgp.birdSocket} show protocols   (the router's own view)`);
  for (const p of (await bgp.protocols()).values()) {
    if (p.proto === 'BGP' || p.proto === 'BFD')
      say(`  ${p.name.padEnd(8)} ${p.proto.padEnd(5)} ${p.state.padEnd(6)} ${p.info}`);
  }
}

/**
 * Inflicts a fault on the node (`fault`, described as `what`), measures the
 * time until the router withdrew its next hop, and shows the client's flows
 * carrying on over the other nodes.
 */
async function measureWithdrawal(
  bgp: BgpLab,
  watch: RouteWatch,
  flows: Flows,
  node: LabNode,
  ip: string,
  what: string,
  fault: () => Promise<void>,
): Promise<void> {
  const route = `${ip}/32`;
  await allNextHops(bgp, route);
  await sleep(1000); // a second of traffic over every path before the fault
  const withdrawn = watch.withdrawn(node.ipv4);
  const faultWall = Date.now();
  const faultAt = performance.now();
  await fault();
  let timer: NodeJS.Timeout | undefined;
  const at = await Promise.race([
    withdrawn,
    new Promise<number>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${node.name} still a next hop 120 s after: ${what}`)), 120_000);
    }),
  ]);
  clearTimeout(timer);
  const ms = at - faultAt;
  say(`$ ${what}`);
  say(`the router withdrew ${node.ipv4} (${node.name}) ${ms.toFixed(0)} ms after it`);
  await showRoute(bgp, ip);
  const proto = (await bgp.protocols()).get(`node${node.index}`);
  say(`the router's session with ${node.name}: ${proto?.state ?? '?'} ${proto?.info ?? ''}`);
  await sleep(1500);
  await showFlows(flows, node, faultWall, faultWall + ms);
}

/** Which nodes answered the client's flows before and after, and how long the flows of `node` were silent. */
async function showFlows(flows: Flows, node: LabNode, cutWall: number, withdrawnWall: number): Promise<void> {
  const affected = flows.flowsOn(node.name, cutWall);
  say(`the client's ${FLOWS} UDP flows (one datagram each per ${FLOW_INTERVAL_MS} ms):`);
  say(`  answers in the second before the cut:        ${flows.byNode(cutWall - 1000, cutWall)}`);
  say(`  answers in the second after the withdrawal:  ${flows.byNode(withdrawnWall + 200, withdrawnWall + 1200)}`);
  const moved = affected.map((f) => flows.moved(f, node.name, cutWall));
  if (moved.some((m) => m.next === undefined)) {
    say(`  ${affected.length} flow(s) were on ${node.name}; some have not been answered by another node yet`);
    return;
  }
  const through = [...new Set(moved.map((m) => m.next!.node))].sort().join(' and ');
  const silence = Math.max(...moved.map((m) => m.next!.at - (m.last?.at ?? cutWall)));
  say(
    `  ${affected.length} flow(s) were on ${node.name}; all answered again through ${through}, ` +
      `the longest silence ${silence} ms (last answer from ${node.name} to the first from another node)`,
  );
}

/** Brings the cut link back and waits for the node's next hop. */
async function restoreLink(bgp: BgpLab, node: LabNode, route: string): Promise<void> {
  await bgp.lab.linkUp(node);
  await bgp.routeOutsideBack(node);
  const upAt = performance.now();
  await allNextHops(bgp, route);
  say(`link restored: ${node.name} back as a next hop ${((performance.now() - upAt) / 1000).toFixed(1)} s later`);
}

/** The BGP demo's steps after the system is up (steps 2 on). */
export async function showBgp(system: LabSystem, bgp: BgpLab): Promise<string> {
  step('2. The router, and the BGP objects');
  say(`router: namespace ${bgp.router}, BIRD 2 (AS ${ROUTER_ASN}) on ${ROUTER_IPV4}, peering with every node`);
  say(`client: namespace ${bgp.outside}, ${OUTSIDE_CLIENT_IPV4}, behind the router (its default route)`);
  say(`every node: FRR (zebra, bgpd, bfdd) started empty; its speaker configures it (--frr-vty-socket)`);
  const vip = await applyBgpObjects(system);
  await system.serveOnAllNodes(vip);
  await startResponders(system);
  say(`every node has ${vip} on lo (the kube-proxy data plane) and answers UDP ${UDP_PORT} with its name`);

  step('3. ECMP: one next hop per node on the router');
  const route = `${vip}/32`;
  const upAt = performance.now();
  await allNextHops(bgp, route);
  say(`all ${system.lab.nodes.length} next hops ${((performance.now() - upAt) / 1000).toFixed(1)} s after the objects`);
  await showRoute(bgp, vip);
  await showSessions(bgp);

  step('4. Traffic from the client behind the router');
  say(`$ ip netns exec ${bgp.outside} ping -c 3 ${vip}`);
  const ping = await system.lab.ping(vip, { count: 3, ns: bgp.outside });
  say(`  ${ping.received}/3 replies`);
  const flows = new Flows(
    system.lab.spawn(bgp.outside, process.execPath, [
      UDP_FLOWS_SCRIPT,
      'flows',
      vip,
      String(UDP_PORT),
      String(FLOWS),
      String(FLOW_INTERVAL_MS),
    ]),
  );
  await sleep(2000);
  const now = Date.now();
  say(`${FLOWS} UDP flows (own source ports; the router hashes addresses and ports):`);
  say(`  answers in the last second, by the node that answered: ${flows.byNode(now - 1000, now)}`);

  const watch = bgp.watchRoute(route);
  const cut = (node: LabNode) => ({
    what: `ip -n ${node.name} link set eth0 down`,
    fault: () => bgp.lab.linkDown(node),
  });
  const bfdNode = system.lab.node(BFD_NODE);
  step(`5. ${bfdNode.name}'s link cut (a dead node: no goodbye); its session has BFD (300 ms x 3)`);
  const bfdCut = cut(bfdNode);
  await measureWithdrawal(bgp, watch, flows, bfdNode, vip, bfdCut.what, bfdCut.fault);
  await restoreLink(bgp, bfdNode, route);
  const holdNode = system.lab.node(HOLD_NODE);
  step(`6. ${holdNode.name}'s link cut; no BFD, hold time ${HOLD_TIME_S} s`);
  const holdCut = cut(holdNode);
  await measureWithdrawal(bgp, watch, flows, holdNode, vip, holdCut.what, holdCut.fault);
  await restoreLink(bgp, holdNode, route);

  const frrNode = system.lab.node(1);
  const frr = bgp.frrOf(frrNode);
  step(`7. kill -9 of ${frrNode.name}'s FRR (zebra, bgpd, bfdd)`);
  const pids = [...frr.daemons.values()].map((c) => c.pid).join(' ');
  await measureWithdrawal(bgp, watch, flows, frrNode, vip, `kill -9 ${pids}`, () => bgp.stopFrr(frr));
  say('(its kernel closes the TCP session: the router withdraws at once, BFD or not)');
  const restartAt = performance.now();
  await bgp.startFrr(frrNode, EMPTY_FRR, frr.dir);
  await allNextHops(bgp, route);
  say(
    `FRR started again, empty; the speaker saw it and configured it again: ${frrNode.name} back as a next hop ` +
      `${((performance.now() - restartAt) / 1000).toFixed(1)} s after the restart`,
  );
  await watch.stop();
  return vip;
}

/** What to try with the lab kept up. */
export function exploreBgp(system: LabSystem, bgp: BgpLab, ip: string): void {
  step('The lab stays up. Try:');
  say(`  ip netns exec ${bgp.router} ip route show ${ip}          # ECMP next hops`);
  say(`  ip netns exec ${bgp.router} birdc -s ${bgp.birdSocket} show protocols all`);
  say(`  ip netns exec ${bgp.outside} ping -c 3 ${ip}`);
  const node = system.lab.node(1);
  say(`  ip netns exec ${node.name} vtysh --vty_socket ${frrSocketDir(system.logDir, node)} -c 'show bgp summary'`);
  say(`  ip -n ${node.name} link set eth0 down                  # a dead node (up again: ... up)`);
  say(`  kubectl --kubeconfig ${path.join(system.logDir, 'kubeconfig-host')} -n ${SYSTEM_NAMESPACE} get bgppeers`);
  say(`  logs: ${system.logDir}/*.log, BIRD and FRR: ${bgp.dir}`);
}
