// Structural OpenAPI v3 schemas as kube-apiserver applies them to custom
// resources: defaulting, pruning of unknown fields, validation, then CEL rules.
import type { CelInput } from '@bufbuild/cel';
import { RE2JS } from '@bufbuild/re2';
import { compileRule } from './cel.js';
import { clone, isObject, type Json, type JsonObject } from './patch.js';
import type { FieldError } from './status.js';

export interface ValidationRule {
  rule: string;
  message?: string;
  /** Relative path (`.a.b`) the error is reported at. */
  fieldPath?: string;
}

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: Json[];
  pattern?: string;
  format?: string;
  default?: Json;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-validations'?: ValidationRule[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
}

const patterns = new Map<string, RE2JS>();

/** `pattern` is a Go (RE2) regular expression, matched anywhere in the value as Go's MatchString. */
function re2(pattern: string): RE2JS {
  let compiled = patterns.get(pattern);
  if (!compiled) {
    compiled = RE2JS.compile(pattern);
    patterns.set(pattern, compiled);
  }
  return compiled;
}

/**
 * Refuses a CRD whose CEL rule does not compile or whose pattern is no RE2
 * regular expression, naming the place (as the apiserver does).
 */
export function compileRules(schema: Schema, path = ''): void {
  if (schema.pattern !== undefined) {
    try {
      re2(schema.pattern);
    } catch (error) {
      throw new Error(
        `spec.validation.openAPIV3Schema${path}.pattern: Invalid value: ${JSON.stringify(schema.pattern)}: ` +
          `must be a valid regular expression, but isn't: ${(error as Error).message}`,
      );
    }
  }
  for (const { rule, fieldPath } of schema['x-kubernetes-validations'] ?? []) {
    const at = `spec.validation.openAPIV3Schema${path}.x-kubernetes-validations`;
    try {
      compileRule(rule);
    } catch (error) {
      throw new Error(`${at}: Invalid value: compilation failed: ${(error as Error).message}: ${rule}`);
    }
    if (fieldPath !== undefined && !fieldPathExists(schema, fieldPath)) {
      throw new Error(
        `${at}: Invalid value: ${JSON.stringify(fieldPath)}: ` +
          `fieldPath must be a valid path: does not refer to a field of the schema`,
      );
    }
  }
  for (const [name, child] of Object.entries(schema.properties ?? {})) compileRules(child, `${path}.${name}`);
  if (schema.items) compileRules(schema.items, `${path}[*]`);
  if (isObject(schema.additionalProperties)) compileRules(schema.additionalProperties as Schema, `${path}[*]`);
}

/** A rule's fieldPath (`.a.b`, no list indexes) must name a property below the rule (as the apiserver checks). */
function fieldPathExists(schema: Schema, fieldPath: string): boolean {
  if (!/^(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(fieldPath)) return false;
  let node: Schema | undefined = schema;
  for (const key of fieldPath.slice(1).split('.')) node = node?.properties?.[key];
  return node !== undefined;
}

function childSchema(schema: Schema, key: string): Schema | undefined {
  if (schema.properties?.[key]) return schema.properties[key];
  if (isObject(schema.additionalProperties)) return schema.additionalProperties as Schema;
  return undefined;
}

/** Applies `default`s and drops fields the schema does not know, in place, adding their paths to `pruned`. */
export function defaultAndPrune(value: Json, schema: Schema, isRoot = true, pruned: string[] = [], at = ''): void {
  if (isObject(value)) {
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      if (value[key] === undefined && child.default !== undefined) value[key] = clone(child.default);
    }
    const keepUnknown = schema['x-kubernetes-preserve-unknown-fields'] === true || schema.additionalProperties === true;
    for (const key of Object.keys(value)) {
      // metadata is the apiserver's own business, never pruned by the CRD schema.
      if (isRoot && (key === 'metadata' || key === 'apiVersion' || key === 'kind')) continue;
      const child = childSchema(schema, key);
      const path = at === '' ? key : `${at}.${key}`;
      if (child) {
        defaultAndPrune(value[key], child, false, pruned, path);
      } else if (!keepUnknown) {
        pruned.push(path);
        delete value[key];
      }
    }
  } else if (Array.isArray(value) && schema.items) {
    for (const [i, item] of value.entries())
      defaultAndPrune(item, schema.items as Schema, false, pruned, `${at}[${i}]`);
  }
}

function show(value: Json): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return '"array"';
  if (isObject(value)) return '"object"';
  return String(value);
}

function typeOf(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(schema: Schema, value: Json): boolean {
  if (schema['x-kubernetes-int-or-string']) return typeof value === 'string' || Number.isInteger(value);
  if (!schema.type) return true;
  if (value === null) return schema.nullable === true;
  const actual = typeOf(value);
  return actual === schema.type || (schema.type === 'number' && actual === 'integer');
}

const dateTime = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
/**
 * Go's time.ParseDuration syntax; kube-openapi also takes forms like "3 days", so the double is stricter there, never
 * kinder.
 */
const goDuration = /^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$/;

function invalidValue(path: string, value: Json, detail: string, type = 'FieldValueInvalid'): FieldError {
  return { field: path, type, text: `${path}: Invalid value: ${show(value)}: ${detail}` };
}

function validateScalar(value: Json, schema: Schema, path: string, errors: FieldError[]): void {
  if (schema.enum && !schema.enum.some((allowed) => JSON.stringify(allowed) === JSON.stringify(value))) {
    const supported = schema.enum.map((v) => JSON.stringify(v)).join(', ');
    errors.push({
      field: path,
      type: 'FieldValueNotSupported',
      text: `${path}: Unsupported value: ${show(value)}: supported values: ${supported}`,
    });
  }
  if (typeof value === 'string') {
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      errors.push({
        field: path,
        type: 'FieldValueTooLong',
        text: `${path}: Too long: may not be longer than ${schema.maxLength}`,
      });
    }
    if (schema.minLength !== undefined && value.length < schema.minLength) {
      errors.push(invalidValue(path, value, `${path} in body should be at least ${schema.minLength} chars long`));
    }
    if (schema.pattern && !re2(schema.pattern).test(value)) {
      errors.push(invalidValue(path, value, `${path} in body should match '${schema.pattern}'`));
    }
    if (schema.format === 'duration' && !goDuration.test(value)) {
      errors.push(invalidValue(path, value, `${path} in body must be of type duration: ${JSON.stringify(value)}`));
    }
    if (schema.format === 'date-time' && !dateTime.test(value)) {
      errors.push(invalidValue(path, value, `${path} in body must be of type date-time: ${JSON.stringify(value)}`));
    }
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) {
      errors.push(invalidValue(path, value, `${path} in body should be greater than or equal to ${schema.minimum}`));
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      errors.push(invalidValue(path, value, `${path} in body should be less than or equal to ${schema.maximum}`));
    }
  }
}

/** OpenAPI validation; returns field errors with the apiserver's wording. */
export function validateSchema(value: Json, schema: Schema, path: string, errors: FieldError[]): void {
  if (!typeMatches(schema, value)) {
    const expected = schema['x-kubernetes-int-or-string'] ? 'integer,string' : schema.type;
    errors.push({
      field: path,
      type: 'FieldValueTypeInvalid',
      text:
        `${path}: Invalid value: "${typeOf(value)}": ` +
        `${path} in body must be of type ${expected}: "${typeOf(value)}"`,
    });
    return;
  }
  if (isObject(value)) {
    for (const key of schema.required ?? []) {
      if (value[key] === undefined)
        errors.push({ field: join(path, key), type: 'FieldValueRequired', text: `${join(path, key)}: Required value` });
    }
    for (const [key, child] of Object.entries(value)) {
      const sub = childSchema(schema, key);
      if (sub && !(path === '' && key === 'metadata')) validateSchema(child, sub, join(path, key), errors);
    }
  } else if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      errors.push(invalidValue(path, value.length, `${path} in body should have at least ${schema.minItems} items`));
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      errors.push({
        field: path,
        type: 'FieldValueTooMany',
        text: `${path}: Too many: ${value.length}: must have at most ${schema.maxItems} items`,
      });
    }
    if (schema.items) {
      for (const [i, item] of value.entries()) validateSchema(item, schema.items as Schema, `${path}[${i}]`, errors);
    }
    validateListType(value, schema, path, errors);
  } else {
    validateScalar(value, schema, path, errors);
  }
}

/** Go's %#v of the key map a duplicate is reported with, e.g. map[string]interface {}{"name":"a"}. */
function goKeyMap(item: JsonObject, keys: string[]): string {
  return `map[string]interface {}{${[...keys]
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(item[k])}`)
    .join(', ')}}`;
}

/** x-kubernetes-list-type map and set: no two items with the same keys (map) or value (set). */
function validateListType(value: Json[], schema: Schema, path: string, errors: FieldError[]): void {
  const listType = schema['x-kubernetes-list-type'];
  if (listType !== 'map' && listType !== 'set') return;
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  const seen = new Set<string>();
  value.forEach((item, i) => {
    const identity =
      listType === 'map' && isObject(item) ? JSON.stringify(keys.map((k) => item[k])) : JSON.stringify(item);
    if (!seen.has(identity)) {
      seen.add(identity);
      return;
    }
    const shown = listType === 'map' && isObject(item) ? goKeyMap(item, keys) : show(item);
    errors.push({
      field: `${path}[${i}]`,
      type: 'FieldValueDuplicate',
      text: `${path}[${i}]: Duplicate value: ${shown}`,
    });
  });
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** A JSON value as kube-apiserver hands it to CEL: integers as int, objects as maps without their null fields. */
function toCel(value: Json, schema: Schema | undefined): CelInput {
  // kube gives `format: duration` / `date-time` strings as durations / timestamps;
  // here they stay strings, so rules wrap them (`duration(self)`), which takes both.
  if (typeof value === 'number') return schema?.type === 'number' || !Number.isInteger(value) ? value : BigInt(value);
  if (Array.isArray(value)) return value.map((item) => toCel(item, schema?.items));
  if (isObject(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== null);
    return new Map(entries.map(([key, v]) => [key, toCel(v, schema ? childSchema(schema, key) : undefined)]));
  }
  return value;
}

/** Rules at the root see only metadata.name and metadata.generateName of the metadata. */
function rootView(value: Json): Json {
  if (!isObject(value) || !isObject(value.metadata)) return value;
  const { name, generateName } = value.metadata;
  const metadata: JsonObject = {};
  if (name !== undefined) metadata.name = name;
  if (generateName !== undefined) metadata.generateName = generateName;
  return { ...value, metadata };
}

/** The old value an item correlates with: by key in a list-type=map list, none in other lists (as kube 1.29). */
function oldItem(schema: Schema, old: Json | undefined, item: Json): Json | undefined {
  if (!Array.isArray(old) || schema['x-kubernetes-list-type'] !== 'map' || !isObject(item)) return undefined;
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  return old.find(
    (candidate) =>
      isObject(candidate) && keys.every((key) => JSON.stringify(candidate[key]) === JSON.stringify(item[key])),
  );
}

/**
 * CEL rules, run only when the OpenAPI validation found nothing (as the real
 * server). `old` is the correlated old value on an update: transition rules
 * (those using oldSelf) run only where there is one.
 */
export function validateRules(value: Json, schema: Schema, path: string, errors: FieldError[], old?: Json): void {
  for (const { rule, message, fieldPath } of schema['x-kubernetes-validations'] ?? []) {
    const compiled = compileRule(rule);
    if (compiled.transition && old === undefined) continue;
    const self = path === '' ? rootView(value) : value;
    const oldSelf = compiled.transition ? (path === '' ? rootView(old as Json) : (old as Json)) : undefined;
    const outcome = compiled.evaluate(toCel(self, schema), oldSelf === undefined ? undefined : toCel(oldSelf, schema));
    if (outcome === true) continue;
    // As kube: a false rule is reported at its fieldPath, an evaluation error at the rule's node.
    const at = fieldPath && outcome === false ? `${path}${fieldPath}` : path;
    const field = at === '' ? '<nil>' : at;
    const detail = outcome === false ? (message ?? `failed rule: ${rule}`) : `${outcome} evaluating rule: ${rule}`;
    errors.push({
      field,
      type: 'FieldValueInvalid',
      text: `${field}: Invalid value: "${schema.type ?? typeOf(value)}": ${detail}`,
    });
  }
  if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      const sub = childSchema(schema, key);
      if (sub) validateRules(child, sub, join(path, key), errors, isObject(old) ? (old[key] ?? undefined) : undefined);
    }
  } else if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    for (const [i, item] of value.entries())
      validateRules(item, items, `${path}[${i}]`, errors, oldItem(schema, old, item));
  }
}

export function hasRules(schema: Schema): boolean {
  if ((schema['x-kubernetes-validations'] ?? []).length > 0) return true;
  const children = [...Object.values(schema.properties ?? {}), ...(schema.items ? [schema.items] : [])];
  if (isObject(schema.additionalProperties)) children.push(schema.additionalProperties as Schema);
  return children.some(hasRules);
}

/**
 * Errors after which kube-apiserver does not run the CEL rules (its strategy's
 * hasBlockingErr): the object lacks the shape the rules were written for. A
 * pattern, format or minimum failure does not block: the rules still run.
 */
const blocking = new Set([
  'FieldValueNotSupported',
  'FieldValueRequired',
  'FieldValueTooLong',
  'FieldValueTooMany',
  'FieldValueTypeInvalid',
]);

/**
 * Everything the apiserver does to a custom resource body before storing it;
 * the paths of dropped unknown fields go to `pruned`.
 */
export function admitCustomResource(
  object: JsonObject,
  schema: Schema,
  old?: JsonObject,
  pruned: string[] = [],
): FieldError[] {
  defaultAndPrune(object, schema, true, pruned);
  const errors: FieldError[] = [];
  validateSchema(object, schema, '', errors);
  if (!errors.some((error) => blocking.has(error.type))) {
    validateRules(object, schema, '', errors, old);
  } else if (hasRules(schema)) {
    errors.push({
      field: '<nil>',
      type: 'InternalError',
      text:
        '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; ' +
        'correct the existing errors to complete validation',
    });
  }
  return errors;
}
