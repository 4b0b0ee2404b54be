import { createHash } from 'node:crypto';

// Members in ring order: by the first 48 bits of SHA-256(name), ties by name,
// so every node that knows the same members builds the same ring. A node's
// successors are the next live members clockwise; the first K of them are its
// monitors, and it is a monitor of its K live predecessors. Dead members keep
// their place and are skipped, so a death moves only its neighbours' duties.

const positions = new Map<string, number>();

function position(name: string): number {
  let p = positions.get(name);
  if (p === undefined) {
    // A name's place never changes; remember it (bounded, for clusters with much node churn).
    if (positions.size >= 100_000) positions.clear();
    p = createHash('sha256').update(name).digest().readUIntBE(0, 6);
    positions.set(name, p);
  }
  return p;
}

export class Ring {
  private readonly order: string[];
  private readonly index = new Map<string, number>();

  constructor(names: Iterable<string>) {
    const unique = [...new Set(names)];
    const pos = new Map(unique.map((n) => [n, position(n)]));
    this.order = unique.sort((a, b) => (pos.get(a) as number) - (pos.get(b) as number) || (a < b ? -1 : a > b ? 1 : 0));
    for (const [i, n] of this.order.entries()) this.index.set(n, i);
  }

  get size(): number {
    return this.order.length;
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  /** Up to k live members after `name`, nearest first (never `name` itself). */
  successors(name: string, k: number, live: (n: string) => boolean): string[] {
    return this.walk(name, k, live, 1);
  }

  /** Up to k live members before `name`, nearest first. */
  predecessors(name: string, k: number, live: (n: string) => boolean): string[] {
    return this.walk(name, k, live, -1);
  }

  private walk(name: string, k: number, live: (n: string) => boolean, step: 1 | -1): string[] {
    const start = this.index.get(name);
    if (start === undefined) return [];
    const n = this.order.length;
    const found: string[] = [];
    for (let i = 1; i < n && found.length < k; i++) {
      const other = this.order[(((start + step * i) % n) + n) % n] as string;
      if (live(other)) found.push(other);
    }
    return found;
  }
}
