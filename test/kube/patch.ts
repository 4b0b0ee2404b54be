// JSON merge patch (RFC 7386) and JSON patch (RFC 6902) on plain JSON values.
import { ApiError, badRequest } from './status.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// JSON round trip: our values are JSON, and it is several times faster than structuredClone.
export function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** JSON text with object keys sorted: equal values give equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isObject(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

interface Operation {
  op: string;
  path: string;
  value?: Json;
  from?: string;
}

function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`invalid JSON pointer: ${path}`);
  return path.slice(1).split('/').map(unescapePointer);
}

// A failed patch operation is a 422 in kube-apiserver ("the server rejected our request").
function unprocessable(message: string): ApiError {
  return new ApiError(422, 'Invalid', message);
}

function parentOf(doc: Json, tokens: string[], path: string): { parent: JsonObject | Json[]; key: string } {
  let current: Json = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isObject(current)) current = current[token];
    else current = null;
    if (current === undefined || current === null || typeof current !== 'object') {
      throw unprocessable(`jsonpatch: doc is missing path: "${path}": missing value`);
    }
  }
  return { parent: current as JsonObject | Json[], key: tokens[tokens.length - 1] };
}

function arrayIndex(array: Json[], key: string, path: string, forInsert: boolean): number {
  if (forInsert && key === '-') return array.length;
  const index = Number(key);
  const limit = forInsert ? array.length : array.length - 1;
  if (!/^(0|[1-9][0-9]*)$/.test(key) || index > limit) {
    throw unprocessable(`jsonpatch: unable to access invalid index: ${key} in "${path}"`);
  }
  return index;
}

function read(doc: Json, path: string): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return doc;
  const { parent, key } = parentOf(doc, tokens, path);
  const value = Array.isArray(parent) ? parent[arrayIndex(parent, key, path, false)] : parent[key];
  if (value === undefined) throw unprocessable(`jsonpatch: doc is missing key: "${path}"`);
  return value;
}

function remove(doc: Json, path: string): Json {
  const { parent, key } = parentOf(doc, pointer(path), path);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, path, false), 1)[0];
  if (!(key in parent)) throw unprocessable(`jsonpatch: doc is missing key: "${path}"`);
  const old = parent[key];
  delete parent[key];
  return old;
}

function add(doc: Json, path: string, value: Json, replace: boolean): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, key, path, !replace);
    parent.splice(index, replace ? 1 : 0, clone(value));
  } else {
    if (replace && !(key in parent)) throw unprocessable(`jsonpatch: doc is missing key: "${path}"`);
    parent[key] = clone(value);
  }
  return doc;
}

export function jsonPatch(target: Json, patch: Json): Json {
  if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = clone(target);
  for (const raw of patch) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw badRequest('jsonpatch: every operation needs a string "op" and "path"');
    }
    const op = raw as unknown as Operation;
    switch (op.op) {
      case 'add':
      case 'replace':
        if (op.value === undefined) throw badRequest(`jsonpatch: ${op.op} operation does not apply: value is missing`);
        doc = add(doc, op.path, op.value, op.op === 'replace');
        break;
      case 'remove':
        remove(doc, op.path);
        break;
      case 'move':
      case 'copy': {
        if (op.from === undefined) throw badRequest(`jsonpatch: ${op.op} operation needs "from"`);
        const value = op.op === 'move' ? remove(doc, op.from) : clone(read(doc, op.from));
        doc = add(doc, op.path, value, false);
        break;
      }
      case 'test':
        if (JSON.stringify(read(doc, op.path)) !== JSON.stringify(op.value ?? null)) {
          throw unprocessable(`jsonpatch: testing value ${op.path} failed: test failed`);
        }
        break;
      default:
        throw badRequest(`jsonpatch: unexpected kind of operation: ${op.op}`);
    }
  }
  return doc;
}
