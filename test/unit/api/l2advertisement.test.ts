import { describe, expect, test } from 'vitest';
import {
  advertisementCoversPool,
  advertisementSelectsNode,
  parseL2Advertisement,
  type ParsedL2Advertisement,
} from '../../../src/api/l2advertisement.js';

function parsed(spec: unknown): ParsedL2Advertisement {
  const result = parseL2Advertisement({ metadata: { name: 'adv' }, spec });
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.advertisement;
}

describe('parseL2Advertisement', () => {
  test('an empty spec is valid and covers everything', () => {
    const adv = parsed(undefined);
    expect(adv).toEqual({
      name: 'adv',
      ipAddressPools: [],
      ipAddressPoolSelectors: [],
      nodeSelectors: [],
      interfaces: [],
    });
    expect(advertisementCoversPool(adv, 'any', {})).toBe(true);
    expect(advertisementSelectsNode(adv, {})).toBe(true);
  });

  test('pools by name or by selector; nodes by selector', () => {
    const adv = parsed({
      ipAddressPools: ['lab'],
      ipAddressPoolSelectors: [{ matchLabels: { zone: 'a' } }],
      nodeSelectors: [{ matchLabels: { rack: '1' } }],
      interfaces: ['eth0'],
    });
    expect(advertisementCoversPool(adv, 'lab', {})).toBe(true);
    expect(advertisementCoversPool(adv, 'other', { zone: 'a' })).toBe(true);
    expect(advertisementCoversPool(adv, 'other', { zone: 'b' })).toBe(false);
    expect(advertisementSelectsNode(adv, { rack: '1' })).toBe(true);
    expect(advertisementSelectsNode(adv, { rack: '2' })).toBe(false);
    expect(adv.interfaces).toEqual(['eth0']);
  });

  test.each<[string, unknown, string[]]>([
    ['not an object', null, ['L2Advertisement: must be an object']],
    ['no name', { metadata: {}, spec: {} }, ['metadata.name: required']],
    ['spec not an object', { metadata: { name: 'a' }, spec: [] }, ['spec: must be an object']],
    [
      'pools not a list',
      { metadata: { name: 'a' }, spec: { ipAddressPools: 'lab' } },
      ['spec.ipAddressPools: must be a list'],
    ],
    [
      'bad pool name',
      { metadata: { name: 'a' }, spec: { ipAddressPools: ['Lab Pool'] } },
      ['spec.ipAddressPools[0]: "Lab Pool" is not a pool name'],
    ],
    [
      'bad node selector',
      { metadata: { name: 'a' }, spec: { nodeSelectors: [{ matchLabels: { rack: 1 } }] } },
      ['spec.nodeSelectors[0].matchLabels["rack"]: must be a string'],
    ],
    [
      'bad pool selector',
      { metadata: { name: 'a' }, spec: { ipAddressPoolSelectors: 'x' } },
      ['spec.ipAddressPoolSelectors: must be a list of label selectors'],
    ],
    [
      'interface name too long',
      { metadata: { name: 'a' }, spec: { interfaces: ['averyveryverylongname'] } },
      ['spec.interfaces[0]: "averyveryverylongname" is not an interface name (1-15 characters, no "/", ":" or spaces)'],
    ],
    [
      'interface with slash',
      { metadata: { name: 'a' }, spec: { interfaces: ['eth/0'] } },
      ['spec.interfaces[0]: "eth/0" is not an interface name (1-15 characters, no "/", ":" or spaces)'],
    ],
    [
      'interface dot',
      { metadata: { name: 'a' }, spec: { interfaces: ['..'] } },
      ['spec.interfaces[0]: ".." is not an interface name'],
    ],
  ])('%s is refused with the field named', (_name, raw, errors) => {
    expect(parseL2Advertisement(raw)).toEqual({ ok: false, errors });
  });
});
