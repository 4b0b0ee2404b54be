// `npm run lab`'s demo: ironlb end to end on this machine, in network
// namespaces. Builds the lab (3 nodes + a client on a bridge), starts the API
// server double, the controller and 3 speakers, applies the sample pool,
// L2Advertisement and Service, shows the client resolving the Service IP to
// the owner's MAC, kills the owner and prints the measured failover.
// test/lab/start.mjs is the entry point: it reads the arguments, checks the
// tools, compiles, owns the signals and calls runDemo.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ipLeaseName } from '../../src/api/leases.js';
import { bgpSpeakerArgs, exploreBgp, showBgp, startBgp } from './bgp-demo.js';
import { run } from './lab.js';
import { FAULT_DESCRIPTIONS, measureFailover } from './system-measure.js';
import { LAB_POOL, SERVICE_NAMESPACE, SYSTEM_NAMESPACE, startSystem, type LabSystem } from './system.js';

/** The demo's lab prefix; test/lab/start.mjs's --down removes `ironlb-*` by the same name. */
const PREFIX = 'ironlb';

export interface DemoArgs {
  keep: boolean;
  kubeconfig?: string;
  /** BGP mode (test/lab/bgp-demo.ts) instead of layer 2. */
  bgp?: boolean;
}

const say = (text = '') => console.log(text);
const step = (text: string) => console.log(`\n== ${text}`);

function repoFile(...parts: string[]): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root');
    dir = up;
  }
  return path.join(dir, ...parts);
}

interface SampleObject {
  kind?: string;
  metadata?: { name?: string };
  spec?: Record<string, unknown>;
}

function sample(file: string, kind: string, name: string): SampleObject {
  const docs = readFileSync(repoFile('deploy', 'samples', file), 'utf8')
    .split(/^---$/m)
    .map((text) => parse(text) as SampleObject | null);
  const found = docs.find((d) => d?.kind === kind && d.metadata?.name === name);
  if (!found) throw new Error(`deploy/samples/${file} has no ${kind} ${name}`);
  return found;
}

async function labAlreadyUp(): Promise<boolean> {
  const list = await run('ip', ['netns', 'list'], true);
  return list.stdout.split('\n').some((line) => line.startsWith(`${PREFIX}-`));
}

async function applySamples(system: LabSystem): Promise<string> {
  const pool = sample('pool.yaml', 'IPAddressPool', 'default');
  const sampleAddresses = (pool.spec?.addresses as string[] | undefined) ?? [];
  say(`pool "default" from deploy/samples/pool.yaml, with addresses ${LAB_POOL.join(', ')}`);
  say(`  (the sample's ${sampleAddresses.join(', ')} overlaps the lab's own node addresses 192.0.2.11-13)`);
  await system.applyPool('default', LAB_POOL);
  const advertisement = sample('l2advertisement.yaml', 'L2Advertisement', 'all-nodes');
  say('L2Advertisement "all-nodes" from deploy/samples/l2advertisement.yaml, as it is');
  await system.applyAdvertisement('all-nodes', advertisement.spec ?? {});
  const service = sample('service.yaml', 'Service', 'web');
  say(`Service ${SERVICE_NAMESPACE}/web from deploy/samples/service.yaml (type LoadBalancer, no IP asked for)`);
  const ref = await system.createService({ name: service.metadata?.name ?? 'web', family: 'IPv4' });
  const [ip] = await system.waitForIngress(ref, 60_000);
  return ip!;
}

function describeNodes(system: LabSystem): void {
  for (const node of system.lab.nodes) say(`  ${node.name.padEnd(16)} ${node.ipv4.padEnd(13)} MAC ${node.mac}`);
  say(`  ${system.lab.client.padEnd(16)} 192.0.2.100   (the client: arping, ping, ip neigh, tcpdump)`);
}

/**
 * Runs the demo; `stop` aborts it (SIGINT/SIGTERM): whatever step is running is
 * left, and the lab is torn down. Returns the exit code: 0 when done (with
 * --keep, a stop after the lab is up is how it ends), 128+n when stopped
 * earlier by signal n.
 */
export async function runDemo(args: DemoArgs, stop: AbortSignal): Promise<number> {
  const started = Date.now();
  if (await labAlreadyUp()) {
    throw new Error(
      `a lab is already up (namespaces ${PREFIX}-*). ` +
        `Stop its \`npm run lab -- --keep\` with Ctrl-C, or remove it: npm run lab -- --down`,
    );
  }
  step('1. Building the lab and starting ironlb');
  // A stop while this builds takes effect once it is built, then tears it down.
  const logDir = path.join(os.tmpdir(), `${PREFIX}-lab`);
  const system = await startSystem({
    nodes: 3,
    prefix: PREFIX,
    kubeconfig: args.kubeconfig,
    logDir,
    speakerArgsFor: args.bgp ? (node) => bgpSpeakerArgs(logDir, node) : undefined,
  });
  const progress = { exploring: false };
  let failed = true;
  try {
    if (!stop.aborted) await untilStopped(show(system, args, stop, progress), stop);
    failed = false;
  } finally {
    if (stop.aborted) say('tearing down the lab...');
    // Logs stay only after a failure, to read what went wrong.
    await system.teardown({ keepLogs: failed });
    if (failed) console.error(`the programs' logs are kept in ${system.logDir}`);
  }
  if (stop.aborted && !progress.exploring) {
    say(
      `\nstopped by ${String(stop.reason)} after ${((Date.now() - started) / 1000).toFixed(1)} s; the lab is removed.`,
    );
    return 128 + (os.constants.signals[stop.reason as NodeJS.Signals] ?? 0);
  }
  const hint = args.keep ? '' : ' Run `npm run lab -- --keep` to explore it.';
  say(`\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s; the lab is removed.${hint}`);
  return 0;
}

/** Resolves when `work` does or `stop` fires; `work` left running then may fail quietly (its lab is going away). */
async function untilStopped(work: Promise<void>, stop: AbortSignal): Promise<void> {
  work.catch(() => undefined);
  await Promise.race([
    work,
    new Promise<void>((resolve) => stop.addEventListener('abort', () => resolve(), { once: true })),
  ]);
}

async function show(
  system: LabSystem,
  args: DemoArgs,
  stop: AbortSignal,
  progress: { exploring: boolean },
): Promise<void> {
  describeNodes(system);
  say(
    args.kubeconfig
      ? `API server: yours (${args.kubeconfig}), reached from the lab through 192.0.2.1:6443`
      : 'API server: the in-process double (test/kube), reached from the lab at 192.0.2.1:6443',
  );
  say(`controller (1 process) and one speaker per node are running; logs in ${system.logDir}`);
  if (args.bgp) {
    const bgp = await startBgp(system);
    const ip = await showBgp(system, bgp);
    if (args.keep) {
      writeHostKubeconfig(system);
      exploreBgp(system, bgp, ip);
      await keepUntilStopped(stop, progress);
    }
    return;
  }

  step('2. Applying the samples');
  const ip = await applySamples(system);
  say(`\nThe controller assigned ${ip}  (status.loadBalancer.ingress of ${SERVICE_NAMESPACE}/web)`);
  await system.serveOnAllNodes(ip);
  say(
    `Every node has ${ip} on lo with arp_ignore=1 (kube-proxy IPVS strictARP): ` +
      `its kernel takes the traffic but never answers ARP; only the speaker does.`,
  );

  step('3. Who answers for it');
  const owner = await system.waitForAnswer(ip);
  say(`Lease ${SYSTEM_NAMESPACE}/${ipLeaseName(ip)} names the owner: ${owner} (MAC ${system.node(owner).mac})`);
  say(`$ ip netns exec ${system.lab.client} arping -c 2 ${ip}`);
  const arping = await system.lab.arping(ip, { count: 2 });
  say(arping.output.trimEnd().replace(/^/gm, '  '));
  const ping = await system.lab.ping(ip, { count: 3 });
  say(`ping ${ip}: ${ping.received}/3 replies`);

  step('4. Failover: the client pings at 100/s, then the owner dies');
  // The speakers judge each other on their UDP mesh once it has formed (a second or two after start).
  await system.waitForMesh();
  say(`the speakers hear each other on the liveness mesh (UDP 7947): a dead owner is noticed in about half a second`);
  say(`fault: ${FAULT_DESCRIPTIONS.kill}`);
  const sample = await measureFailover(system, ip, 'kill', {
    onFault: (old) => say(`killed the speaker on ${old}; waiting for another node to take over...`),
  });
  say(`new owner: ${sample.newOwner} (MAC ${system.node(sample.newOwner).mac})`);
  const row = (label: string, value: string) => say(`  ${label.padEnd(46)} ${value}`);
  row('first frame from the new owner at the client:', `${sample.firstFrameMs.toFixed(0)} ms after the kill`);
  row(`its gratuitous ARP claiming ${ip}:`, `${sample.firstClaimMs.toFixed(0)} ms after the kill`);
  row('first ping reply through the new owner:', `${sample.firstReplyMs.toFixed(0)} ms after the kill`);
  row('longest gap in ping replies (100/s):', `${sample.gapMs.toFixed(0)} ms`);
  say(
    "  (detection: the dead node's two mesh monitors miss 4 heartbeats of 100 ms " +
      "and agree it is dead; then one compare-and-swap on the IP's Lease)",
  );
  const neigh = await system.lab.neigh(ip);
  const asked =
    sample.clientRequests === 0
      ? 'moved by the announcement alone: the client sent no ARP request'
      : `the client sent ${sample.clientRequests} ARP request(s) of its own`;
  say(`$ ip netns exec ${system.lab.client} ip neigh show ${ip}`);
  say(`  ${ip} lladdr ${neigh?.mac ?? '?'} ${neigh?.state.join(',') ?? ''}  <- ${asked}`);

  if (args.keep) {
    explore(system, ip);
    await keepUntilStopped(stop, progress);
  }
}

async function keepUntilStopped(stop: AbortSignal, progress: { exploring: boolean }): Promise<void> {
  say(
    'Ctrl-C here (or SIGTERM to npm run lab) tears everything down. ' +
      'If this process is killed with -9 instead: npm run lab -- --down',
  );
  progress.exploring = true;
  await new Promise<void>((resolve) => stop.addEventListener('abort', () => resolve(), { once: true }));
}

/** The kubeconfig for kubectl on this host, in the log folder; its path. */
function writeHostKubeconfig(system: LabSystem): string {
  const file = path.join(system.logDir, 'kubeconfig-host');
  // Mode 600: it may hold the credentials of a real cluster.
  writeFileSync(file, system.kubeConfig.exportConfig(), { mode: 0o600 });
  return file;
}

function explore(system: LabSystem, ip: string): void {
  const client = system.lab.client;
  const hostKubeconfig = writeHostKubeconfig(system);
  step('The lab stays up. Try:');
  say(`  ip netns exec ${client} arping -c 3 ${ip}            # who answers (MAC)`);
  say(`  ip netns exec ${client} ping -c 3 ${ip}`);
  say(`  ip netns exec ${client} ip neigh                     # the client's neighbour table`);
  say(`  ip netns exec ${client} tcpdump -eni eth0 arp or icmp6`);
  say(`  kubectl --kubeconfig ${hostKubeconfig} get svc,lease -A`);
  say(`  kubectl --kubeconfig ${hostKubeconfig} -n ${SYSTEM_NAMESPACE} get ipaddresspools,l2advertisements`);
  say(`  kill -9 <pid>   # a speaker: ${[...system.speakers.entries()].map(([n, c]) => `${n}=${c.pid}`).join(' ')}`);
  say(`  logs: ${system.logDir}/*.log`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.error(
    'demo.js is run by test/lab/start.mjs: use `npm run lab` (it checks the tools, builds and owns the signals)',
  );
  process.exit(2);
}
