// Controller benchmark: 10,000 LoadBalancer Services through the API server
// double, the controller running as its own process (node dist/controller/main.js)
// as in a cluster. Reports the time until all are assigned, API requests per
// Service, then restarts the controller: IPs changed (must be 0), time to resync.
// `npm run bench -- controller` (SERVICES=2000 for a quicker run).

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = join(here, '..', '..', 'controller', 'main.js');
const SYSTEM = 'ironlb-bench';
const APPS = 'bench-apps';

interface ServiceList {
  items: Array<{ metadata: { name: string }; status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function request(api: ApiServer, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function createServices(api: ApiServer, count: number, parallel = 64): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await request(api, 'POST', `/api/v1/namespaces/${APPS}/services`, {
        metadata: { name: `svc-${i}` },
        spec: {
          type: 'LoadBalancer',
          ipFamilyPolicy: 'SingleStack',
          ipFamilies: ['IPv6'],
          ports: [{ port: 80, protocol: 'TCP' }],
          selector: { app: `svc-${i}` },
        },
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

async function ipsByService(api: ApiServer): Promise<Map<string, string>> {
  const list = (await request(api, 'GET', `/api/v1/namespaces/${APPS}/services`)) as ServiceList;
  return new Map(
    list.items.map((s) => [s.metadata.name, (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).join(',')]),
  );
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function startControllerProcess(api: ApiServer, metricsPort: number): ChildProcess {
  // BENCH_CONTROLLER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the controller process.
  const nodeArgs = (process.env.BENCH_CONTROLLER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      MAIN,
      '--kubeconfig',
      api.kubeconfigPath,
      '--namespace',
      SYSTEM,
      '--leader-elect=false',
      '--metrics-port',
      String(metricsPort),
      '--identity',
      'bench',
    ],
    {
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

/** Sum of ironlb_api_requests_total, and of its write verbs, from the controller's /metrics. */
async function controllerRequests(metricsPort: number): Promise<{ total: number; writes: number }> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let total = 0;
  let writes = 0;
  for (const line of text.split('\n')) {
    const m = /^ironlb_api_requests_total\{verb="([a-z]+)",resource="[^"]*"\} (\d+(?:\.\d+)?)$/.exec(line);
    if (!m) continue;
    total += Number(m[2]);
    if (['create', 'update', 'patch', 'delete'].includes(m[1]!)) writes += Number(m[2]);
  }
  return { total, writes };
}

/** Sum of every series of one metric on the controller's /metrics. */
async function controllerCounter(metricsPort: number, metric: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${metric}{`) || line.startsWith(`${metric} `))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function ready(metricsPort: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

/** Wall time of starting the program and loading its modules (main.js --help), the floor of any restart. */
async function processStartMs(): Promise<number> {
  const t = performance.now();
  const child = spawn(process.execPath, [MAIN, '--help'], { stdio: 'ignore' });
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return performance.now() - t;
}

export async function run(): Promise<object> {
  const services = Number(process.env.SERVICES ?? 10_000);
  if (!Number.isInteger(services) || services < 1 || services > 60_000)
    throw new Error(`SERVICES must be 1..60000 (a /112 of IPv6), got ${process.env.SERVICES}`);
  const startFloorMs = await processStartMs();
  const api = await startApiServer({ historySize: services * 10, namespaces: [SYSTEM, APPS] });
  const children: ChildProcess[] = [];
  try {
    await request(api, 'POST', `/apis/ironlb.io/v1beta1/namespaces/${SYSTEM}/ipaddresspools`, {
      apiVersion: 'ironlb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'bench' },
      spec: { addresses: ['2001:db8::/112'] },
    });
    const port1 = await freePort();
    const first = startControllerProcess(api, port1);
    children.push(first);
    await waitUntil(() => ready(port1), 30_000, 50);

    const t0 = performance.now();
    await createServices(api, services);
    const createdMs = performance.now() - t0;
    // Cheap signal first (the controller's allocation counter), then the Services' status itself:
    // listing 10k Services every second would load the double more than the controller does.
    await waitUntil(
      async () => (await controllerCounter(port1, 'ironlb_allocations_total')) >= services,
      30 * 60_000,
      500,
    );
    await waitUntil(
      async () => [...(await ipsByService(api)).values()].filter((ip) => ip !== '').length === services,
      30 * 60_000,
      200,
    );
    const assignedMs = performance.now() - t0;
    const firstRequests = await controllerRequests(port1);
    const before = await ipsByService(api);
    const distinct = new Set(before.values()).size;

    await stopProcess(first);
    const port2 = await freePort();
    const t1 = performance.now();
    const second = startControllerProcess(api, port2);
    children.push(second);
    await waitUntil(() => ready(port2), 10 * 60_000, 20);
    const readyMs = performance.now() - t1;
    // Settled: the restarted controller has stopped writing for 2 s.
    let last = -1;
    for (;;) {
      await new Promise((r) => setTimeout(r, 2000));
      const { writes } = await controllerRequests(port2);
      if (writes === last) break;
      last = writes;
    }
    const settledMs = performance.now() - t1 - 2000;
    const secondRequests = await controllerRequests(port2);
    const after = await ipsByService(api);
    let changed = 0;
    for (const [name, ip] of before) if (after.get(name) !== ip) changed++;
    await stopProcess(second);

    return {
      services,
      firstRun: {
        createMs: Math.round(createdMs),
        allAssignedMs: Math.round(assignedMs),
        servicesPerSecond: Math.round(services / (assignedMs / 1000)),
        distinctIPs: distinct,
        apiRequestsPerService: firstRequests.total / services,
        apiWritesPerService: firstRequests.writes / services,
      },
      restart: {
        ipsChanged: changed,
        readyMs: Math.round(readyMs),
        processStartMs: Math.round(startFloorMs),
        settledMs: Math.round(settledMs),
        apiWrites: secondRequests.writes,
        apiRequests: secondRequests.total,
      },
      anchor: 'Cilium LB-IPAM: 50k Services in ~3 min',
    };
  } finally {
    for (const child of children) await stopProcess(child);
    await api.close();
  }
}
