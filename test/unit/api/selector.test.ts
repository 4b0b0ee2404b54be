import { describe, expect, test } from 'vitest';
import { matchesAnySelector, matchesLabelSelector, parseLabelSelector } from '../../../src/api/selector.js';
import type { LabelSelector } from '../../../src/api/types.js';

describe('matchesLabelSelector', () => {
  const labels = { app: 'web', tier: 'front' };
  test.each<[string, LabelSelector, boolean]>([
    ['empty selector matches everything', {}, true],
    ['matchLabels all equal', { matchLabels: { app: 'web', tier: 'front' } }, true],
    ['matchLabels one differs', { matchLabels: { app: 'web', tier: 'back' } }, false],
    ['matchLabels key missing', { matchLabels: { env: 'prod' } }, false],
    ['In with the value', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['back', 'front'] }] }, true],
    ['In without the value', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] }, false],
    ['In on a missing key', { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }, false],
    ['NotIn without the value', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['back'] }] }, true],
    ['NotIn with the value', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, false],
    ['NotIn on a missing key', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, true],
    ['Exists present', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    ['Exists absent', { matchExpressions: [{ key: 'env', operator: 'Exists' }] }, false],
    ['DoesNotExist absent', { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist present', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    [
      'labels and expressions both must hold',
      { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'Exists' }] },
      false,
    ],
  ])('%s', (_name, selector, expected) => {
    expect(matchesLabelSelector(selector, labels)).toBe(expected);
  });

  test('a list matches when any selector does; an empty list matches nothing', () => {
    expect(matchesAnySelector([{ matchLabels: { app: 'db' } }, { matchLabels: { app: 'web' } }], { app: 'web' })).toBe(
      true,
    );
    expect(matchesAnySelector([], { app: 'web' })).toBe(false);
  });
});

describe('parseLabelSelector', () => {
  test('a valid selector comes back as given', () => {
    const raw = {
      matchLabels: { 'example.com/app': 'web' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }],
    };
    expect(parseLabelSelector(raw, 's')).toEqual({ ok: true, selector: raw });
  });

  test.each<[string, unknown, string[]]>([
    ['not an object', [], ['s: must be an object with matchLabels and/or matchExpressions']],
    ['unknown field', { matchLabel: {} }, ['s.matchLabel: unknown field']],
    ['matchLabels not a map', { matchLabels: ['a'] }, ['s.matchLabels: must be a map of label key to value']],
    [
      'bad key',
      { matchLabels: { '-bad': 'x' } },
      [
        's.matchLabels: "-bad" is not a valid label key ' +
          '(name part: up to 63 letters, digits, "-", "_", ".", starting and ending alphanumeric)',
      ],
    ],
    [
      'bad key prefix',
      { matchLabels: { 'Bad_Prefix/app': 'x' } },
      ['s.matchLabels: "Bad_Prefix/app" is not a valid label key (prefix must be a DNS subdomain)'],
    ],
    ['non-string value', { matchLabels: { app: 3 } }, ['s.matchLabels["app"]: must be a string']],
    [
      'bad value',
      { matchLabels: { app: 'has space' } },
      [
        's.matchLabels["app"]: "has space" is not a valid label value ' +
          '(up to 63 letters, digits, "-", "_", ".", starting and ending alphanumeric)',
      ],
    ],
    ['expressions not a list', { matchExpressions: {} }, ['s.matchExpressions: must be a list']],
    [
      'expression not an object',
      { matchExpressions: ['x'] },
      ['s.matchExpressions[0]: must be an object with key, operator and values'],
    ],
    ['missing key', { matchExpressions: [{ operator: 'Exists' }] }, ['s.matchExpressions[0].key: required']],
    [
      'unknown operator',
      { matchExpressions: [{ key: 'a', operator: 'in', values: ['x'] }] },
      ['s.matchExpressions[0].operator: must be one of In, NotIn, Exists, DoesNotExist (got "in")'],
    ],
    [
      'In without values',
      { matchExpressions: [{ key: 'a', operator: 'In' }] },
      ['s.matchExpressions[0].values: must not be empty for operator In'],
    ],
    [
      'Exists with values',
      { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] },
      ['s.matchExpressions[0].values: must be empty for operator Exists'],
    ],
    [
      'values not strings',
      { matchExpressions: [{ key: 'a', operator: 'NotIn', values: [1] }] },
      [
        's.matchExpressions[0].values: must be a list of strings',
        's.matchExpressions[0].values: must not be empty for operator NotIn',
      ],
    ],
  ])('%s is refused', (_name, raw, errors) => {
    expect(parseLabelSelector(raw, 's')).toEqual({ ok: false, errors });
  });
});
