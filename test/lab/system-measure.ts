// One measured failover in the system lab, as the client sees it: the client
// pings the VIP at 100/s while tcpdump records its interface; a fault hits the
// owner; the capture says when the first frame from the new owner arrived,
// when the first ping reply came through the new owner, and how long the
// longest silence between ping replies was.
import type { CapturedFrame } from './lab.js';
import { nodeLeaseName } from '../../src/api/leases.js';
import { echoReplySource, ethSource, startPing, waitFor, type LabSystem } from './system.js';
import { sleep } from '../wait.js';

export type FaultKind = 'kill' | 'term' | 'link';

export const FAULT_DESCRIPTIONS: Record<FaultKind, string> = {
  kill: 'kill -9 of the owner speaker, the node stops serving the VIP (node crash)',
  term: 'SIGTERM to the owner speaker, the node stops serving the VIP (drain / shutdown)',
  link: "the owner's link cut (ip link set eth0 down in its namespace)",
};

export interface FailoverSample {
  fault: FaultKind;
  oldOwner: string;
  newOwner: string;
  /** Fault -> first frame of any kind from the new owner's MAC at the client. */
  firstFrameMs: number;
  /** Fault -> first ARP or NA from the new owner that claims the VIP (its takeover announcement). */
  firstClaimMs: number;
  /** Fault -> first ping reply whose source MAC is the new owner's. */
  firstReplyMs: number;
  /** Longest interval between two consecutive ping replies at the client. */
  gapMs: number;
  /** ARP requests / NS the client itself sent for the VIP after the fault (0: the announcement alone moved it). */
  clientRequests: number;
  /**
   * What showed the fault did not take: the old owner still claimed the VIP
   * or still answered pings after it (undefined: it fell silent, as it must).
   */
  faultNotTaken?: string;
}

/** Frames from the old owner this long after the fault prove it still serves (earlier ones were in flight). */
const FAULT_GRACE_US = 50_000;

/** ms from the fault to the first frame at or after it that matches, or undefined when none did. */
function firstAfter(
  frames: CapturedFrame[],
  faultUs: number,
  match: (f: CapturedFrame) => boolean,
): number | undefined {
  const hit = frames.find((f) => f.timeUs >= faultUs && match(f));
  return hit === undefined ? undefined : (hit.timeUs - faultUs) / 1000;
}

function claims(frame: CapturedFrame, vip: string, mac: string): boolean {
  const d = frame.decoded;
  if (d?.ethSrc !== mac) return false;
  return d.kind === 'arp' ? d.spa === vip : d.kind === 'na' && d.target === vip;
}

function longestReplyGapMs(frames: CapturedFrame[]): number {
  const replies = frames.filter((f) => echoReplySource(f.data) !== undefined).map((f) => f.timeUs);
  let gap = 0;
  for (let i = 1; i < replies.length; i++) gap = Math.max(gap, replies[i]! - replies[i - 1]!);
  return gap / 1000;
}

export interface MeasureOptions {
  /** How long the client's pings run after they reach the new owner (default 1000 ms). */
  tailMs?: number;
  /**
   * Give up on a takeover after this long (default 120 s: the no-GARP baseline waits for the client's neighbour
   * timers).
   */
  timeoutMs?: number;
  /** Called right after the fault with the old owner (the demo prints progress). */
  onFault?: (oldOwner: string) => void;
}

/**
 * Runs one fault against the current owner of vip and measures it; then puts
 * the old node back (speaker restarted or link up, data plane restored) so
 * the next trial starts from three live nodes.
 */
export async function measureFailover(
  system: LabSystem,
  vip: string,
  fault: FaultKind,
  options: MeasureOptions = {},
): Promise<FailoverSample> {
  const { lab } = system;
  const oldOwner = await system.waitForOwner(vip);
  const oldNode = system.node(oldOwner);
  // The client starts out resolved to the current owner, as any busy client is.
  const warm = await lab.ping(vip, { count: 1 });
  if (warm.received !== 1) throw new Error(`the VIP ${vip} does not answer before the fault:\n${warm.output}`);

  const capture = await lab.startCapture(lab.client, 'arp or icmp or icmp6');
  const ping = startPing(lab, vip, 0.01);
  let faultAt = 0;
  let newOwner = '';
  try {
    await sleep(300);
    if (fault === 'link') {
      faultAt = Date.now();
      await lab.linkDown(oldNode);
    } else {
      faultAt = await system.killNode(oldOwner, fault === 'kill' ? 'SIGKILL' : 'SIGTERM', {
        dataPlane: 'drop',
        vips: [vip],
      });
    }
    options.onFault?.(oldOwner);
    newOwner = await system.waitForOwner(vip, { not: oldOwner, timeoutMs: options.timeoutMs ?? 120_000 });
    const newMac = system.node(newOwner).mac;
    await waitFor(
      `the client to reach ${vip} through ${newOwner}`,
      async () => ((await lab.neigh(vip))?.mac === newMac ? true : undefined),
      options.timeoutMs ?? 120_000,
      20,
    );
    await sleep(options.tailMs ?? 1000);
  } finally {
    await ping.stop();
  }
  const frames = await capture.stop();
  const newMac = system.node(newOwner).mac;
  const clientMac = await lab.macOf(lab.client, 'eth0');
  const faultUs = faultAt * 1000;
  const clientRequests = frames.filter((f) => {
    const d = f.decoded;
    if (f.timeUs < faultUs || d?.ethSrc !== clientMac) return false;
    return d.kind === 'arp' ? d.op === 1 && d.tpa === vip : d.kind === 'ns' && d.target === vip;
  }).length;
  const firstFrameMs = firstAfter(frames, faultUs, (f) => ethSource(f.data) === newMac);
  const firstClaimMs = firstAfter(frames, faultUs, (f) => claims(f, vip, newMac));
  const firstReplyMs = firstAfter(frames, faultUs, (f) => echoReplySource(f.data) === newMac);
  if (firstFrameMs === undefined || firstClaimMs === undefined || firstReplyMs === undefined) {
    const missing =
      firstFrameMs === undefined ? 'frame' : firstClaimMs === undefined ? 'ARP/NA claiming the VIP' : 'ping reply';
    throw new Error(`no ${missing} from the new owner ${newOwner} (${newMac}) reached the client after the fault`);
  }
  const oldMac = oldNode.mac;
  const late = frames.filter((f) => f.timeUs >= faultUs + FAULT_GRACE_US);
  const stillClaims = late.filter((f) => claims(f, vip, oldMac)).length;
  const stillServes = late.filter((f) => echoReplySource(f.data) === oldMac).length;
  const faultNotTaken =
    stillClaims + stillServes === 0
      ? undefined
      : `${oldOwner} (${oldMac}) still claimed the VIP ${stillClaims} times ` +
        `and answered ${stillServes} pings after the fault`;
  await restore(system, oldOwner, fault, vip);
  return {
    fault,
    oldOwner,
    newOwner,
    firstFrameMs,
    firstClaimMs,
    firstReplyMs,
    gapMs: longestReplyGapMs(frames),
    clientRequests,
    faultNotTaken,
  };
}

async function restore(system: LabSystem, oldOwner: string, fault: FaultKind, vip: string): Promise<void> {
  const node = system.node(oldOwner);
  if (fault === 'link') {
    await system.lab.linkUp(node);
    // Back on the wire, the old speaker renews its node Lease again.
    const before = (
      await system.leases
        .readNamespacedLease({ name: nodeLeaseName(oldOwner), namespace: 'ironlb-system' })
        .catch(() => undefined)
    )?.metadata?.resourceVersion;
    await waitFor(
      `${oldOwner} to renew its node Lease after its link came back`,
      async () => {
        const lease = await system.leases
          .readNamespacedLease({ name: nodeLeaseName(oldOwner), namespace: 'ironlb-system' })
          .catch(() => undefined);
        return lease !== undefined && lease.metadata?.resourceVersion !== before ? true : undefined;
      },
      60_000,
    );
    await system.waitForMesh();
    return;
  }
  await system.restoreDataPlane(node, [vip]);
  await system.restartSpeaker(oldOwner);
  await system.waitForMesh();
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}
