// Speaker memory (root): resident set size of a real speaker process owning
// 1000 IPs (1000 Services through the API server double, one candidate node
// owning them all), against in the same run (a) the same speaker before any
// Service existed and (b) a second speaker that caches the same 1000 Services
// but owns none (its node carries the exclude-from-external-load-balancers label).
//
//   npm run bench -- memory            MEMORY_SERVICES=1000
import { readFileSync } from 'node:fs';
import { startSystem, waitFor, type LabSystem } from '../lab/system.js';
import { IP_LEASE_PREFIX } from '../../src/api/leases.js';
import { sleep } from '../wait.js';

const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
// Half IPv4, half IPv6, all documentation ranges away from the lab's own addresses.
const POOL = ['198.51.100.0/24', '203.0.113.0/24', '2001:db8::1:0-2001:db8::1:fff'];

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

/** Median of a few samples a second apart: one sample can catch a GC mid-way. */
async function settledRssMiB(pid: number, samples = 5): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    values.push(rssKiB(pid));
    await sleep(1000);
  }
  values.sort((a, b) => a - b);
  return Math.round((values[Math.floor(values.length / 2)]! / 1024) * 10) / 10;
}

function pidOf(system: LabSystem, node: string): number {
  const pid = system.speakers.get(node)?.pid;
  if (pid === undefined) throw new Error(`no speaker process on ${node}`);
  return pid;
}

async function countOwned(system: LabSystem, node: string): Promise<number> {
  const list = await system.leases.listNamespacedLease({ namespace: 'ironlb-system' });
  return list.items.filter((l) => l.metadata?.name?.startsWith(IP_LEASE_PREFIX) && l.spec?.holderIdentity === node)
    .length;
}

export async function run(): Promise<object> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    throw new Error('the memory benchmark needs root (network namespaces)');
  const text = process.env.MEMORY_SERVICES ?? '1000';
  const services = Number(text);
  if (!Number.isInteger(services) || services < 1 || services > 4000)
    throw new Error(`MEMORY_SERVICES must be a whole number 1..4000, got "${text}"`);
  const system = await startSystem({ nodes: 2 });
  try {
    const [owner, cacheOnly] = system.lab.nodes.map((n) => n.name) as [string, string];
    const node = await system.core.readNode({ name: cacheOnly });
    node.metadata = { ...node.metadata, labels: { ...node.metadata?.labels, [EXCLUDE_LABEL]: '' } };
    await system.core.replaceNode({ name: cacheOnly, body: node });
    await system.applyPool('memory', POOL);
    await system.applyAdvertisement('memory', { ipAddressPools: ['memory'] });
    await sleep(3000);
    const idle = {
      owner: await settledRssMiB(pidOf(system, owner)),
      cacheOnly: await settledRssMiB(pidOf(system, cacheOnly)),
    };

    const createStarted = Date.now();
    const names = Array.from({ length: services }, (_, i) => ({
      name: `mem-${i}`,
      family: i % 2 === 0 ? ('IPv4' as const) : ('IPv6' as const),
    }));
    for (let i = 0; i < names.length; i += 25)
      await Promise.all(names.slice(i, i + 25).map((spec) => system.createService(spec)));
    const owned = await waitFor(
      `${owner} to own ${services} IPs`,
      async () => {
        const count = await countOwned(system, owner);
        return count >= services ? count : undefined;
      },
      600_000,
      1000,
    );
    const ownAllSeconds = Math.round((Date.now() - createStarted) / 100) / 10;
    // The takeover announcements (3 rounds, 1.1 s apart) finish before measuring.
    await sleep(5000);
    const loaded = {
      owner: await settledRssMiB(pidOf(system, owner)),
      cacheOnly: await settledRssMiB(pidOf(system, cacheOnly)),
    };
    const cacheOnlyOwned = await countOwned(system, cacheOnly);
    return {
      services,
      ownedIps: owned,
      cacheOnlyOwnedIps: cacheOnlyOwned,
      secondsUntilAllOwned: ownAllSeconds,
      rssMiB: {
        ownerWith0: idle.owner,
        ownerWithAll: loaded.owner,
        cacheOnlyWith0Services: idle.cacheOnly,
        cacheOnlyWithAllServices: loaded.cacheOnly,
      },
      ratioOwnerAllVs0: Math.round((loaded.owner / idle.owner) * 100) / 100,
      /**
       * What owning (election state, responder, announcements, solicited-node groups) costs beyond caching the
       * Services.
       */
      perOwnedIpKiB: Math.round(((loaded.owner - loaded.cacheOnly) * 1024 * 10) / services) / 10,
    };
  } finally {
    await system.teardown();
  }
}
