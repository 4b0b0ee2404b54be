// Failover in the lab (root): the real controller and 3 real speakers with
// their default timings, one IPv4 Service, the client pinging its IP at
// 100/s. Faults: kill -9 of the owner, SIGTERM of the owner, and the owner's
// link cut; FAILOVER_TRIALS (default 10) of each. Baseline in the same run:
// kill -9 with no gratuitous ARP reaching the client (broadcast flooding to
// the client's bridge port turned off), so the client only moves when its own
// neighbour timers expire — what the announcement buys. Link flaps of the
// owner (linkFlap): FAILOVER_FLAP_TRIALS 10 s flaps (the others take over
// meanwhile) and as many 250 ms flaps (the owner keeps its IP), judged by the
// client's capture of its own ARP requests: how long after link-up two MACs
// answered one request, and how soon the owner that kept its IP answered again.
//
//   npm run bench -- failover         FAILOVER_TRIALS=10 FAILOVER_BASELINE_TRIALS=3 FAILOVER_FLAP_TRIALS=10
//   FAILOVER_PARTS=kill,term,link,flap,baseline   (a subset; default all)
//   FAILOVER_SPEAKER_ARGS="--heartbeat-interval 250ms --lease-duration 1s"  (tuned timings)
import { run as runCommand } from '../lab/lab.js';
import { SHORT_FLAP_MS, measureLinkFlap, waitForEveryRenewal, type LinkFlapSample } from '../lab/link-flap.js';
import {
  FAULT_DESCRIPTIONS,
  measureFailover,
  percentile,
  type FailoverSample,
  type FaultKind,
} from '../lab/system-measure.js';
import { LAB_POOL, startSystem, type LabSystem } from '../lab/system.js';

function countFromEnv(name: string, fallback: number, min: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be a whole number >= ${min}, got "${text}"`);
  return value;
}

interface Summary {
  trials: number;
  /** Trials whose fault did not take (the old owner went on claiming or serving), left out of the figures. */
  rejected: number;
  /** Trials in which the client sent its own ARP request for the VIP after the fault. */
  trialsWhereClientAsked: number;
  claimP50Ms: number;
  claimP95Ms: number;
  gapP50Ms: number;
  gapP95Ms: number;
  replyP50Ms: number;
  replyP95Ms: number;
  gapMinMs: number;
  gapMaxMs: number;
}

function summarise(all: FailoverSample[]): Summary {
  const samples = all.filter((s) => s.faultNotTaken === undefined);
  const ms = (values: number[], p: number) => Math.round(percentile(values, p));
  const gaps = samples.map((s) => s.gapMs);
  return {
    trials: samples.length,
    rejected: all.length - samples.length,
    trialsWhereClientAsked: samples.filter((s) => s.clientRequests > 0).length,
    claimP50Ms: ms(
      samples.map((s) => s.firstClaimMs),
      50,
    ),
    claimP95Ms: ms(
      samples.map((s) => s.firstClaimMs),
      95,
    ),
    gapP50Ms: ms(gaps, 50),
    gapP95Ms: ms(gaps, 95),
    replyP50Ms: ms(
      samples.map((s) => s.firstReplyMs),
      50,
    ),
    replyP95Ms: ms(
      samples.map((s) => s.firstReplyMs),
      95,
    ),
    gapMinMs: Math.round(Math.min(...gaps)),
    gapMaxMs: Math.round(Math.max(...gaps)),
  };
}

async function trials(
  system: LabSystem,
  vip: string,
  fault: FaultKind,
  count: number,
  label: string = fault,
): Promise<FailoverSample[]> {
  const samples: FailoverSample[] = [];
  for (let i = 1; i <= count; i++) {
    const sample = await measureFailover(system, vip, fault, { tailMs: 500 });
    samples.push(sample);
    const verdict =
      sample.faultNotTaken === undefined ? '' : ` REJECTED: the fault did not take: ${sample.faultNotTaken}`;
    process.stderr.write(
      `failover ${label} ${i}/${count}: ${sample.oldOwner} -> ${sample.newOwner}, ` +
        `claim ${sample.firstClaimMs.toFixed(0)} ms, ` +
        `reply ${sample.firstReplyMs.toFixed(0)} ms, ` +
        `gap ${sample.gapMs.toFixed(0)} ms${verdict}\n`,
    );
  }
  return samples;
}

const FLAP_LONG_MS = 10_000;
const FLAP_SHORT_MS = SHORT_FLAP_MS;

async function linkFlaps(system: LabSystem, vip: string, count: number): Promise<object> {
  const long: LinkFlapSample[] = [];
  const short: LinkFlapSample[] = [];
  for (const [downMs, into] of [
    [FLAP_LONG_MS, long],
    [FLAP_SHORT_MS, short],
  ] as const) {
    for (let i = 1; i <= count; i++) {
      const sample = await measureLinkFlap(system, vip, downMs, downMs === FLAP_LONG_MS ? 6000 : 3000);
      into.push(sample);
      process.stderr.write(
        `link flap ${downMs} ms ${i}/${count}: ${sample.owner} -> ${sample.holderAfter}, ` +
          `double-answered requests ${sample.doubleAnswered} (${sample.doubleAnswerMs.toFixed(0)} ms), ` +
          `resume ${sample.resumeMs?.toFixed(0) ?? '-'} ms\n`,
      );
      await waitForEveryRenewal(system);
    }
  }
  const all = [...long, ...short];
  // Resume counts only where the owner kept its IP (a short flap should always keep it).
  const resumes = short.filter((s) => s.holderAfter === s.owner && s.resumeMs !== undefined).map((s) => s.resumeMs!);
  return {
    flaps: all.length,
    longDownMs: FLAP_LONG_MS,
    shortDownMs: FLAP_SHORT_MS,
    doubleAnswerMaxMs: Math.round(Math.max(...all.map((s) => s.doubleAnswerMs))),
    doubleAnsweredRequests: all.reduce((n, s) => n + s.doubleAnswered, 0),
    longFlapsTakenOver: long.filter((s) => s.holderAfter !== s.owner).length,
    shortFlapsKept: short.filter((s) => s.holderAfter === s.owner).length,
    resumeP50Ms: Math.round(percentile(resumes, 50)),
    resumeP95Ms: Math.round(percentile(resumes, 95)),
    resumeSamplesMs: resumes.map((r) => Math.round(r)),
  };
}

/**
 * Stops broadcasts reaching the client (so no gratuitous ARP does); nodes get a static entry for the client so they can
 * still answer it.
 */
async function blockAnnouncements(system: LabSystem, on: boolean): Promise<void> {
  const { lab } = system;
  await runCommand('ip', [
    'netns',
    'exec',
    lab.lan,
    'bridge',
    'link',
    'set',
    'dev',
    'client',
    'bcast_flood',
    on ? 'off' : 'on',
  ]);
  const clientMac = await lab.macOf(lab.client, 'eth0');
  for (const node of lab.nodes) {
    if (on)
      await runCommand('ip', [
        '-n',
        node.name,
        'neigh',
        'replace',
        '192.0.2.100',
        'lladdr',
        clientMac,
        'dev',
        'eth0',
        'nud',
        'permanent',
      ]);
    else await runCommand('ip', ['-n', node.name, 'neigh', 'del', '192.0.2.100', 'dev', 'eth0'], true);
  }
}

export async function run(): Promise<object> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    throw new Error('the failover benchmark needs root (network namespaces)');
  const count = countFromEnv('FAILOVER_TRIALS', 10, 1);
  const baselineCount = countFromEnv('FAILOVER_BASELINE_TRIALS', 3, 0);
  const flapCount = countFromEnv('FAILOVER_FLAP_TRIALS', 10, 1);
  const parts = new Set((process.env.FAILOVER_PARTS ?? 'kill,term,link,flap,baseline').split(',').map((p) => p.trim()));
  for (const part of parts)
    if (!['kill', 'term', 'link', 'flap', 'baseline'].includes(part))
      throw new Error(`FAILOVER_PARTS: unknown part "${part}"`);
  const started = Date.now();
  const speakerArgs = (process.env.FAILOVER_SPEAKER_ARGS ?? '').split(/\s+/).filter((arg) => arg !== '');
  const system = await startSystem({ nodes: 3, speakerArgs });
  let succeeded = false;
  try {
    await system.applyPool('bench', LAB_POOL);
    await system.applyAdvertisement('bench', { ipAddressPools: ['bench'] });
    const [vip] = await system.waitForIngress(await system.createService({ name: 'bench', family: 'IPv4' }), 60_000);
    await system.serveOnAllNodes(vip!);
    await system.waitForMesh();

    const results: Record<string, Summary> = {};
    const raw: Record<string, FailoverSample[]> = {};
    for (const fault of ['kill', 'term', 'link'] as const) {
      if (!parts.has(fault)) continue;
      raw[fault] = await trials(system, vip!, fault, count);
      results[fault] = summarise(raw[fault]);
    }
    const linkFlap = parts.has('flap') ? await linkFlaps(system, vip!, flapCount) : undefined;
    let baseline: Summary | undefined;
    if (baselineCount > 0 && parts.has('baseline')) {
      await blockAnnouncements(system, true);
      try {
        raw.killNoGarp = await trials(system, vip!, 'kill', baselineCount, 'kill-no-garp');
      } finally {
        await blockAnnouncements(system, false);
      }
      baseline = summarise(raw.killNoGarp);
    }
    const timings = speakerArgs.length > 0 ? 'tuned' : 'defaults';
    const defaultTimings =
      'defaults (liveness mesh 100 ms x 4, heartbeat Lease 10s/40s, stagger 150ms, 3 GARP rounds 1.1s apart)';
    const byFault = { kill9: results.kill, sigterm: results.term, linkCut: results.link };
    const result = {
      setup:
        `3 nodes, speaker ${speakerArgs.length > 0 ? speakerArgs.join(' ') : defaultTimings}; ` +
        'client pings the VIP every 10 ms',
      faults: FAULT_DESCRIPTIONS,
      measures: {
        firstClaimMs: "fault -> first ARP from the new owner claiming the VIP, at the client's tcpdump",
        firstReplyMs: 'fault -> first ping reply whose source MAC is the new owner',
        gapMs: 'longest interval between consecutive ping replies',
        percentiles: 'nearest rank',
      },
      [timings]: byFault,
      linkFlap,
      baseline: baseline && {
        situation:
          'kill -9 of the owner with every broadcast kept from the client: it moves only when its own neighbour ' +
          'entry for the VIP goes stale and it asks (Linux defaults: reachable 30 s +- 50%, then delay 5 s)',
        ...baseline,
      },
      garpSpeedup:
        baseline && results.kill
          ? { gapP50: Number((baseline.gapP50Ms / results.kill.gapP50Ms).toFixed(1)) }
          : undefined,
      anchors: 'MetalLB ~3-4 s, kube-vip ~3-17 s, Cilium 10-20 s, keepalived 3.5 s',
      samples: Object.fromEntries(
        Object.entries(raw).map(([k, v]) => [
          k,
          v.map((s) => `${s.firstClaimMs.toFixed(0)}/${s.firstReplyMs.toFixed(0)}/${s.gapMs.toFixed(0)}`).join(' '),
        ]),
      ),
      wallSeconds: Math.round((Date.now() - started) / 1000),
    };
    succeeded = true;
    return result;
  } finally {
    // A failed run keeps the programs' logs to find out why.
    await system.teardown({ keepLogs: !succeeded });
    if (!succeeded) process.stderr.write(`failover: logs kept in ${system.logDir}\n`);
  }
}
