// arp-latency: in the lab, ARP request -> reply latency of our responder (the
// project's Responder in a Node process on the real packet socket) against the
// kernel answering for an address on its own interface, measured in the same
// run with requests interleaved; then the highest request rate each answers
// without loss. Needs root (network namespaces).
//
// Timing: a Node client in the client namespace (test/lab/arp-timer.ts) sends
// each request over the packet addon and times the reply with process.hrtime;
// client overhead is included and is the same for both targets.
import { createLab, type Lab } from '../lab/lab.js';
import { labScript, startAgent } from '../lab/agent.js';

const VIP = '192.0.2.200';
const SAMPLES = Number(process.env.ARP_BENCH_SAMPLES ?? 2000);
const GAP_MS = 2;
const RATES = [1000, 2000, 5000, 10_000, 20_000, 50_000];
const RATE_DURATION_MS = 1000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarise(samples: number[]): Record<string, number> {
  const s = [...samples].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    n: s.length,
    minUs: round(s[0] ?? NaN),
    p50Us: round(percentile(s, 50)),
    p90Us: round(percentile(s, 90)),
    p99Us: round(percentile(s, 99)),
    maxUs: round(s[s.length - 1] ?? NaN),
  };
}

async function timer(lab: Lab, args: string[]): Promise<Record<string, unknown>> {
  const out = await lab.exec(lab.client, [process.execPath, labScript('arp-timer.js'), ...args]);
  if (out.code !== 0) throw new Error(`arp-timer ${args.join(' ')} failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

interface RateStep {
  perSecond: number;
  sent: number;
  answered: number;
  achievedPerSecond: number;
  clientDrops: number;
}

/**
 * Raises the rate until a step loses replies. `stoppedBy` says whose limit
 * ended the climb: 'target' (replies missing, client kept up), 'client' (it
 * could not send at the rate or dropped replies itself: the target's real
 * limit is higher than reported), or 'none' (every tested rate passed).
 */
async function highestLossless(
  lab: Lab,
  target: string,
): Promise<{ perSecond: number; stoppedBy: string; steps: RateStep[] }> {
  const steps: RateStep[] = [];
  let best = 0;
  for (const perSecond of RATES) {
    const r = (await timer(lab, ['rate', target, String(perSecond), String(RATE_DURATION_MS)])) as unknown as Omit<
      RateStep,
      'perSecond'
    >;
    steps.push({ perSecond, ...r });
    const clientKeptUp = r.clientDrops === 0 && r.achievedPerSecond >= perSecond * 0.9;
    if (r.answered === r.sent && clientKeptUp) best = perSecond;
    else return { perSecond: best, stoppedBy: clientKeptUp ? 'target' : 'client', steps };
  }
  return { perSecond: best, stoppedBy: 'none', steps };
}

function byRate(steps: RateStep[]): Record<string, Omit<RateStep, 'perSecond'>> {
  return Object.fromEntries(steps.map(({ perSecond, ...rest }) => [`${perSecond}/s`, rest]));
}

export async function run(): Promise<object> {
  if (process.getuid?.() !== 0) throw new Error('arp-latency needs root: it builds network namespaces');
  const lab = await createLab({ nodes: 1 });
  try {
    const node = lab.node(1);
    await lab.addVip(node, VIP);
    const agent = await startAgent(lab, node);
    await agent.own(VIP);

    const latency = (await timer(lab, ['latency', String(SAMPLES), String(GAP_MS), VIP, node.ipv4])) as {
      rttUs: Record<string, number[]>;
      lost: Record<string, number>;
      clientDrops: number;
    };
    const ours = summarise(latency.rttUs[VIP] ?? []);
    const kernel = summarise(latency.rttUs[node.ipv4] ?? []);
    const oursRate = await highestLossless(lab, VIP);
    const kernelRate = await highestLossless(lab, node.ipv4);
    const stats = await agent.stats();
    return {
      method:
        `Node client on the packet addon, hrtime around send/receive; ` +
        `${SAMPLES} requests per target, interleaved, ${GAP_MS} ms apart`,
      responder: { ...ours, lost: latency.lost[VIP] ?? 0 },
      kernel: { ...kernel, lost: latency.lost[node.ipv4] ?? 0 },
      p50Ratio: Math.round((ours.p50Us! / kernel.p50Us!) * 100) / 100,
      p99Ratio: Math.round((ours.p99Us! / kernel.p99Us!) * 100) / 100,
      losslessPerSecond: {
        responder: oursRate.perSecond,
        responderStoppedBy: oursRate.stoppedBy,
        kernel: kernelRate.perSecond,
        kernelStoppedBy: kernelRate.stoppedBy,
        testedUpTo: RATES[RATES.length - 1],
      },
      // Keyed by rate (not arrays) so the runner's table shows every step.
      rateSteps: { responder: byRate(oursRate.steps), kernel: byRate(kernelRate.steps) },
      responderCounters: { arpRequests: stats.arpRequests, arpReplies: stats.arpReplies },
    };
  } finally {
    await lab.teardown();
  }
}
