// Structural OpenAPI v3 schemas as kube-apiserver applies them to custom
// resources: defaulting, pruning of unknown fields, validation, then CEL rules.
import { celPredicateFor, type CelPredicate } from './cel.js';
import { clone, isObject, type Json, type JsonObject } from './patch.js';
import type { FieldError } from './status.js';

export interface ValidationRule {
  rule: string;
  message?: string;
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
}

/** Fails loudly when a CRD carries a CEL rule the double cannot evaluate. */
export function compileRules(schema: Schema, path = ''): void {
  for (const { rule } of schema['x-kubernetes-validations'] ?? []) {
    if (!celPredicateFor(rule)) throw new Error(`CRD rule at ${path || '<root>'} has no predicate in test/kube/cel.ts: ${rule}`);
  }
  for (const [name, child] of Object.entries(schema.properties ?? {})) compileRules(child, `${path}.${name}`);
  if (schema.items) compileRules(schema.items, `${path}[*]`);
  if (isObject(schema.additionalProperties)) compileRules(schema.additionalProperties as Schema, `${path}[*]`);
}

function childSchema(schema: Schema, key: string): Schema | undefined {
  if (schema.properties?.[key]) return schema.properties[key];
  if (isObject(schema.additionalProperties)) return schema.additionalProperties as Schema;
  return undefined;
}

/** Applies `default`s and drops fields the schema does not know, in place. */
export function defaultAndPrune(value: Json, schema: Schema, isRoot = true): void {
  if (isObject(value)) {
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      if (value[key] === undefined && child.default !== undefined) value[key] = clone(child.default);
    }
    const keepUnknown = schema['x-kubernetes-preserve-unknown-fields'] === true || schema.additionalProperties === true;
    for (const key of Object.keys(value)) {
      // metadata is the apiserver's own business, never pruned by the CRD schema.
      if (isRoot && (key === 'metadata' || key === 'apiVersion' || key === 'kind')) continue;
      const child = childSchema(schema, key);
      if (child) defaultAndPrune(value[key], child, false);
      else if (!keepUnknown) delete value[key];
    }
  } else if (Array.isArray(value) && schema.items) {
    for (const item of value) defaultAndPrune(item, schema.items, false);
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

function invalidValue(path: string, value: Json, detail: string, type = 'FieldValueInvalid'): FieldError {
  return { field: path, type, text: `${path}: Invalid value: ${show(value)}: ${detail}` };
}

function validateScalar(value: Json, schema: Schema, path: string, errors: FieldError[]): void {
  if (schema.enum && !schema.enum.some((allowed) => JSON.stringify(allowed) === JSON.stringify(value))) {
    const supported = schema.enum.map((v) => JSON.stringify(v)).join(', ');
    errors.push({ field: path, type: 'FieldValueNotSupported', text: `${path}: Unsupported value: ${show(value)}: supported values: ${supported}` });
  }
  if (typeof value === 'string') {
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      errors.push({ field: path, type: 'FieldValueTooLong', text: `${path}: Too long: may not be longer than ${schema.maxLength}` });
    }
    if (schema.minLength !== undefined && value.length < schema.minLength) {
      errors.push(invalidValue(path, value, `${path} in body should be at least ${schema.minLength} chars long`));
    }
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) {
      errors.push(invalidValue(path, value, `${path} in body should match '${schema.pattern}'`));
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
      text: `${path}: Invalid value: "${typeOf(value)}": ${path} in body must be of type ${expected}: "${typeOf(value)}"`,
    });
    return;
  }
  if (isObject(value)) {
    for (const key of schema.required ?? []) {
      if (value[key] === undefined) errors.push({ field: join(path, key), type: 'FieldValueRequired', text: `${join(path, key)}: Required value` });
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
      errors.push({ field: path, type: 'FieldValueTooMany', text: `${path}: Too many: ${value.length}: must have at most ${schema.maxItems} items` });
    }
    if (schema.items) value.forEach((item, i) => validateSchema(item, schema.items as Schema, `${path}[${i}]`, errors));
  } else {
    validateScalar(value, schema, path, errors);
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** CEL rules, run only when the OpenAPI validation found nothing (as the real server). */
export function validateRules(value: Json, schema: Schema, path: string, errors: FieldError[]): void {
  for (const { rule, message } of schema['x-kubernetes-validations'] ?? []) {
    const predicate = celPredicateFor(rule) as CelPredicate;
    if (!predicate(value)) {
      const field = path === '' ? '<nil>' : path;
      errors.push({ field, type: 'FieldValueInvalid', text: `${field}: Invalid value: "${typeOf(value)}": ${message ?? `failed rule: ${rule}`}` });
    }
  }
  if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      const sub = childSchema(schema, key);
      if (sub) validateRules(child, sub, join(path, key), errors);
    }
  } else if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => validateRules(item, schema.items as Schema, `${path}[${i}]`, errors));
  }
}

export function hasRules(schema: Schema): boolean {
  if ((schema['x-kubernetes-validations'] ?? []).length > 0) return true;
  const children = [...Object.values(schema.properties ?? {}), ...(schema.items ? [schema.items] : [])];
  if (isObject(schema.additionalProperties)) children.push(schema.additionalProperties as Schema);
  return children.some(hasRules);
}

/** Everything the apiserver does to a custom resource body before storing it. */
export function admitCustomResource(object: JsonObject, schema: Schema): FieldError[] {
  defaultAndPrune(object, schema);
  const errors: FieldError[] = [];
  validateSchema(object, schema, '', errors);
  if (errors.length === 0) {
    validateRules(object, schema, '', errors);
  } else if (hasRules(schema)) {
    errors.push({
      field: '<nil>',
      type: 'InternalError',
      text: '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    });
  }
  return errors;
}
