// Decoding of built-in objects against their Kubernetes types, as the real
// server's JSON decoder does: a value of the wrong JSON type is a 400, and a
// field the type does not have is dropped, reported per the request's
// `fieldValidation` (Strict: 400, Warn, the default: a Warning header,
// Ignore: nothing). The types are the Kubernetes OpenAPI models generated
// into @kubernetes/client-node, so no field list is written here.
import * as k8s from '@kubernetes/client-node';
import { isObject, type Json } from './patch.js';

interface AttributeType {
  name: string;
  baseName: string;
  type: string;
}
type ModelClass = { getAttributeTypeMap(): AttributeType[] };

const models = k8s as unknown as Record<string, unknown>;

function modelFor(typeName: string): ModelClass | undefined {
  const candidate = models[typeName];
  if (typeof candidate === 'function' && typeof (candidate as Partial<ModelClass>).getAttributeTypeMap === 'function') {
    return candidate as unknown as ModelClass;
  }
  return undefined;
}

export function isKubernetesType(typeName: string): boolean {
  return modelFor(typeName) !== undefined;
}

export interface WrongType {
  path: string;
  expected: string;
  got: string;
}

export interface Decoded {
  /** Paths of fields the type does not have (now removed), as `spec.template.spec.containers[0].x`. */
  unknown: string[];
  wrongTypes: WrongType[];
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'object' : typeof value;
}

const join = (at: string, key: string) => (at === '' ? key : `${at}.${key}`);

/** Checks `value` against the Kubernetes type `typeName`, removing unknown fields in place. */
export function decodeTyped(value: Json, typeName: string): Decoded {
  const decoded: Decoded = { unknown: [], wrongTypes: [] };
  walk(value, typeName, '', decoded);
  return decoded;
}

function walk(value: Json, typeName: string, at: string, out: Decoded): void {
  // null decodes to the zero value for every Go type (kubectl sends creationTimestamp: null).
  if (value === null || typeName === 'any') return;
  const wrong = (expected: string): void => {
    out.wrongTypes.push({ path: at, expected, got: jsonType(value) });
  };
  const array = /^Array<(.+)>$/.exec(typeName);
  if (array) {
    if (!Array.isArray(value)) {
      wrong('list');
      return;
    }
    for (const [i, item] of value.entries()) walk(item, array[1] ?? 'any', `${at}[${i}]`, out);
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(typeName);
  if (map) {
    if (!isObject(value)) {
      wrong('map');
      return;
    }
    for (const [key, child] of Object.entries(value)) walk(child, map[1] ?? 'any', join(at, key), out);
    return;
  }
  switch (typeName) {
    case 'string':
    case 'Date': // metav1.Time
    case 'V1MicroTime':
      if (typeof value !== 'string') wrong('string');
      return;
    case 'number':
      if (typeof value !== 'number') wrong('number');
      return;
    case 'boolean':
      if (typeof value !== 'boolean') wrong('bool');
      return;
    case 'IntOrString':
      if (typeof value !== 'number' && typeof value !== 'string') wrong('IntOrString');
      return;
  }
  const model = modelFor(typeName);
  if (!model) throw new Error(`${typeName}: no such Kubernetes type in @kubernetes/client-node`);
  if (!isObject(value)) {
    wrong(typeName);
    return;
  }
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, child] of Object.entries(value)) {
    const type = fields.get(key);
    if (type === undefined) {
      out.unknown.push(join(at, key));
      delete value[key];
    } else {
      walk(child, type, join(at, key), out);
    }
  }
}
