// Small readers shared by the BGP objects' parsers. Each pushes an error that
// names its field and returns undefined (or the fallback) on bad input.
import type { IntegerSchema } from '../api/schema/openapi.js';
import { OBJECT_NAME } from '../api/object.js';
import { formatIP, parseIP, type IPFamily } from '../ip/address.js';

export { OBJECT_NAME, isPlainObject, readObjectName, readObjectStart } from '../api/object.js';

/** A whole number in [min, max]; undefined when absent (or wrong, with an error). */
export function readInteger(
  raw: unknown,
  path: string,
  min: number,
  max: number,
  errors: string[],
): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    errors.push(`${path}: must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    return undefined;
  }
  return raw;
}

/** `spec.<name>`, an integer read with the bounds and default of its CRD schema (src/api/schema). */
export function readSpecInteger<K extends string>(
  spec: Record<string, unknown>,
  name: K,
  fields: { readonly [key in K]: IntegerSchema },
  errors: string[],
): number | undefined {
  const { minimum = Number.MIN_SAFE_INTEGER, maximum = Number.MAX_SAFE_INTEGER } = fields[name];
  return readInteger(spec[name], `spec.${name}`, minimum, maximum, errors) ?? fields[name].default;
}

export function readBoolean(raw: unknown, path: string, errors: string[]): boolean {
  if (raw === undefined) return false;
  if (typeof raw !== 'boolean') {
    errors.push(`${path}: must be true or false (got ${JSON.stringify(raw)})`);
    return false;
  }
  return raw;
}

export interface Address {
  readonly text: string;
  readonly family: IPFamily;
}

/** An IP address in canonical text (RFC 5952 for IPv6), or undefined with an error. */
export function readAddress(raw: unknown, path: string, errors: string[]): Address | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') {
    errors.push(`${path}: must be an IP address (got ${JSON.stringify(raw)})`);
    return undefined;
  }
  const parsed = parseIP(raw);
  if (!parsed.ok) {
    errors.push(`${path}: ${parsed.error}`);
    return undefined;
  }
  return { text: formatIP(parsed.ip), family: parsed.ip.family };
}

/** A list of object names (references), each checked. */
export function readNameList(raw: unknown, path: string, errors: string[]): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    errors.push(`${path}: must be a list of names`);
    return [];
  }
  const names: string[] = [];
  raw.forEach((item: unknown, index: number) => {
    if (typeof item !== 'string' || !OBJECT_NAME.test(item))
      errors.push(`${path}[${index}]: ${JSON.stringify(item)} is not an object name`);
    else names.push(item);
  });
  return names;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const GO_DURATION = /^(?:\d+(?:\.\d+)?|\.\d+)(?:ns|us|µs|ms|s|m|h)/;

/**
 * A metav1.Duration (Go's time.ParseDuration syntax: `90s`, `1m30s`, `1.5h`)
 * as milliseconds, or undefined with an error naming `path`.
 */
export function parseGoDuration(raw: unknown, path: string, errors: string[]): number | undefined {
  if (raw === undefined) return undefined;
  const bad = () => {
    errors.push(`${path}: ${JSON.stringify(raw)} is not a duration (write it like "90s" or "1m30s")`);
    return undefined;
  };
  if (typeof raw !== 'string' || raw === '') return bad();
  if (raw === '0') return 0;
  let rest = raw;
  let total = 0;
  while (rest !== '') {
    const match = GO_DURATION.exec(rest);
    if (!match) return bad();
    const token = match[0];
    const unit = /(ns|us|µs|ms|s|m|h)$/.exec(token)![1]!;
    total += Number(token.slice(0, token.length - unit.length)) * UNIT_MS[unit]!;
    rest = rest.slice(token.length);
  }
  return total;
}

/** A duration that must be a whole number of seconds in [min, max] (FRR's timers take seconds). */
export function readSeconds(
  raw: unknown,
  path: string,
  min: number,
  max: number,
  errors: string[],
): number | undefined {
  const before = errors.length;
  const ms = parseGoDuration(raw, path, errors);
  if (ms === undefined || errors.length > before) return undefined;
  if (ms % 1000 !== 0) {
    errors.push(`${path}: ${JSON.stringify(raw)} must be a whole number of seconds`);
    return undefined;
  }
  const seconds = ms / 1000;
  if (seconds < min || seconds > max) {
    errors.push(`${path}: ${JSON.stringify(raw)} must be from ${min}s to ${max}s`);
    return undefined;
  }
  return seconds;
}
