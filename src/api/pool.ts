import { formatRange, mergeRanges, parseAddressRange, rangesOverlap, type IPRange } from '../ip/range.js';
import { POOL_DEFAULTS } from './schema/ipaddresspool.js';
import { parseLabelSelector } from './selector.js';
import type { LabelSelector } from './types.js';
import { isPlainObject, readObjectName } from './object.js';

/** A validated pool, as parsePool produces it and the Allocator (src/ipam) consumes it. */
export interface PoolDefinition {
  readonly name: string;
  /** Milliseconds since the epoch; decides which of two overlapping pools is the newer. Undefined counts as newest. */
  readonly createdAt?: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Sorted, merged, non-overlapping. */
  readonly ranges: readonly IPRange[];
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  readonly serviceAllocation?: PoolServiceAllocation;
}

export interface PoolServiceAllocation {
  /** Lower first; undefined/0 = after all pools that set one. */
  readonly priority?: number;
  readonly namespaces: readonly string[];
  readonly namespaceSelectors: readonly LabelSelector[];
  readonly serviceSelectors: readonly LabelSelector[];
}

/** A pool that passed validation: what the Allocator's setPools takes. */
export type ParsedPool = PoolDefinition;

/** `notes`: what was taken other than as written (a CIDR's host bits masked), field by field. */
export type ParsePoolResult = { ok: true; pool: ParsedPool; notes: string[] } | { ok: false; errors: string[] };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Milliseconds since the epoch from an RFC 3339 string or a Date; undefined when absent; NaN when unreadable. */
export function parseTimestamp(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') return Date.parse(value);
  return Number.NaN;
}

/**
 * Validates a raw IPAddressPool. Every error names its field, e.g.
 * `spec.addresses[2]: "10.0.0.5-10.0.0.1": range start is after end`.
 * Never throws on bad input.
 */
export function parsePool(raw: unknown): ParsePoolResult {
  if (!isPlainObject(raw)) return { ok: false, errors: ['IPAddressPool: must be an object'] };
  const errors: string[] = [];
  const metadata = isPlainObject(raw.metadata) ? raw.metadata : {};
  const name = readObjectName(raw, errors);
  const createdAt = parseTimestamp(metadata.creationTimestamp);
  if (createdAt !== undefined && Number.isNaN(createdAt)) {
    errors.push(`metadata.creationTimestamp: ${JSON.stringify(metadata.creationTimestamp)} is not a timestamp`);
  }
  const labels = readLabels(metadata.labels, errors);

  if (!isPlainObject(raw.spec)) {
    errors.push('spec: required');
    return { ok: false, errors };
  }
  const spec = raw.spec;
  const notes: string[] = [];
  const ranges = parseAddresses(spec.addresses, errors, notes);
  const autoAssign = readBoolean(spec.autoAssign, 'spec.autoAssign', POOL_DEFAULTS.autoAssign, errors);
  const avoidBuggyIPs = readBoolean(spec.avoidBuggyIPs, 'spec.avoidBuggyIPs', POOL_DEFAULTS.avoidBuggyIPs, errors);
  const serviceAllocation =
    spec.serviceAllocation === undefined ? undefined : parseServiceAllocation(spec.serviceAllocation, errors);

  if (errors.length > 0) return { ok: false, errors };
  const pool: ParsedPool = {
    name,
    createdAt,
    labels,
    ranges: mergeRanges(ranges),
    autoAssign,
    avoidBuggyIPs,
    serviceAllocation,
  };
  return { ok: true, pool, notes };
}

function readLabels(raw: unknown, errors: string[]): Record<string, string> {
  if (raw === undefined) return {};
  if (!isPlainObject(raw) || Object.values(raw).some((v) => typeof v !== 'string')) {
    errors.push('metadata.labels: must be a map of strings');
    return {};
  }
  return raw as Record<string, string>;
}

function readBoolean(raw: unknown, path: string, fallback: boolean, errors: string[]): boolean {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'boolean') {
    errors.push(`${path}: must be true or false (got ${JSON.stringify(raw)})`);
    return fallback;
  }
  return raw;
}

function parseAddresses(raw: unknown, errors: string[], notes: string[]): IPRange[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    errors.push('spec.addresses: must list at least one CIDR, IP or start-end range');
    return [];
  }
  const parsed: Array<{ range: IPRange; index: number }> = [];
  raw.forEach((entry: unknown, index: number) => {
    if (typeof entry !== 'string') {
      errors.push(`spec.addresses[${index}]: must be a string (got ${JSON.stringify(entry)})`);
      return;
    }
    const result = parseAddressRange(entry);
    if (!result.ok) {
      errors.push(`spec.addresses[${index}]: ${result.error}`);
      return;
    }
    parsed.push({ range: result.range, index });
    if (result.masked) notes.push(`spec.addresses[${index}]: ${result.masked}`);
  });
  // Entries are few; a pairwise check names both culprits.
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      const a = parsed[i]!;
      const b = parsed[j]!;
      if (rangesOverlap(a.range, b.range)) {
        errors.push(
          `spec.addresses[${b.index}]: ${formatRange(b.range)} ` +
            `overlaps spec.addresses[${a.index}] (${formatRange(a.range)})`,
        );
      }
    }
  }
  return parsed.map((p) => p.range);
}

function parseServiceAllocation(raw: unknown, errors: string[]): PoolServiceAllocation | undefined {
  const path = 'spec.serviceAllocation';
  if (!isPlainObject(raw)) {
    errors.push(`${path}: must be an object`);
    return undefined;
  }
  let priority: number | undefined;
  if (raw.priority !== undefined) {
    if (typeof raw.priority !== 'number' || !Number.isInteger(raw.priority) || raw.priority < 0) {
      errors.push(`${path}.priority: must be a whole number >= 0 (got ${JSON.stringify(raw.priority)})`);
    } else {
      priority = raw.priority;
    }
  }
  const namespaces: string[] = [];
  if (raw.namespaces !== undefined) {
    if (!Array.isArray(raw.namespaces)) errors.push(`${path}.namespaces: must be a list of namespace names`);
    else {
      raw.namespaces.forEach((ns: unknown, index: number) => {
        if (typeof ns !== 'string' || !DNS_LABEL.test(ns)) {
          errors.push(`${path}.namespaces[${index}]: ${JSON.stringify(ns)} is not a namespace name`);
        } else {
          namespaces.push(ns);
        }
      });
    }
  }
  const namespaceSelectors = parseSelectorList(raw.namespaceSelectors, `${path}.namespaceSelectors`, errors);
  const serviceSelectors = parseSelectorList(raw.serviceSelectors, `${path}.serviceSelectors`, errors);
  return { priority, namespaces, namespaceSelectors, serviceSelectors };
}

/** Parses a list of label selectors, each error under `path[i]`. */
export function parseSelectorList(raw: unknown, path: string, errors: string[]): LabelSelector[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    errors.push(`${path}: must be a list of label selectors`);
    return [];
  }
  const selectors: LabelSelector[] = [];
  raw.forEach((item: unknown, index: number) => {
    const result = parseLabelSelector(item, `${path}[${index}]`);
    if (result.ok) selectors.push(result.selector);
    else errors.push(...result.errors);
  });
  return selectors;
}
