import ipaddr from 'ipaddr.js';

/** The two address families, spelled as Kubernetes spells them in `spec.ipFamilies`. */
export type IPFamily = 'IPv4' | 'IPv6';

/** An address as a number: all range math is BigInt so an IPv6 /64 (2^64) counts exactly. */
export interface IPAddress {
  readonly family: IPFamily;
  readonly value: bigint;
}

export const IPV4_MAX = (1n << 32n) - 1n;
export const IPV6_MAX = (1n << 128n) - 1n;

export function maxValue(family: IPFamily): bigint {
  return family === 'IPv4' ? IPV4_MAX : IPV6_MAX;
}

export function bitLength(family: IPFamily): number {
  return family === 'IPv4' ? 32 : 128;
}

export type ParseIPResult = { ok: true; ip: IPAddress } | { ok: false; error: string };

/**
 * Parses one address. ipaddr.js does the lexing; we refuse the forms it (or
 * inet_aton) would accept but that are surprising in a config: shorthand IPv4
 * like `1.2.3`, octal/hex parts, zone ids, and IPv4-mapped IPv6 (`::ffff:1.2.3.4`),
 * which would otherwise let one address hide in the other family.
 */
export function parseIP(text: string): ParseIPResult {
  if (typeof text !== 'string' || text.length === 0) return { ok: false, error: 'empty address' };
  if (text.trim() !== text) return { ok: false, error: `"${text}" has surrounding whitespace` };
  // isValidFourPartDecimal throws (and catches) internally on IPv6 text, which
  // is costly at 10k Services: only ask it about text without a colon.
  if (!text.includes(':') && ipaddr.IPv4.isValidFourPartDecimal(text)) {
    const bytes = ipaddr.IPv4.parse(text).toByteArray();
    return { ok: true, ip: { family: 'IPv4', value: bytesToBigInt(bytes) } };
  }
  if (text.includes(':') && ipaddr.IPv6.isValid(text)) {
    const parsed = ipaddr.IPv6.parse(text);
    if (parsed.zoneId !== undefined)
      return { ok: false, error: `"${text}" has a zone id, which has no meaning for a service address` };
    if (parsed.isIPv4MappedAddress())
      return { ok: false, error: `"${text}" is an IPv4-mapped IPv6 address; write the IPv4 address instead` };
    return { ok: true, ip: { family: 'IPv6', value: bytesToBigInt(parsed.toByteArray()) } };
  }
  if (/^\d+(\.\d+){0,2}$/.test(text))
    return { ok: false, error: `"${text}" is not a full IPv4 address (four decimal parts expected)` };
  return { ok: false, error: `"${text}" is not an IPv4 or IPv6 address` };
}

/** parseIP for callers holding an address known to be valid (tests, constants); throws on bad input. */
export function mustParseIP(text: string): IPAddress {
  const result = parseIP(text);
  if (!result.ok) throw new Error(result.error);
  return result.ip;
}

function bytesToBigInt(bytes: readonly number[]): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** Canonical text: dotted quad for IPv4, RFC 5952 compressed lower-case for IPv6. */
export function formatIP(ip: IPAddress): string {
  if (ip.family === 'IPv4') {
    // One Number conversion instead of four BigInt shifts: this runs once per allocation.
    const v = Number(ip.value);
    return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
  }
  const hex = ip.value.toString(16).padStart(32, '0');
  const groups: number[] = new Array<number>(8);
  for (let i = 0; i < 8; i++) groups[i] = parseInt(hex.slice(i * 4, i * 4 + 4), 16);
  return formatIPv6Groups(groups);
}

/** RFC 5952 text of eight 16-bit groups (the one IPv6 formatter: l2's codecs use it too). */
export function formatIPv6Groups(groups: readonly number[]): string {
  // RFC 5952: collapse the longest run (>= 2) of zero groups, the first one on ties.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}

export function sameIP(a: IPAddress, b: IPAddress): boolean {
  return a.family === b.family && a.value === b.value;
}

/** A Map/Set key that cannot collide across families. */
export function ipKey(ip: IPAddress): string {
  return `${ip.family === 'IPv4' ? '4' : '6'}:${ip.value.toString(16)}`;
}

/** Orders IPv4 before IPv6, then numerically. */
export function compareIP(a: IPAddress, b: IPAddress): number {
  if (a.family !== b.family) return a.family === 'IPv4' ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** IPv4 addresses ending in .0 or .255 upset some CPE firmware (MetalLB's avoidBuggyIPs). */
export function isBuggyIPv4(value: bigint): boolean {
  const last = value & 0xffn;
  return last === 0n || last === 255n;
}
