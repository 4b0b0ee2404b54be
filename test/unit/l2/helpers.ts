// Test doubles for layer 2: real captured frames, an in-memory wire of
// PacketSockets, and a scheduler whose time only moves when the test says so.
import { readFileSync } from 'node:fs';
import type { PacketSocket, RxFrame } from '../../../src/l2/packet-socket.js';
import type { Scheduler } from '../../../src/l2/announcer.js';

interface FixtureFile {
  frames: { name: string; source: string; hex: string }[];
}
const fixtureFile = JSON.parse(readFileSync(new URL('./fixtures/frames.json', import.meta.url), 'utf8')) as FixtureFile;

export function fixture(name: string): Buffer {
  const found = fixtureFile.frames.find((f) => f.name === name);
  if (!found) throw new Error(`no fixture ${name}`);
  return Buffer.from(found.hex, 'hex');
}
export const fixtureNames: string[] = fixtureFile.frames.map((f) => f.name);

export const mac = (text: string): Buffer => Buffer.from(text.replace(/:/g, ''), 'hex');

/**
 * A shared segment: a frame sent by one socket reaches every other socket, and
 * comes back to the sender marked outgoing, as AF_PACKET does.
 */
export class FakeWire {
  readonly sockets: FakeSocket[] = [];
  /** Every frame put on the wire, in order, with the socket that sent it. */
  readonly log: { from: string; data: Buffer }[] = [];

  socket(ifname: string, macText: string): FakeSocket {
    const socket = new FakeSocket(this, ifname, this.sockets.length + 1, mac(macText));
    this.sockets.push(socket);
    return socket;
  }

  /** Delivers a frame as if a host with no socket here sent it. */
  inject(data: Buffer): void {
    this.log.push({ from: 'outside', data });
    for (const p of this.sockets) p.deliver({ data, outgoing: false });
  }

  carry(from: FakeSocket, data: Buffer): void {
    this.log.push({ from: from.ifname, data });
    for (const p of this.sockets) p.deliver({ data, outgoing: p === from });
  }

  sentBy(ifname: string): Buffer[] {
    return this.log.filter((e) => e.from === ifname).map((e) => e.data);
  }
}

export class FakeSocket implements PacketSocket {
  readonly joined = new Map<string, number>();
  closed = false;
  failJoins = false;
  private readonly frameListeners: ((f: RxFrame) => void)[] = [];
  private readonly errorListeners: ((e: Error) => void)[] = [];

  constructor(
    private readonly wire: FakeWire,
    readonly ifname: string,
    readonly ifindex: number,
    public mac: Buffer,
  ) {}

  send(frame: Buffer): void {
    if (this.closed) throw new Error(`socket ${this.ifname} is closed`);
    this.wire.carry(this, Buffer.from(frame));
  }
  onFrame(listener: (frame: RxFrame) => void): void {
    this.frameListeners.push(listener);
  }
  onError(listener: (err: Error) => void): void {
    this.errorListeners.push(listener);
  }
  joinMulticast(group: Buffer): void {
    if (this.failJoins) throw new Error('join refused');
    const key = group.toString('hex');
    this.joined.set(key, (this.joined.get(key) ?? 0) + 1);
  }
  leaveMulticast(group: Buffer): void {
    const key = group.toString('hex');
    const n = this.joined.get(key) ?? 0;
    if (n === 0) throw new Error(`leave of a group never joined: ${key}`);
    if (n === 1) this.joined.delete(key);
    else this.joined.set(key, n - 1);
  }
  close(): void {
    this.closed = true;
  }
  deliver(frame: RxFrame): void {
    for (const l of this.frameListeners) l(frame);
  }
  fail(err: Error): void {
    for (const l of this.errorListeners) l(err);
  }
}

/** Timers that fire only inside advance(), in due order. */
export class ManualScheduler implements Scheduler {
  now = 0;
  private nextId = 0;
  private readonly timers = new Map<number, { at: number; run: () => void }>();

  schedule(delayMs: number, run: () => void): () => void {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + delayMs, run });
    return () => this.timers.delete(id);
  }

  get pending(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let due: [number, { at: number; run: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1].at;
      due[1].run();
    }
    this.now = end;
  }
}
