import { recordBytes } from './codec.js';
import type { NodeRecord } from './types.js';

// Verdict changes this node learned, piggybacked on its next heartbeats so a
// node that lost every direct notice still hears within an interval or two.
// One rumour per node (a newer record replaces an older one); each rides on
// `rounds` heartbeat rounds, newest first, as many as fit in a datagram.

const NONE: readonly NodeRecord[] = Object.freeze([]);

export class RumorQueue {
  private readonly rumors = new Map<string, { record: NodeRecord; remaining: number }>();

  constructor(private readonly rounds: number) {}

  add(record: NodeRecord): void {
    this.rumors.delete(record.node);
    this.rumors.set(record.node, { record, remaining: this.rounds });
  }

  get size(): number {
    return this.rumors.size;
  }

  /** The rumours for this round (newest first, within `budget` bytes); counts the round. */
  takeRound(budget: number): readonly NodeRecord[] {
    if (this.rumors.size === 0) return NONE;
    const entries = [...this.rumors.values()].reverse();
    const out: NodeRecord[] = [];
    let used = 0;
    for (const entry of entries) {
      const size = recordBytes(entry.record);
      if (used + size > budget || out.length === 255) break;
      used += size;
      out.push(entry.record);
      if (--entry.remaining <= 0) this.rumors.delete(entry.record.node);
    }
    return out;
  }
}
