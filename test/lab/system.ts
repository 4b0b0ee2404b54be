// The whole system in the network lab: the API server double (or a real API
// server through a relay) reachable from the node namespaces, the real
// controller process, one real speaker process per node namespace, and the
// Kubernetes objects that make them work. Used by test/e2e/system-*.test.ts,
// the `npm run lab` demo and the failover/memory benchmarks.
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1Lease,
  type V1Service,
} from '@kubernetes/client-node';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ipLeaseName } from '../../src/api/leases.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { installCrds } from '../kube/targets.js';
import { CannotStartError, createLab, run, type Lab, type LabNode } from './lab.js';
import { hostAndPort, labKubeconfig, serveSocket, startApiNamespace } from './system-api.js';
import { sleep } from '../wait.js';

export const SYSTEM_NAMESPACE = 'ironlb-system';
export const SERVICE_NAMESPACE = 'ironlb-demo';
/** Clear of the lab's own addresses (.1 host, .11+ nodes, .100 client). */
export const LAB_POOL = ['192.0.2.200-192.0.2.220', '2001:db8::c8-2001:db8::dc'];

export interface SystemOptions {
  nodes?: number;
  prefix?: string;
  /** Use this real API server instead of the double (reached from the lab through a relay on 192.0.2.1). */
  kubeconfig?: string;
  /** Extra speaker flags, e.g. ['--garp-rounds', '1']. */
  speakerArgs?: string[];
  /** Extra flags for one node's speaker (after speakerArgs), e.g. its own FRR socket folder. */
  speakerArgsFor?: (node: LabNode) => string[];
  /** Directory for process logs; default a temporary one removed at teardown. */
  logDir?: string;
}

export interface ServiceRef {
  namespace: string;
  name: string;
}

export interface ServiceSpec {
  name: string;
  family?: 'IPv4' | 'IPv6';
  namespace?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  externalTrafficPolicy?: 'Cluster' | 'Local';
}

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('system lab: cannot find the repository root (package.json)');
    dir = up;
  }
  return dir;
}

export function programPath(program: 'controller' | 'speaker'): string {
  const file = path.join(repoRoot(), 'dist', program, 'main.js');
  if (!existsSync(file)) throw new Error(`system lab: ${file} is missing; run \`npm run build\` first`);
  return file;
}

/** Thrown from a waitFor check to stop waiting at once (e.g. the awaited process died). */
export class GiveUp extends Error {}

/** Polls until check() gives a value (not undefined) or the time runs out; the error names what was awaited. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      // A missing tool never starts to work: say so now, not as a timeout.
      if (err instanceof GiveUp || err instanceof CannotStartError) throw err;
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}`,
      );
    await sleep(everyMs);
  }
}

export class LabSystem {
  readonly speakers = new Map<string, ChildProcess>();
  controller: ChildProcess | undefined;
  readonly core: CoreV1Api;
  readonly leases: CoordinationV1Api;
  readonly custom: CustomObjectsApi;
  private readonly cleanups: Array<() => Promise<void> | void> = [];

  constructor(
    readonly lab: Lab,
    /** Used by this process (the tests, the demo). */
    readonly kubeConfig: KubeConfig,
    /** Used by the controller and speakers; reachable from the node namespaces. */
    readonly kubeconfigPath: string,
    readonly logDir: string,
    readonly speakerArgs: string[],
    readonly api: ApiServer | undefined,
    readonly speakerArgsFor: (node: LabNode) => string[] = () => [],
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.leases = kubeConfig.makeApiClient(CoordinationV1Api);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  onTeardown(cleanup: () => Promise<void> | void): void {
    this.cleanups.push(cleanup);
  }

  node(name: string): LabNode {
    const node = this.lab.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no lab node named ${name} (have ${this.lab.nodes.map((n) => n.name).join(', ')})`);
    return node;
  }

  nodeByMac(mac: string): LabNode | undefined {
    return this.lab.nodes.find((n) => n.mac === mac.toLowerCase());
  }

  private logFd(name: string): number {
    return openSync(path.join(this.logDir, `${name}.log`), 'a');
  }

  /** The last lines a program logged, for failure messages. */
  logTail(name: string, lines = 20): string {
    const file = path.join(this.logDir, `${name}.log`);
    if (!existsSync(file)) return '';
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }

  startController(): ChildProcess {
    const fd = this.logFd('controller');
    // Runs in the client namespace (on the lab LAN, like a pod reaching its API
    // server), so removing the lab's namespaces ends it even after a crash.
    const args = [
      programPath('controller'),
      '--kubeconfig',
      this.kubeconfigPath,
      '--identity',
      `${this.lab.prefix}-controller`,
    ];
    const child = this.lab.spawn(this.lab.client, process.execPath, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.controller = child;
    return child;
  }

  startSpeaker(node: LabNode): ChildProcess {
    const fd = this.logFd(node.name);
    const args = [
      programPath('speaker'),
      '--node-name',
      node.name,
      '--kubeconfig',
      this.kubeconfigPath,
      '--interfaces',
      'eth0',
      '--liveness-address',
      node.ipv4,
      ...this.speakerArgs,
      ...this.speakerArgsFor(node),
    ];
    const child = this.lab.spawn(node.name, process.execPath, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.speakers.set(node.name, child);
    return child;
  }

  /**
   * Waits until the node's speaker process is up and ready (its /readyz: caches
   * synced, election synced). A node Lease alone is not enough: one left by a
   * killed speaker stays behind.
   */
  async waitForSpeaker(node: LabNode, timeoutMs = 60_000): Promise<void> {
    const started = this.speakers.get(node.name);
    await waitFor(
      `the speaker of ${node.name} to be ready\n${this.logTail(node.name)}`,
      async () => {
        if (started && (started.exitCode !== null || started.signalCode !== null)) {
          throw new GiveUp(
            `speaker of ${node.name} exited (${started.exitCode ?? started.signalCode}):\n${this.logTail(node.name)}`,
          );
        }
        const probe = await this.lab.exec(node.name, ['curl', '-sf', '-m', '2', 'http://127.0.0.1:7472/readyz']);
        return probe.code === 0 ? true : undefined;
      },
      timeoutMs,
      200,
    );
  }

  /**
   * Waits until every running speaker judges all its peers by the liveness
   * mesh (metric ironlb_speaker_lease_liveness 0): the mesh has formed, so a
   * fault is detected by it and not by the slow heartbeat Leases.
   */
  async waitForMesh(timeoutMs = 60_000): Promise<void> {
    for (const name of this.speakers.keys()) {
      await waitFor(
        `the speaker of ${name} to judge its peers by the mesh\n${this.logTail(name)}`,
        async () => {
          const metrics = await this.lab.exec(name, ['curl', '-sf', '-m', '2', 'http://127.0.0.1:7472/metrics']);
          return /^ironlb_speaker_lease_liveness 0$/m.test(metrics.stdout) ? true : undefined;
        },
        timeoutMs,
        200,
      );
    }
  }

  async applyPool(name: string, addresses: string[]): Promise<void> {
    await this.applyObject('ipaddresspools', 'IPAddressPool', name, { addresses });
  }

  async applyAdvertisement(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.applyObject('l2advertisements', 'L2Advertisement', name, spec);
  }

  /** Creates an ironlb.io/v1beta1 object in the system namespace (e.g. a BGPPeer); deleted at teardown. */
  async applyObject(plural: string, kind: string, name: string, spec: Record<string, unknown>): Promise<void> {
    const body = {
      apiVersion: 'ironlb.io/v1beta1',
      kind,
      metadata: { name, namespace: SYSTEM_NAMESPACE },
      spec,
    };
    await this.custom.createNamespacedCustomObject({
      group: 'ironlb.io',
      version: 'v1beta1',
      namespace: SYSTEM_NAMESPACE,
      plural,
      body,
    });
    this.onTeardown(() => this.deleteCustom(plural, name));
  }

  private async deleteCustom(plural: string, name: string): Promise<void> {
    await this.custom
      .deleteNamespacedCustomObject({
        group: 'ironlb.io',
        version: 'v1beta1',
        namespace: SYSTEM_NAMESPACE,
        plural,
        name,
      })
      .catch(() => undefined);
  }

  /** A LoadBalancer Service; the API server fills clusterIP(s) and ipFamilies as a real one does. */
  async createService(spec: ServiceSpec): Promise<ServiceRef> {
    const namespace = spec.namespace ?? SERVICE_NAMESPACE;
    const family = spec.family ?? 'IPv4';
    const body: V1Service = {
      metadata: { name: spec.name, namespace, annotations: spec.annotations, labels: spec.labels },
      spec: {
        type: 'LoadBalancer',
        ipFamilyPolicy: 'SingleStack',
        ipFamilies: [family],
        selector: { app: spec.name },
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
        externalTrafficPolicy: spec.externalTrafficPolicy,
      },
    };
    await this.core.createNamespacedService({ namespace, body });
    this.onTeardown(async () => {
      await this.core.deleteNamespacedService({ namespace, name: spec.name }).catch(() => undefined);
    });
    return { namespace, name: spec.name };
  }

  /** The Service's ingress IPs once the controller has written them. */
  async waitForIngress(service: ServiceRef, timeoutMs = 30_000): Promise<string[]> {
    return waitFor(
      `an ingress IP on Service ${service.namespace}/${service.name}\n${this.logTail('controller')}`,
      async () => {
        const svc = await this.core.readNamespacedService(service);
        const ips = (svc.status?.loadBalancer?.ingress ?? [])
          .map((i) => i.ip)
          .filter((ip): ip is string => typeof ip === 'string');
        return ips.length > 0 ? ips : undefined;
      },
      timeoutMs,
    );
  }

  /** Makes every node accept traffic for ip (the kube-proxy data plane: the VIP on lo). */
  async serveOnAllNodes(ip: string): Promise<void> {
    for (const node of this.lab.nodes) await this.lab.addVip(node, ip);
  }

  async ownershipLease(ip: string): Promise<V1Lease | undefined> {
    return this.leases
      .readNamespacedLease({ name: ipLeaseName(ip), namespace: SYSTEM_NAMESPACE })
      .catch(() => undefined);
  }

  /** The node named by the ownership Lease of ip, or undefined while nobody holds it. */
  async ownerOf(ip: string): Promise<string | undefined> {
    const holder = (await this.ownershipLease(ip))?.spec?.holderIdentity;
    return holder ? holder : undefined;
  }

  /** Waits for an owner (other than `not`, when given). */
  async waitForOwner(ip: string, options: { not?: string; timeoutMs?: number } = {}): Promise<string> {
    return waitFor(
      `an owner of ${ip}${options.not ? ` other than ${options.not}` : ''}`,
      async () => {
        const owner = await this.ownerOf(ip);
        return owner !== undefined && owner !== options.not ? owner : undefined;
      },
      options.timeoutMs ?? 30_000,
    );
  }

  /**
   * Waits until the client gets an answer for ip from the owner's MAC. The
   * ownership Lease is written before the owner's conflict probe, during which
   * nobody answers yet.
   */
  async waitForAnswer(ip: string, timeoutMs = 30_000): Promise<string> {
    return waitFor(
      `the owner of ${ip} to answer the client`,
      async () => {
        const owner = await this.ownerOf(ip);
        if (owner === undefined) return undefined;
        const macs = ip.includes(':')
          ? (await this.lab.ndisc6(ip)).macs
          : (await this.lab.arping(ip, { count: 1, timeoutS: 1 })).macs;
        return macs.includes(this.node(owner).mac) ? owner : undefined;
      },
      timeoutMs,
    );
  }

  /**
   * Stops a node's speaker with a signal. With `dataPlane: 'drop'` the node
   * also stops accepting traffic for the given VIPs (removed from lo), as when
   * the whole node goes away; 'keep' leaves its data plane serving.
   * Returns the wall-clock time (ms) the signal was sent.
   */
  async killNode(
    name: string,
    signal: NodeJS.Signals,
    options: { dataPlane?: 'keep' | 'drop'; vips?: string[] } = {},
  ): Promise<number> {
    const node = this.node(name);
    const child = this.speakers.get(name);
    if (!child) throw new Error(`no speaker running on ${name}`);
    const exited =
      child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((r) => child.once('exit', () => r()));
    const at = Date.now();
    child.kill(signal);
    if (options.dataPlane === 'drop') await this.dropDataPlane(node, options.vips ?? []);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    this.speakers.delete(name);
    return at;
  }

  async dropDataPlane(node: LabNode, vips: string[]): Promise<void> {
    for (const ip of vips)
      await run('ip', ['-n', node.name, 'addr', 'del', ip.includes(':') ? `${ip}/128` : `${ip}/32`, 'dev', 'lo'], true);
  }

  async restoreDataPlane(node: LabNode, vips: string[]): Promise<void> {
    for (const ip of vips)
      await run('ip', ['-n', node.name, 'addr', 'replace', ip.includes(':') ? `${ip}/128` : `${ip}/32`, 'dev', 'lo']);
  }

  /** Starts the node's speaker again (after killNode) and waits until it is live. */
  async restartSpeaker(name: string): Promise<void> {
    const node = this.node(name);
    const old = this.speakers.get(name);
    if (old && old.exitCode === null && old.signalCode === null) await this.lab.kill(old, 'SIGKILL');
    this.startSpeaker(node);
    await this.waitForSpeaker(node);
  }

  /** Kills every process it started, deletes what it created, removes every namespace by name. Never throws. */
  async teardown(options: { keepLogs?: boolean } = {}): Promise<void> {
    // Processes first: a speaker must not race the deletion of its Leases.
    for (const child of [...this.speakers.values(), this.controller]) {
      if (child) await this.lab.kill(child, 'SIGKILL').catch(() => undefined);
    }
    for (const cleanup of this.cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // best effort: the namespaces go below whatever happened here
      }
    }
    await this.lab.teardown();
    if (!options.keepLogs) rmSync(this.logDir, { recursive: true, force: true });
  }
}

async function ensureNamespace(core: CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
}

/** Node objects named like the lab nodes, Linux, Ready (as kubelet would register them). */
async function registerNodes(system: LabSystem): Promise<void> {
  for (const node of system.lab.nodes) {
    await system.core.createNode({
      body: {
        metadata: { name: node.name, labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': node.name } },
      },
    });
    system.onTeardown(async () => {
      await system.core.deleteNode({ name: node.name }).catch(() => undefined);
    });
    const current = await system.core.readNode({ name: node.name });
    const now = new Date();
    current.status = {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'lab node',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
      ],
      addresses: [
        { type: 'InternalIP', address: node.ipv4 },
        { type: 'InternalIP', address: node.ipv6 },
      ],
    };
    await system.core.replaceNodeStatus({ name: node.name, body: current });
  }
}

/**
 * Builds the lab, starts the API server (the double, or a real one given by
 * kubeconfig) behind the relay at 192.0.2.1:6443, registers the nodes, and
 * starts the controller and one speaker per node. Pools, advertisements and
 * Services are the caller's.
 */
export async function startSystem(options: SystemOptions = {}): Promise<LabSystem> {
  const lab = await createLab({ nodes: options.nodes ?? 3, prefix: options.prefix });
  const logDir = options.logDir ?? path.join(os.tmpdir(), `${lab.prefix}-logs`);
  mkdirSync(logDir, { recursive: true });
  const undo: Array<() => Promise<void>> = [];
  let system: LabSystem | undefined;
  try {
    let kubeConfig: KubeConfig;
    let api: ApiServer | undefined;
    if (options.kubeconfig) {
      kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(options.kubeconfig);
      await installCrds(kubeConfig);
    } else {
      // Its kubeconfig folder goes in the log folder, so removing the lab's folders removes it.
      const double = await startApiServer({ namespaces: [SYSTEM_NAMESPACE], tempDir: logDir });
      undo.push(() => double.close());
      api = double;
      kubeConfig = double.kubeConfig;
    }
    const server = kubeConfig.getCurrentCluster()?.server;
    if (!server) throw new Error('kubeconfig has no current cluster');
    const target = hostAndPort(server);
    const socketPath = path.join(logDir, 'api.sock');
    rmSync(socketPath, { force: true });
    const relay = await serveSocket(socketPath, target.host, target.port);
    undo.push(() => relay.close());
    const apiNamespace = await startApiNamespace(lab, socketPath);
    undo.push(async () => {
      await run('ip', ['netns', 'del', apiNamespace], true);
    });
    const kubeconfigPath = path.join(logDir, 'kubeconfig');
    labKubeconfig(kubeConfig, kubeconfigPath, api !== undefined);

    system = new LabSystem(
      lab,
      kubeConfig,
      kubeconfigPath,
      logDir,
      options.speakerArgs ?? [],
      api,
      options.speakerArgsFor,
    );
    const started = system;
    // Run after the processes die and the objects go (cleanups run last-first).
    for (const step of undo.splice(0)) started.onTeardown(step);
    await ensureNamespace(started.core, SYSTEM_NAMESPACE);
    await ensureNamespace(started.core, SERVICE_NAMESPACE);
    await registerNodes(started);
    started.startController();
    for (const node of lab.nodes) started.startSpeaker(node);
    for (const node of lab.nodes) await started.waitForSpeaker(node);
    return started;
  } catch (err) {
    if (system) await system.teardown({ keepLogs: true });
    else {
      for (const step of undo.reverse()) await step().catch(() => undefined);
      await lab.teardown();
    }
    throw err;
  }
}

/** A frame's Ethernet source, and what it is when it is an ICMP echo reply (v4 type 0, v6 type 129). */
export function echoReplySource(data: Buffer): string | undefined {
  if (data.length < 14) return undefined;
  const type = data.readUInt16BE(12);
  const src = [...data.subarray(6, 12)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  if (type === 0x0800 && data.length >= 34) {
    const ihl = (data[14]! & 0x0f) * 4;
    return data[23] === 1 && data[14 + ihl] === 0 ? src : undefined;
  }
  if (type === 0x86dd && data.length >= 55) return data[20] === 58 && data[54] === 129 ? src : undefined;
  return undefined;
}

export function ethSource(data: Buffer): string {
  return [...data.subarray(6, 12)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export interface PingRun {
  /** Stops the pings (SIGINT) and returns when ping has exited. */
  stop(): Promise<void>;
}

/** Continuous pings from the client; replies are read from a capture, so output is discarded. */
export function startPing(lab: Lab, ip: string, intervalS = 0.01): PingRun {
  const child = lab.spawn(lab.client, 'ping', ['-n', '-q', '-i', String(intervalS), '-W', '1', ip], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  return { stop: () => lab.kill(child, 'SIGINT') };
}
