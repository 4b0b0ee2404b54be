// The start every CRD parser shares (src/api and src/bgp): the raw object, its
// metadata.name and its spec, each bad input an error that names its field.
import { OBJECT_NAME_PATTERN } from './schema/common.js';

/** A Kubernetes object name (DNS subdomain): metadata.name, references to other objects, Node names. */
export const OBJECT_NAME = new RegExp(OBJECT_NAME_PATTERN);

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** metadata.name of a raw object, or '' with an error. */
export function readObjectName(raw: Record<string, unknown>, errors: string[]): string {
  const metadata = isPlainObject(raw.metadata) ? raw.metadata : {};
  const name = metadata.name;
  if (typeof name !== 'string' || name === '') {
    errors.push('metadata.name: required');
    return '';
  }
  return name;
}

export type ObjectStart =
  | { ok: false; errors: string[] }
  | { ok: true; name: string; spec: Record<string, unknown>; errors: string[] };

/**
 * `<kind>: must be an object` for anything but an object; else its name and
 * its spec. An `optional` spec may be missing (read as {}) but not another
 * type (`spec: must be an object`); a `required` one must be an object
 * (`spec: required`). The errors found so far come back either way.
 */
export function readObjectStart(raw: unknown, kind: string, spec: 'optional' | 'required'): ObjectStart {
  if (!isPlainObject(raw)) return { ok: false, errors: [`${kind}: must be an object`] };
  const errors: string[] = [];
  const name = readObjectName(raw, errors);
  const given = spec === 'optional' && raw.spec === undefined ? {} : raw.spec;
  if (!isPlainObject(given)) {
    errors.push(spec === 'optional' ? 'spec: must be an object' : 'spec: required');
    return { ok: false, errors };
  }
  return { ok: true, name, spec: given, errors };
}
