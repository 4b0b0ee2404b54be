// Label and field selectors with kube-apiserver's syntax and error messages.
import { badRequest } from './status.js';

type LabelRequirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export type LabelSelector = LabelRequirement[];

const keyPattern =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const valuePattern = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Splits on commas that are not inside `(...)`. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function checkKey(key: string, whole: string): string {
  if (!keyPattern.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${whole}"`);
  return key;
}

function checkValue(value: string, whole: string): string {
  if (value.length > 63 || !valuePattern.test(value)) {
    throw badRequest(`unable to parse requirement: invalid label value: "${value}" in "${whole}"`);
  }
  return value;
}

export function parseLabelSelector(text: string): LabelSelector {
  const requirements: LabelSelector = [];
  if (text.trim() === '') return requirements;
  for (const raw of splitTopLevel(text)) {
    const part = raw.trim();
    const setMatch = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (setMatch) {
      const values = setMatch[3].split(',').map((v) => checkValue(v.trim(), text));
      requirements.push({ op: setMatch[2] === 'in' ? 'in' : 'notin', key: checkKey(setMatch[1], text), values });
      continue;
    }
    const cmpMatch = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
    if (cmpMatch) {
      const op = cmpMatch[2] === '!=' ? 'neq' : 'eq';
      requirements.push({ op, key: checkKey(cmpMatch[1], text), value: checkValue(cmpMatch[3], text) });
      continue;
    }
    if (part.startsWith('!')) {
      requirements.push({ op: 'notexists', key: checkKey(part.slice(1).trim(), text) });
      continue;
    }
    if (part !== '' && !/[\s()=]/.test(part)) {
      requirements.push({ op: 'exists', key: checkKey(part, text) });
      continue;
    }
    throw badRequest(`unable to parse requirement: found '${part}', expected: identifier in "${text}"`);
  }
  return requirements;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const have = labels ?? {};
  return selector.every((r) => {
    const present = Object.hasOwn(have, r.key);
    switch (r.op) {
      case 'eq':
        return present && have[r.key] === r.value;
      case 'neq':
        return !present || have[r.key] !== r.value;
      case 'in':
        return present && r.values.includes(have[r.key]);
      case 'notin':
        return !present || !r.values.includes(have[r.key]);
      case 'exists':
        return present;
      case 'notexists':
        return !present;
      default:
        // A new operator fails to compile here.
        return r satisfies never;
    }
  });
}

interface FieldRequirement {
  path: string;
  value: string;
  negate: boolean;
}

export type FieldSelector = FieldRequirement[];

/** `supported` lists the field paths this resource allows, as the real server does per type. */
export function parseFieldSelector(text: string, supported: readonly string[]): FieldSelector {
  const requirements: FieldSelector = [];
  if (text.trim() === '') return requirements;
  for (const raw of text.split(',')) {
    const match = /^([^=!]+)(==|=|!=)(.*)$/.exec(raw.trim());
    if (!match) throw badRequest(`invalid selector: '${text}'; can't understand '${raw}'`);
    const path = match[1].trim();
    if (!supported.includes(path)) throw badRequest(`field label not supported: ${path}`);
    requirements.push({ path, value: match[3].trim(), negate: match[2] === '!=' });
  }
  return requirements;
}

/** Reads a dotted path as a string; missing fields read as "" like the real field sets. */
export function fieldValue(object: unknown, path: string): string {
  let current: unknown = object;
  for (const step of path.split('.')) {
    if (current === null || typeof current !== 'object') return '';
    current = (current as Record<string, unknown>)[step];
  }
  if (current === undefined || current === null) return '';
  return typeof current === 'string' ? current : String(current);
}

export function matchesFields(selector: FieldSelector, object: unknown): boolean {
  return selector.every((r) => (fieldValue(object, r.path) === r.value) !== r.negate);
}
