import { bitLength, formatIP, maxValue, parseIP, type IPAddress, type IPFamily } from './address.js';

/** An inclusive span of addresses of one family. A CIDR, a single IP and `start-end` all become one of these. */
export interface IPRange {
  readonly family: IPFamily;
  readonly start: bigint;
  readonly end: bigint;
}

/** `masked`: set when a CIDR had host bits, e.g. `192.0.2.100/24 taken as 192.0.2.0/24`. */
export type ParseRangeResult = { ok: true; range: IPRange; masked?: string } | { ok: false; error: string };

/**
 * Parses one entry of `spec.addresses`: `192.0.2.0/24`, `2001:db8::/64`,
 * `192.0.2.7`, or `192.0.2.10-192.0.2.20` (spaces around the dash allowed, as MetalLB does).
 * A CIDR with host bits set is masked, as MetalLB does (its own examples use
 * them), and the result says so in `masked`, so the user can be told.
 */
export function parseAddressRange(text: string): ParseRangeResult {
  if (typeof text !== 'string' || text.trim() === '') return { ok: false, error: 'empty address entry' };
  const entry = text.trim();
  if (entry.includes('/')) return parseCIDR(entry);
  if (entry.includes('-')) return parseStartEnd(entry);
  const single = parseIP(entry);
  if (!single.ok) return single;
  return { ok: true, range: { family: single.ip.family, start: single.ip.value, end: single.ip.value } };
}

function parseCIDR(entry: string): ParseRangeResult {
  const parts = entry.split('/');
  if (parts.length !== 2) return { ok: false, error: `"${entry}" has more than one "/"` };
  const [addressText, lengthText] = parts as [string, string];
  const address = parseIP(addressText);
  if (!address.ok) return { ok: false, error: `"${entry}": ${address.error}` };
  const bits = bitLength(address.ip.family);
  if (!/^\d{1,3}$/.test(lengthText) || Number(lengthText) > bits) {
    return { ok: false, error: `"${entry}": prefix length must be a number from 0 to ${bits}` };
  }
  const hostBits = BigInt(bits - Number(lengthText));
  const hostMask = (1n << hostBits) - 1n;
  const start = address.ip.value & ~hostMask & maxValue(address.ip.family);
  const range: IPRange = { family: address.ip.family, start, end: start | hostMask };
  if (start === address.ip.value) return { ok: true, range };
  const network = `${formatIP({ family: address.ip.family, value: start })}/${Number(lengthText)}`;
  return { ok: true, range, masked: `${entry} taken as ${network}` };
}

function parseStartEnd(entry: string): ParseRangeResult {
  const parts = entry.split('-');
  if (parts.length !== 2)
    return { ok: false, error: `"${entry}" is not a "start-end" range (exactly one "-" expected)` };
  const start = parseIP(parts[0]!.trim());
  if (!start.ok) return { ok: false, error: `"${entry}": range start ${start.error}` };
  const end = parseIP(parts[1]!.trim());
  if (!end.ok) return { ok: false, error: `"${entry}": range end ${end.error}` };
  if (start.ip.family !== end.ip.family) {
    return { ok: false, error: `"${entry}": range mixes ${start.ip.family} and ${end.ip.family}` };
  }
  if (start.ip.value > end.ip.value) return { ok: false, error: `"${entry}": range start is after end` };
  return { ok: true, range: { family: start.ip.family, start: start.ip.value, end: end.ip.value } };
}

/** Number of addresses in the range (BigInt: an IPv6 /64 has 2^64). */
export function rangeSize(range: IPRange): bigint {
  return range.end - range.start + 1n;
}

export function rangeContains(range: IPRange, ip: IPAddress): boolean {
  return range.family === ip.family && range.start <= ip.value && ip.value <= range.end;
}

export function rangesOverlap(a: IPRange, b: IPRange): boolean {
  return a.family === b.family && a.start <= b.end && b.start <= a.end;
}

/** Orders IPv4 before IPv6, then by start, then by end. */
export function compareRanges(a: IPRange, b: IPRange): number {
  if (a.family !== b.family) return a.family === 'IPv4' ? -1 : 1;
  if (a.start !== b.start) return a.start < b.start ? -1 : 1;
  if (a.end !== b.end) return a.end < b.end ? -1 : 1;
  return 0;
}

/** Sorts and merges overlapping or adjacent ranges of the same family. */
export function mergeRanges(ranges: readonly IPRange[]): IPRange[] {
  const sorted = [...ranges].sort(compareRanges);
  const merged: IPRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && last.family === range.family && range.start <= last.end + 1n) {
      if (range.end > last.end) merged[merged.length - 1] = { ...last, end: range.end };
    } else {
      merged.push(range);
    }
  }
  return merged;
}

/** The first overlapping pair among ranges (any order), or undefined. O(n log n). */
export function findOverlap(ranges: readonly IPRange[]): [IPRange, IPRange] | undefined {
  const sorted = [...ranges].sort(compareRanges);
  // Compare with the range reaching furthest so far, not just the previous one:
  // [0,10] hides [5,6] from [1,2]'s point of view.
  let furthest: IPRange | undefined;
  for (const current of sorted) {
    if (furthest && rangesOverlap(furthest, current)) return [furthest, current];
    if (!furthest || furthest.family !== current.family || current.end > furthest.end) furthest = current;
  }
  return undefined;
}

/** Text for messages: a single address, a CIDR when the span is exactly one, else `start-end`. */
export function formatRange(range: IPRange): string {
  const start = formatIP({ family: range.family, value: range.start });
  if (range.start === range.end) return start;
  const size = rangeSize(range);
  const isPowerOfTwo = (size & (size - 1n)) === 0n;
  if (isPowerOfTwo && range.start % size === 0n) {
    const hostBits = size.toString(2).length - 1;
    return `${start}/${bitLength(range.family) - hostBits}`;
  }
  return `${start}-${formatIP({ family: range.family, value: range.end })}`;
}
