import { isBuggyIPv4, type IPFamily } from '../ip/address.js';
import { FreeIntervalSet } from './free-set.js';
import type { IPRange } from '../ip/range.js';

/**
 * With avoidBuggyIPs, .0 and .255 are numbered out of existence: index
 * i = (a >> 8) * 254 + (a & 255) - 1 maps the usable addresses monotonically
 * onto consecutive integers. The free set then works on indices, so holes cost
 * no memory and no scan, even for a /8.
 */
const USABLE_PER_24 = 254n;

function toSkipIndex(address: bigint): bigint {
  return (address >> 8n) * USABLE_PER_24 + (address & 0xffn) - 1n;
}

function fromSkipIndex(index: bigint): bigint {
  return (index / USABLE_PER_24) * 256n + (index % USABLE_PER_24) + 1n;
}

/** First usable address >= value (with .0/.255 skipped). */
function usableAtOrAbove(value: bigint): bigint {
  const last = value & 0xffn;
  if (last === 0n) return value + 1n;
  if (last === 255n) return value + 2n;
  return value;
}

/** Last usable address <= value. */
function usableAtOrBelow(value: bigint): bigint {
  const last = value & 0xffn;
  if (last === 255n) return value - 1n;
  if (last === 0n) return value - 2n;
  return value;
}

/** The allocatable addresses of one family of one pool, and which of them are free. */
export class FamilySpace {
  readonly family: IPFamily;
  /** Every allocatable address (buggy ones excluded when skipped). */
  readonly total: bigint;
  private readonly ranges: readonly IPRange[];
  private readonly skipBuggy: boolean;
  private readonly free = new FreeIntervalSet();

  /** ranges: sorted, merged, all of `family`. */
  constructor(family: IPFamily, ranges: readonly IPRange[], avoidBuggyIPs: boolean) {
    this.family = family;
    this.ranges = ranges;
    this.skipBuggy = avoidBuggyIPs && family === 'IPv4';
    for (const range of ranges) {
      const start = this.skipBuggy ? usableAtOrAbove(range.start) : range.start;
      const end = this.skipBuggy ? usableAtOrBelow(range.end) : range.end;
      if (start > end) continue;
      const indexStart = this.skipBuggy ? toSkipIndex(start) : start;
      const indexEnd = this.skipBuggy ? toSkipIndex(end) : end;
      this.free.addRange(indexStart, indexEnd);
    }
    this.total = this.free.size;
  }

  get available(): bigint {
    return this.free.size;
  }

  get assigned(): bigint {
    return this.total - this.free.size;
  }

  /** Whether the pool may hand out this address at all (in a range, and not a skipped .0/.255). O(log ranges). */
  contains(address: bigint): boolean {
    if (this.skipBuggy && isBuggyIPv4(address)) return false;
    let low = 0;
    let high = this.ranges.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const range = this.ranges[middle]!;
      if (address < range.start) high = middle - 1;
      else if (address > range.end) low = middle + 1;
      else return true;
    }
    return false;
  }

  isFree(address: bigint): boolean {
    return this.contains(address) && this.free.has(this.indexOf(address));
  }

  lowestFree(): bigint | undefined {
    const index = this.free.lowest();
    return index === undefined ? undefined : this.addressOf(index);
  }

  /** Marks an address used; false when it is not in the pool or already used. */
  take(address: bigint): boolean {
    return this.contains(address) && this.free.take(this.indexOf(address));
  }

  /** Marks an address free again; false when it is not in the pool or already free. */
  release(address: bigint): boolean {
    return this.contains(address) && this.free.release(this.indexOf(address));
  }

  private indexOf(address: bigint): bigint {
    return this.skipBuggy ? toSkipIndex(address) : address;
  }

  private addressOf(index: bigint): bigint {
    return this.skipBuggy ? fromSkipIndex(index) : index;
  }
}
