// Layer 2: pure codecs, the announcer, responder, conflict probe and wire watch.
// The packet socket itself (socket.ts) and interface discovery live beside them.
export * from './ethernet.js';
export * from './arp.js';
export * from './ndp.js';
export * from './checksum.js';
export * from './announcer.js';
export type { PacketPort, RxFrame } from './port.js';
export * from './responder.js';
export * from './probe.js';
export * from './wire-watch.js';
