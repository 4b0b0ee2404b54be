// UDP traffic for the BGP lab, run as its own process inside a namespace:
//
//   node udp-flows.js serve <name> <port>
//       on a node: answers every datagram on <port> (any local address, so the
//       Service IP on lo too) with <name>; prints "ready" once bound
//   node udp-flows.js flows <ip> <port> <count> <intervalMs>
//       on the client: <count> flows, each its own socket (own source port, so
//       the router's ECMP hash may send each to another node), each sending one
//       datagram every <intervalMs>; prints "<epoch ms> <flow> <name>" per answer
//
// Its output is read by test/lab/bgp-demo.ts (flowReplies, summarise).
import dgram from 'node:dgram';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** This file's compiled path, to start it with process.execPath. */
export const UDP_FLOWS_SCRIPT = fileURLToPath(import.meta.url);

export interface FlowReply {
  at: number;
  flow: number;
  node: string;
}

/** One line of the flows' output, or undefined for anything else. */
export function parseFlowReply(line: string): FlowReply | undefined {
  const m = /^(\d+) (\d+) (\S+)$/.exec(line.trim());
  return m ? { at: Number(m[1]), flow: Number(m[2]), node: m[3]! } : undefined;
}

function serve(name: string, port: number): void {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (_msg, from) => socket.send(name, from.port, from.address));
  socket.bind(port, () => console.log('ready'));
}

function flows(ip: string, port: number, count: number, intervalMs: number): void {
  for (let flow = 0; flow < count; flow++) {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg) => process.stdout.write(`${Date.now()} ${flow} ${msg.toString()}\n`));
    // A datagram to a next hop that is gone may come back as an ICMP error: not fatal, the flow goes on.
    socket.on('error', () => undefined);
    socket.bind(0, () => setInterval(() => socket.send(`flow ${flow}`, port, ip, () => undefined), intervalMs));
  }
}

function usage(): never {
  console.error('usage: udp-flows.js serve <name> <port> | flows <ip> <port> <count> <intervalMs>');
  process.exit(2);
}

const whole = (text: string | undefined): number => {
  const value = Number(text);
  return Number.isInteger(value) && value > 0 ? value : usage();
};

if (process.argv[1] && path.resolve(process.argv[1]) === UDP_FLOWS_SCRIPT) {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'serve' && rest.length === 2) serve(rest[0]!, whole(rest[1]));
  else if (mode === 'flows' && rest.length === 4) flows(rest[0]!, whole(rest[1]), whole(rest[2]), whole(rest[3]));
  else usage();
}
