// A small program run inside a lab node: it owns the IPs it is told to and
// makes them reachable with the project's own layer-2 code (Responder,
// Announcer, ConflictProber) over the real packet socket. The e2e tests judge
// it only by what reaches the client.
//
//   node dist/test/lab/l2-agent.js --iface eth0
//
// Commands arrive as JSON lines on stdin, events leave as JSON lines on stdout:
//   {"op":"own","ip":"192.0.2.200"}                    -> {"event":"owned","ip":...}
//   {"op":"release","ip":...}                          -> {"event":"released","ip":...}
//   {"op":"announce","ip":...,"rounds"?,"intervalMs"?}  -> {"event":"announced",...} after round 1,
//                                                         {"event":"announce-end","why":...} at the end
//   {"op":"probe","ip":...,"waitMs"?}                  -> {"event":"probed","ip":...,"conflict":bool,"mac"?:...}
//   {"op":"stats"}                                     -> {"event":"stats",...}
//   {"op":"record"} / {"op":"recorded"}                -> {"event":"recorded","frames":[{"hex","outgoing"}]}
//   {"op":"send","hex":...}                            -> {"event":"sent"}
// plus {"event":"ready","mac":...} at start and {"event":"error",...} for socket errors.
import { createInterface } from 'node:readline';
import { openPacketSocket } from '../../src/l2/socket.js';
import { Announcer } from '../../src/l2/announcer.js';
import { Responder } from '../../src/l2/responder.js';
import { ConflictProber } from '../../src/l2/probe.js';
import { canonicalIp } from './frames.js';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

const ifname = argValue('--iface') ?? 'eth0';
const socket = openPacketSocket(ifname);
// Read on every use: a recreated interface comes back with a new MAC.
const ourMac = () => [...socket.mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
const owned = new Set<string>();
let socketErrors = 0;

socket.onError((err) => {
  socketErrors++;
  emit({ event: 'error', message: err.message });
});

const responder = new Responder(socket, {
  owns: (ip) => owned.has(canonicalIp(ip)),
  onError: (err) => emit({ event: 'error', message: `responder: ${err.message}` }),
});
const announcer = new Announcer();
const prober = new ConflictProber({ onError: (err) => emit({ event: 'error', message: `probe: ${err.message}` }) });

let recording: Array<{ hex: string; outgoing: boolean }> | undefined;
socket.onFrame((rx) => recording?.push({ hex: rx.data.toString('hex'), outgoing: rx.outgoing }));

type Command = { op?: string; ip?: string; waitMs?: number; hex?: string; rounds?: number; intervalMs?: number };

async function handle(command: Command): Promise<void> {
  const ip = command.ip === undefined ? undefined : canonicalIp(command.ip);
  const needIp = (): string => {
    if (!ip) throw new Error(`${String(command.op)} needs an ip`);
    return ip;
  };
  switch (command.op) {
    case 'own':
      owned.add(needIp());
      responder.addIp(needIp());
      emit({ event: 'owned', ip });
      return;
    case 'release':
      owned.delete(needIp());
      responder.removeIp(needIp());
      announcer.stop(needIp());
      emit({ event: 'released', ip });
      return;
    case 'announce': {
      const target = needIp();
      let frames = 0;
      announcer.announce(target, [socket], {
        rounds: command.rounds ?? 1,
        intervalMs: command.intervalMs,
        stillOwned: () => owned.has(target),
        onSent: (sent) => (frames += sent.frames),
        onError: (err) => emit({ event: 'error', message: `announce: ${err.message}` }),
        onEnd: (why) => emit({ event: 'announce-end', ip: target, why }),
      });
      emit({ event: 'announced', ip: target, frames });
      return;
    }
    case 'probe': {
      const waitMs = command.waitMs ?? 1000;
      const result = await prober.probe(needIp(), [socket], {
        waitMs,
        probes: 2,
        intervalMs: Math.min(150, waitMs / 2),
      });
      emit({ event: 'probed', ip, conflict: result.inUse, mac: result.mac });
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
      socket.send(Buffer.from(command.hex ?? '', 'hex'));
      emit({ event: 'sent' });
      return;
    case 'stats':
      emit({ event: 'stats', ...responder.counters, ...socket.stats, socketErrors });
      return;
    default:
      throw new Error(`unknown op ${String(command.op)}`);
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === '') return;
  let command: Command;
  try {
    command = JSON.parse(line) as Command;
  } catch {
    emit({ event: 'error', message: `not JSON: ${line}` });
    return;
  }
  handle(command).catch((err: unknown) => emit({ event: 'error', message: message(err) }));
});

function shutdown(): void {
  announcer.stopAll();
  responder.close();
  socket.close();
  process.exit(0);
}
process.stdin.on('end', shutdown);
process.on('SIGTERM', shutdown);

emit({ event: 'ready', mac: ourMac(), ifindex: socket.ifindex, iface: ifname });
