// ARP request -> reply timing from the lab client, over the project's packet
// socket (run inside the client namespace by test/bench/arp-latency.ts).
// Times are taken with process.hrtime in this Node process: just before
// send() and when the reply frame is delivered to JS, so they include this
// client's own event-loop overhead, the same for every target.
//
//   node arp-timer.js latency <count> <gapMs> <target>...   (targets interleaved, one request outstanding)
//   node arp-timer.js rate <target> <perSecond> <durationMs>
//   node arp-timer.js probe <target> <intervalMs>   (one broadcast request per interval until SIGINT/SIGTERM;
//                                                    arping takes whole seconds only)
// Prints one JSON line.
import { openPacketSocket } from '../../src/l2/socket.js';
import { listInterfaces } from '../../src/l2/interfaces.js';
import { arpFrame, BROADCAST, decodeFrame, macToString } from './frames.js';
import { sleep } from '../wait.js';

const IFACE = 'eth0';
const REPLY_TIMEOUT_MS = 200;

const socket = openPacketSocket(IFACE);
const mac = macToString(socket.mac);
const ownIp = listInterfaces()
  .find((i) => i.name === IFACE)
  ?.addresses.find((a) => a.family === 'IPv4')?.address;
if (!ownIp) throw new Error(`${IFACE} has no IPv4 address`);

const request = (target: string) =>
  arpFrame({ ethDst: BROADCAST, ethSrc: mac, op: 1, sha: mac, spa: ownIp, tha: '00:00:00:00:00:00', tpa: target });

/** Calls back with the sender IP of every ARP reply addressed to us. */
function onReply(listener: (from: string) => void): void {
  socket.onFrame((rx) => {
    if (rx.outgoing) return;
    const f = decodeFrame(rx.data);
    if (f?.kind === 'arp' && f.op === 2 && f.tpa === ownIp && f.tha === mac) listener(f.spa);
  });
}

async function latency(count: number, gapMs: number, targets: string[]): Promise<object> {
  const rttUs: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t, []]));
  const lost: Record<string, number> = Object.fromEntries(targets.map((t) => [t, 0]));
  let waiting: { target: string; sentAt: bigint; done: (answered: boolean) => void } | undefined;
  onReply((from) => {
    if (!waiting || from !== waiting.target) return;
    const elapsed = process.hrtime.bigint() - waiting.sentAt;
    rttUs[from]!.push(Number(elapsed) / 1000);
    waiting.done(true);
  });
  frames: for (let i = 0; i < count; i++) {
    for (const target of targets) {
      const frame = request(target);
      const answered = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          waiting = undefined;
          resolve(false);
        }, REPLY_TIMEOUT_MS);
        waiting = {
          target,
          sentAt: process.hrtime.bigint(),
          done: (ok) => {
            clearTimeout(timer);
            waiting = undefined;
            resolve(ok);
          },
        };
        socket.send(frame);
      });
      if (!answered) lost[target]!++;
      if (lost[target]! > count / 2) break frames; // nobody is answering: stop early
      await sleep(gapMs);
    }
  }
  return { rttUs, lost, clientDrops: socket.kernelStatistics().drops };
}

async function rate(target: string, perSecond: number, durationMs: number): Promise<object> {
  let answered = 0;
  onReply((from) => {
    if (from === target) answered++;
  });
  socket.kernelStatistics(); // reset the counters
  const frame = request(target);
  const total = Math.round((perSecond * durationMs) / 1000);
  const start = process.hrtime.bigint();
  let sent = 0;
  // Paces by the clock: each turn of the loop sends what is due by now.
  while (sent < total) {
    const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
    const due = Math.min(total, Math.floor((elapsedMs * perSecond) / 1000) + 1);
    for (; sent < due; sent++) socket.send(frame);
    await new Promise((r) => setImmediate(r));
  }
  const sendMs = Number(process.hrtime.bigint() - start) / 1e6;
  await sleep(500); // replies still on their way
  const stats = socket.kernelStatistics();
  return { sent, answered, achievedPerSecond: Math.round((sent * 1000) / sendMs), clientDrops: stats.drops };
}

/** Asks for `target` every `intervalMs` until told to stop; the caller judges the answers from its capture. */
async function probe(target: string, intervalMs: number): Promise<object> {
  if (!(intervalMs >= 1)) throw new Error(`probe interval must be >= 1 ms, got ${intervalMs}`);
  const frame = request(target);
  let sent = 0;
  const timer = setInterval(() => {
    socket.send(frame);
    sent++;
  }, intervalMs);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  clearInterval(timer);
  return { sent };
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  let result: object;
  if (mode === 'probe') {
    const [target, intervalMs] = args;
    process.stdout.write(`${JSON.stringify(await probe(target!, Number(intervalMs)))}\n`);
    socket.close();
    return;
  }
  if (mode === 'latency') {
    const [count, gapMs, ...targets] = args;
    result = await latency(Number(count), Number(gapMs), targets);
  } else if (mode === 'rate') {
    const [target, perSecond, durationMs] = args;
    result = await rate(target!, Number(perSecond), Number(durationMs));
  } else {
    throw new Error(`unknown mode ${String(mode)}: use latency or rate`);
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  socket.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
