// A link flap of the owner, judged at the client: the client broadcasts an ARP
// request for the VIP every 20 ms (so every speaker hears each one) while
// tcpdump records the client's interface; the owner's eth0 goes down for a
// while and comes back. From the capture: whether any request after link-up
// was answered by two MACs (and for how long that lasted), and how soon after
// link-up the VIP was answered again.
import { labScript } from './agent.js';
import { nodeLeaseName } from '../../src/api/leases.js';
import { ethSource, waitFor, type LabSystem } from './system.js';
import type { CapturedFrame } from './lab.js';
import { sleep } from '../wait.js';

export interface LinkFlapSample {
  owner: string;
  downMs: number;
  /** The ownership Lease's holder once things settled. */
  holderAfter: string;
  /** The only MAC answering the last requests of the capture (undefined: none or several). */
  answeringAtEnd: string | undefined;
  /** Requests after link-up answered by more than one MAC. */
  doubleAnswered: number;
  /** From the first to the last doubly answered request, plus one request interval (0 when none). */
  doubleAnswerMs: number;
  /** Link-up -> first ARP reply for the VIP from the holder after it (undefined: none came). */
  resumeMs: number | undefined;
}

const PROBE_INTERVAL_MS = 20;
/** A blip the owner must ride out: shorter than the mesh's detection time (4 x 100 ms at the defaults). */
export const SHORT_FLAP_MS = 250;

/** Per ARP request the client sent after `fromUs`: the MACs whose replies came before the next request. */
export function answersPerRequest(
  frames: CapturedFrame[],
  vip: string,
  clientMac: string,
  fromUs: number,
): { timeUs: number; macs: Set<string> }[] {
  const rounds: { timeUs: number; macs: Set<string> }[] = [];
  for (const frame of frames) {
    const d = frame.decoded;
    if (d?.kind !== 'arp') continue;
    if (d.op === 1 && d.ethSrc === clientMac && d.tpa === vip) {
      if (frame.timeUs >= fromUs) rounds.push({ timeUs: frame.timeUs, macs: new Set() });
    } else if (d.op === 2 && d.spa === vip && d.tha === clientMac && rounds.length > 0) {
      // Answers to the client only: a gratuitous reply (target = sender) answers no request.
      rounds[rounds.length - 1]!.macs.add(d.sha);
    }
  }
  return rounds;
}

/**
 * Takes the owner of `vip` off the wire for `downMs` and measures what the
 * client sees after the link comes back. `settleMs`: how long the client
 * keeps asking after link-up.
 */
export async function measureLinkFlap(
  system: LabSystem,
  vip: string,
  downMs: number,
  settleMs = 5000,
): Promise<LinkFlapSample> {
  const { lab } = system;
  const owner = await system.waitForAnswer(vip);
  const node = system.node(owner);
  const clientMac = await lab.macOf(lab.client, 'eth0');
  const capture = await lab.startCapture(lab.client, 'arp');
  // Broadcast requests from the client's own IP and MAC (arping paces in whole seconds only).
  const prober = lab.spawn(lab.client, process.execPath, [
    labScript('arp-timer.js'),
    'probe',
    vip,
    String(PROBE_INTERVAL_MS),
  ]);
  let upAt = 0;
  try {
    await sleep(300);
    await lab.linkDown(node);
    await sleep(downMs);
    upAt = Date.now();
    await lab.linkUp(node);
    await sleep(settleMs);
  } finally {
    await lab.kill(prober, 'SIGINT');
  }
  const frames = await capture.stop();
  const holderAfter = await waitFor(`a holder of ${vip}`, () => system.ownerOf(vip));
  const rounds = answersPerRequest(frames, vip, clientMac, upAt * 1000);
  if (rounds.length === 0)
    throw new Error(`the client sent no ARP request for ${vip} after link-up: is the prober running?`);
  const doubles = rounds.filter((r) => r.macs.size > 1);
  const doubleAnswerMs =
    doubles.length === 0 ? 0 : (doubles[doubles.length - 1]!.timeUs - doubles[0]!.timeUs) / 1000 + PROBE_INTERVAL_MS;
  const holderMac = system.node(holderAfter).mac;
  const firstReply = frames.find(
    (f) =>
      f.timeUs >= upAt * 1000 &&
      f.decoded?.kind === 'arp' &&
      f.decoded.op === 2 &&
      f.decoded.spa === vip &&
      ethSource(f.data) === holderMac,
  );
  const tail = rounds.slice(-10).filter((r) => r.macs.size > 0);
  const lastMacs = new Set(tail.flatMap((r) => [...r.macs]));
  return {
    owner,
    downMs,
    holderAfter,
    answeringAtEnd: lastMacs.size === 1 ? [...lastMacs][0] : undefined,
    doubleAnswered: doubles.length,
    doubleAnswerMs,
    resumeMs: firstReply === undefined ? undefined : firstReply.timeUs / 1000 - upAt,
  };
}

/** Waits until every node's speaker has renewed its node Lease after this call (they are all back on the API). */
export async function waitForEveryRenewal(system: LabSystem, timeoutMs = 60_000): Promise<void> {
  const read = (node: string) =>
    system.leases.readNamespacedLease({ name: nodeLeaseName(node), namespace: 'ironlb-system' }).then(
      (l) => l.metadata?.resourceVersion,
      () => undefined,
    );
  await Promise.all(
    system.lab.nodes.map(async (node) => {
      const before = await read(node.name);
      await waitFor(
        `${node.name} to renew its node Lease`,
        async () => {
          const now = await read(node.name);
          return now !== undefined && now !== before ? true : undefined;
        },
        timeoutMs,
      );
    }),
  );
}
