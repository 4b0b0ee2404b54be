// A small program run inside a lab node: it owns the IPs it is told to and
// answers ARP / Neighbor Solicitations for them over the real packet socket,
// announces on request and runs the RFC 5227 / DAD conflict probe.
//
//   node dist/test/lab/l2-agent.js --iface eth0
//
// Commands arrive as JSON lines on stdin, events leave as JSON lines on stdout:
//   {"op":"own","ip":"192.0.2.200"}      -> {"event":"owned","ip":...}
//   {"op":"release","ip":...}            -> {"event":"released","ip":...}
//   {"op":"announce","ip":...}           -> {"event":"announced","ip":...,"frames":n}
//   {"op":"probe","ip":...,"waitMs":n}   -> {"event":"probed","ip":...,"conflict":bool,"mac"?:...}
//   {"op":"stats"}                       -> {"event":"stats",...}
//   {"op":"record"} / {"op":"recorded"}  -> {"event":"recorded","frames":[{"hex","outgoing"}]}
//   {"op":"send","hex":...}              -> {"event":"sent"}
// plus {"event":"ready","mac":...} at start and {"event":"error",...} for socket errors.
//
// Until the project's announcer/responder land, the frames are built with the
// lab's own encoders (test/lab/frames.ts); the socket is the production one.
import { createInterface } from 'node:readline';
import { openPacketPort } from '../../src/l2/socket.js';
import type { RxFrame } from '../../src/l2/port.js';
import {
  BROADCAST,
  arpFrame,
  canonicalIp,
  decodeFrame,
  ipToBuffer,
  macToString,
  multicastMacFor,
  ndpFrame,
  solicitedNode,
  type WireFrame,
} from './frames.js';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const ifname = argValue('--iface') ?? 'eth0';
const port = openPacketPort(ifname);
// Read on every use: a recreated interface comes back with a new MAC.
const ourMac = () => macToString(port.mac);
const owned = new Set<string>();
const counters = { arpAnswered: 0, naAnswered: 0, errors: 0 };
/** Open probes: ip -> MAC of another host claiming it, once seen. */
const probes = new Map<string, { claimedBy?: string }>();

port.onError((err) => {
  counters.errors++;
  emit({ event: 'error', message: err.message });
});

function isV6(ip: string): boolean {
  return ip.includes(':');
}

function answer(frame: WireFrame): void {
  const mac = ourMac();
  if (frame.kind === 'arp') {
    if (frame.op !== 1 || !owned.has(frame.tpa)) return;
    if (frame.ethDst !== BROADCAST && frame.ethDst !== mac) return;
    port.send(arpFrame({ ethDst: frame.sha, ethSrc: mac, op: 2, sha: mac, spa: frame.tpa, tha: frame.sha, tpa: frame.spa }));
    counters.arpAnswered++;
    return;
  }
  if (frame.kind !== 'ns' || !owned.has(frame.target)) return;
  if (frame.ethDst !== mac && frame.ethDst !== multicastMacFor(solicitedNode(frame.target))) return;
  const dad = frame.srcIp === '::';
  port.send(
    ndpFrame({
      kind: 'na',
      ethSrc: mac,
      ethDst: dad ? '33:33:00:00:00:01' : (frame.sourceLla ?? frame.ethSrc),
      srcIp: frame.target,
      dstIp: dad ? 'ff02::1' : frame.srcIp,
      target: frame.target,
      router: false,
      solicited: !dad,
      override: true,
      targetLla: mac,
    }),
  );
  counters.naAnswered++;
}

function watchProbes(frame: WireFrame): void {
  if (frame.ethSrc === ourMac()) return;
  const claimed = frame.kind === 'arp' ? frame.spa : frame.kind === 'na' ? frame.target : undefined;
  const claimer = frame.kind === 'arp' ? frame.sha : frame.kind === 'na' ? (frame.targetLla ?? frame.ethSrc) : undefined;
  if (claimed === undefined) return;
  const probe = probes.get(claimed);
  if (probe && probe.claimedBy === undefined) probe.claimedBy = claimer;
}

let recording: Array<{ hex: string; outgoing: boolean }> | undefined;

port.onFrame((rx: RxFrame) => {
  recording?.push({ hex: rx.data.toString('hex'), outgoing: rx.outgoing });
  if (rx.outgoing) return;
  const frame = decodeFrame(rx.data);
  if (!frame) return;
  watchProbes(frame);
  answer(frame);
});

function announceFrames(ip: string): Buffer[] {
  const mac = ourMac();
  if (!isV6(ip)) {
    return [
      arpFrame({ ethDst: BROADCAST, ethSrc: mac, op: 1, sha: mac, spa: ip, tha: '00:00:00:00:00:00', tpa: ip }),
      arpFrame({ ethDst: BROADCAST, ethSrc: mac, op: 2, sha: mac, spa: ip, tha: mac, tpa: ip }),
    ];
  }
  return [
    ndpFrame({
      kind: 'na',
      ethSrc: mac,
      ethDst: '33:33:00:00:00:01',
      srcIp: ip,
      dstIp: 'ff02::1',
      target: ip,
      router: false,
      solicited: false,
      override: true,
      targetLla: mac,
    }),
  ];
}

function probeFrame(ip: string): Buffer {
  const mac = ourMac();
  if (!isV6(ip)) {
    return arpFrame({ ethDst: BROADCAST, ethSrc: mac, op: 1, sha: mac, spa: '0.0.0.0', tha: '00:00:00:00:00:00', tpa: ip });
  }
  const group = solicitedNode(ip);
  return ndpFrame({
    kind: 'ns',
    ethSrc: mac,
    ethDst: multicastMacFor(group),
    srcIp: '::',
    dstIp: group,
    target: ip,
    router: false,
    solicited: false,
    override: false,
  });
}

type Command = { op?: string; ip?: string; waitMs?: number; hex?: string };

async function handle(command: Command): Promise<void> {
  const ip = command.ip === undefined ? undefined : canonicalIp(command.ip);
  switch (command.op) {
    case 'own':
      if (!ip) throw new Error('own needs an ip');
      if (!owned.has(ip) && isV6(ip)) port.joinMulticast(ipToBuffer(solicitedNode(ip)));
      owned.add(ip);
      emit({ event: 'owned', ip });
      return;
    case 'release':
      if (!ip) throw new Error('release needs an ip');
      if (owned.delete(ip) && isV6(ip)) port.leaveMulticast(ipToBuffer(solicitedNode(ip)));
      emit({ event: 'released', ip });
      return;
    case 'announce': {
      if (!ip) throw new Error('announce needs an ip');
      const frames = announceFrames(ip);
      for (const f of frames) port.send(f);
      emit({ event: 'announced', ip, frames: frames.length });
      return;
    }
    case 'probe': {
      if (!ip) throw new Error('probe needs an ip');
      probes.set(ip, {});
      port.send(probeFrame(ip));
      await new Promise((r) => setTimeout(r, command.waitMs ?? 1000));
      const claimedBy = probes.get(ip)?.claimedBy;
      probes.delete(ip);
      emit({ event: 'probed', ip, conflict: claimedBy !== undefined, mac: claimedBy });
      return;
    }
    case 'record':
      recording = [];
      emit({ event: 'recording' });
      return;
    case 'recorded':
      emit({ event: 'recorded', frames: recording ?? [] });
      recording = undefined;
      return;
    case 'send':
      port.send(Buffer.from(command.hex ?? '', 'hex'));
      emit({ event: 'sent' });
      return;
    case 'stats':
      emit({ event: 'stats', ...counters, ...port.stats });
      return;
    default:
      throw new Error(`unknown op ${String(command.op)}`);
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === '') return;
  let command: Command;
  try {
    command = JSON.parse(line) as typeof command;
  } catch {
    emit({ event: 'error', message: `not JSON: ${line}` });
    return;
  }
  handle(command).catch((err: unknown) => emit({ event: 'error', message: err instanceof Error ? err.message : String(err) }));
});
process.stdin.on('end', () => {
  port.close();
  process.exit(0);
});
process.on('SIGTERM', () => {
  port.close();
  process.exit(0);
});

emit({ event: 'ready', mac: ourMac(), ifindex: port.ifindex, iface: ifname });
