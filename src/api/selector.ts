import type { LabelSelector, LabelSelectorOperator, LabelSelectorRequirement } from './types.js';

export type Labels = Readonly<Record<string, string>>;

export type ParseSelectorResult = { ok: true; selector: LabelSelector } | { ok: false; errors: string[] };

const OPERATORS: readonly LabelSelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];
const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes qualified-name rule for label keys: `[prefix/]name`, name <= 63 chars, prefix a DNS subdomain. */
export function labelKeyError(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  if (!NAME_PART.test(name))
    return (
      `"${key}" is not a valid label key ` +
      `(name part: up to 63 letters, digits, "-", "_", ".", starting and ending alphanumeric)`
    );
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `"${key}" is not a valid label key (prefix must be a DNS subdomain)`;
  }
  return undefined;
}

export function labelValueError(value: string): string | undefined {
  if (value === '' || NAME_PART.test(value)) return undefined;
  return (
    `"${value}" is not a valid label value ` +
    `(up to 63 letters, digits, "-", "_", ".", starting and ending alphanumeric)`
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a raw metav1.LabelSelector; every error names its field under `path`. */
export function parseLabelSelector(raw: unknown, path: string): ParseSelectorResult {
  if (!isPlainObject(raw))
    return { ok: false, errors: [`${path}: must be an object with matchLabels and/or matchExpressions`] };
  const errors: string[] = [];
  const selector: LabelSelector = {};
  for (const field of Object.keys(raw)) {
    if (field !== 'matchLabels' && field !== 'matchExpressions') errors.push(`${path}.${field}: unknown field`);
  }
  if (raw.matchLabels !== undefined) {
    if (!isPlainObject(raw.matchLabels)) {
      errors.push(`${path}.matchLabels: must be a map of label key to value`);
    } else {
      const matchLabels: Record<string, string> = {};
      for (const [key, value] of Object.entries(raw.matchLabels)) {
        const keyError = labelKeyError(key);
        if (keyError) errors.push(`${path}.matchLabels: ${keyError}`);
        if (typeof value !== 'string') {
          errors.push(`${path}.matchLabels["${key}"]: must be a string`);
          continue;
        }
        const valueError = labelValueError(value);
        if (valueError) errors.push(`${path}.matchLabels["${key}"]: ${valueError}`);
        matchLabels[key] = value;
      }
      selector.matchLabels = matchLabels;
    }
  }
  if (raw.matchExpressions !== undefined) {
    if (!Array.isArray(raw.matchExpressions)) {
      errors.push(`${path}.matchExpressions: must be a list`);
    } else {
      const expressions: LabelSelectorRequirement[] = [];
      raw.matchExpressions.forEach((item: unknown, index: number) => {
        const parsed = parseRequirement(item, `${path}.matchExpressions[${index}]`, errors);
        if (parsed) expressions.push(parsed);
      });
      selector.matchExpressions = expressions;
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, selector };
}

function parseRequirement(raw: unknown, path: string, errors: string[]): LabelSelectorRequirement | undefined {
  if (!isPlainObject(raw)) {
    errors.push(`${path}: must be an object with key, operator and values`);
    return undefined;
  }
  const before = errors.length;
  const { key, operator, values } = raw;
  if (typeof key !== 'string' || key === '') errors.push(`${path}.key: required`);
  else {
    const keyError = labelKeyError(key);
    if (keyError) errors.push(`${path}.key: ${keyError}`);
  }
  if (typeof operator !== 'string' || !OPERATORS.includes(operator as LabelSelectorOperator)) {
    errors.push(`${path}.operator: must be one of ${OPERATORS.join(', ')} (got ${JSON.stringify(operator)})`);
  }
  if (values !== undefined && (!Array.isArray(values) || values.some((v) => typeof v !== 'string'))) {
    errors.push(`${path}.values: must be a list of strings`);
  }
  const list = Array.isArray(values) ? (values as unknown[]).filter((v): v is string => typeof v === 'string') : [];
  if ((operator === 'In' || operator === 'NotIn') && list.length === 0)
    errors.push(`${path}.values: must not be empty for operator ${operator}`);
  if ((operator === 'Exists' || operator === 'DoesNotExist') && list.length > 0)
    errors.push(`${path}.values: must be empty for operator ${operator}`);
  for (const value of list) {
    const valueError = labelValueError(value);
    if (valueError) errors.push(`${path}.values: ${valueError}`);
  }
  if (errors.length > before) return undefined;
  const requirement: LabelSelectorRequirement = { key: key as string, operator: operator as LabelSelectorOperator };
  if (list.length > 0) requirement.values = list;
  return requirement;
}

/** metav1 semantics: all of matchLabels and all expressions must hold; an empty selector matches everything. */
export function matchesLabelSelector(selector: LabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const requirement of selector.matchExpressions ?? []) {
    if (!matchesRequirement(requirement, labels)) return false;
  }
  return true;
}

function matchesRequirement(requirement: LabelSelectorRequirement, labels: Labels): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = has ? labels[requirement.key] : undefined;
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

/** True when any selector in the list matches (how pool and node selector lists combine). */
export function matchesAnySelector(selectors: readonly LabelSelector[], labels: Labels): boolean {
  return selectors.some((selector) => matchesLabelSelector(selector, labels));
}

/** Node selection in every ironlb kind that has `nodeSelectors` (MetalLB's rule): none selects every node. */
export function nodeSelectorsMatch(nodeSelectors: readonly LabelSelector[], nodeLabels: Labels): boolean {
  return nodeSelectors.length === 0 || matchesAnySelector(nodeSelectors, nodeLabels);
}
