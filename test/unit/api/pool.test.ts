import { describe, expect, test } from 'vitest';
import { parsePool } from '../../../src/api/pool.js';
import { formatRange } from '../../../src/ip/range.js';

const valid = {
  metadata: { name: 'lab', creationTimestamp: '2026-01-02T03:04:05Z', labels: { zone: 'a' } },
  spec: { addresses: ['192.0.2.0/25', '2001:db8::/64', '192.0.2.128-192.0.2.200'] },
};

function errorsOf(raw: unknown): string[] {
  const result = parsePool(raw);
  if (result.ok) throw new Error('expected the pool to be refused');
  return result.errors;
}

describe('parsePool', () => {
  test('a valid pool gets defaults, merged ranges and its age', () => {
    const result = parsePool(valid);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.pool).toMatchObject({
      name: 'lab',
      createdAt: Date.parse('2026-01-02T03:04:05Z'),
      labels: { zone: 'a' },
      autoAssign: true,
      avoidBuggyIPs: false,
    });
    expect(result.pool.ranges.map(formatRange)).toEqual(['192.0.2.0-192.0.2.200', '2001:db8::/64']);
    expect(result.pool.serviceAllocation).toBeUndefined();
  });

  test('a CIDR with host bits set is masked and noted, a range may have spaces around its dash', () => {
    const result = parsePool({
      metadata: { name: 'migrated' },
      spec: { addresses: ['192.0.2.100/24', '198.51.100.10 - 198.51.100.20', '2001:db8::1/127'] },
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.pool.ranges.map(formatRange)).toEqual([
      '192.0.2.0/24',
      '198.51.100.10-198.51.100.20',
      '2001:db8::/127',
    ]);
    expect(result.notes).toEqual([
      'spec.addresses[0]: 192.0.2.100/24 taken as 192.0.2.0/24',
      'spec.addresses[2]: 2001:db8::1/127 taken as 2001:db8::/127',
    ]);
    const plain = parsePool(valid);
    expect(plain.ok && plain.notes).toEqual([]);
  });

  test('serviceAllocation is parsed with its selectors', () => {
    const result = parsePool({
      ...valid,
      spec: {
        ...valid.spec,
        autoAssign: false,
        avoidBuggyIPs: true,
        serviceAllocation: {
          priority: 5,
          namespaces: ['team-a'],
          namespaceSelectors: [{ matchLabels: { env: 'prod' } }],
          serviceSelectors: [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }],
        },
      },
    });
    expect(result.ok && result.pool).toMatchObject({
      autoAssign: false,
      avoidBuggyIPs: true,
      serviceAllocation: {
        priority: 5,
        namespaces: ['team-a'],
        namespaceSelectors: [{ matchLabels: { env: 'prod' } }],
        serviceSelectors: [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }],
      },
    });
  });

  test('a Date creationTimestamp (as the client library hands it) is accepted', () => {
    const result = parsePool({
      ...valid,
      metadata: { name: 'lab', creationTimestamp: new Date('2026-01-02T03:04:05Z') },
    });
    expect(result.ok && result.pool.createdAt).toBe(Date.parse('2026-01-02T03:04:05Z'));
  });

  test.each<[string, unknown, string[]]>([
    ['not an object', 'pool', ['IPAddressPool: must be an object']],
    ['no name', { metadata: {}, spec: { addresses: ['192.0.2.1'] } }, ['metadata.name: required']],
    ['no spec', { metadata: { name: 'x' } }, ['spec: required']],
    [
      'no addresses',
      { metadata: { name: 'x' }, spec: {} },
      ['spec.addresses: must list at least one CIDR, IP or start-end range'],
    ],
    [
      'empty addresses',
      { metadata: { name: 'x' }, spec: { addresses: [] } },
      ['spec.addresses: must list at least one CIDR, IP or start-end range'],
    ],
    [
      'reversed range',
      { metadata: { name: 'x' }, spec: { addresses: ['192.0.2.1', '192.0.2.2', '10.0.0.5-10.0.0.1'] } },
      ['spec.addresses[2]: "10.0.0.5-10.0.0.1": range start is after end'],
    ],
    [
      'bad CIDR',
      { metadata: { name: 'x' }, spec: { addresses: ['192.0.2.0/40'] } },
      ['spec.addresses[0]: "192.0.2.0/40": prefix length must be a number from 0 to 32'],
    ],
    [
      'mixed-family range',
      { metadata: { name: 'x' }, spec: { addresses: ['192.0.2.1-2001:db8::1'] } },
      ['spec.addresses[0]: "192.0.2.1-2001:db8::1": range mixes IPv4 and IPv6'],
    ],
    [
      'garbage',
      { metadata: { name: 'x' }, spec: { addresses: ['banana'] } },
      ['spec.addresses[0]: "banana" is not an IPv4 or IPv6 address'],
    ],
    [
      'short IPv4',
      { metadata: { name: 'x' }, spec: { addresses: ['1.2.3'] } },
      ['spec.addresses[0]: "1.2.3" is not a full IPv4 address (four decimal parts expected)'],
    ],
    [
      'non-string entry',
      { metadata: { name: 'x' }, spec: { addresses: [42] } },
      ['spec.addresses[0]: must be a string (got 42)'],
    ],
    [
      'overlapping entries',
      { metadata: { name: 'x' }, spec: { addresses: ['192.0.2.0/24', '192.0.2.10'] } },
      ['spec.addresses[1]: 192.0.2.10 overlaps spec.addresses[0] (192.0.2.0/24)'],
    ],
    [
      'autoAssign not boolean',
      { metadata: { name: 'x' }, spec: { addresses: ['192.0.2.1'], autoAssign: 'yes' } },
      ['spec.autoAssign: must be true or false (got "yes")'],
    ],
    [
      'avoidBuggyIPs not boolean',
      { metadata: { name: 'x' }, spec: { addresses: ['192.0.2.1'], avoidBuggyIPs: 1 } },
      ['spec.avoidBuggyIPs: must be true or false (got 1)'],
    ],
    [
      'bad timestamp',
      { metadata: { name: 'x', creationTimestamp: 'yesterday' }, spec: { addresses: ['192.0.2.1'] } },
      ['metadata.creationTimestamp: "yesterday" is not a timestamp'],
    ],
    [
      'bad labels',
      { metadata: { name: 'x', labels: { a: 1 } }, spec: { addresses: ['192.0.2.1'] } },
      ['metadata.labels: must be a map of strings'],
    ],
    [
      'serviceAllocation not object',
      { metadata: { name: 'x' }, spec: { addresses: ['192.0.2.1'], serviceAllocation: [] } },
      ['spec.serviceAllocation: must be an object'],
    ],
    [
      'negative priority',
      { metadata: { name: 'x' }, spec: { addresses: ['192.0.2.1'], serviceAllocation: { priority: -1 } } },
      ['spec.serviceAllocation.priority: must be a whole number >= 0 (got -1)'],
    ],
    [
      'fractional priority',
      { metadata: { name: 'x' }, spec: { addresses: ['192.0.2.1'], serviceAllocation: { priority: 1.5 } } },
      ['spec.serviceAllocation.priority: must be a whole number >= 0 (got 1.5)'],
    ],
    [
      'bad namespace',
      { metadata: { name: 'x' }, spec: { addresses: ['192.0.2.1'], serviceAllocation: { namespaces: ['Team_A'] } } },
      ['spec.serviceAllocation.namespaces[0]: "Team_A" is not a namespace name'],
    ],
    [
      'namespaces not a list',
      { metadata: { name: 'x' }, spec: { addresses: ['192.0.2.1'], serviceAllocation: { namespaces: 'a' } } },
      ['spec.serviceAllocation.namespaces: must be a list of namespace names'],
    ],
    [
      'bad selector operator',
      {
        metadata: { name: 'x' },
        spec: {
          addresses: ['192.0.2.1'],
          serviceAllocation: {
            serviceSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }],
          },
        },
      },
      [
        'spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].operator: ' +
          'must be one of In, NotIn, Exists, DoesNotExist (got "Gt")',
      ],
    ],
    [
      'selectors not a list',
      { metadata: { name: 'x' }, spec: { addresses: ['192.0.2.1'], serviceAllocation: { namespaceSelectors: {} } } },
      ['spec.serviceAllocation.namespaceSelectors: must be a list of label selectors'],
    ],
  ])('%s is refused with a message naming the field', (_name, raw, errors) => {
    expect(errorsOf(raw)).toEqual(errors);
  });

  test('all errors are reported at once', () => {
    expect(errorsOf({ metadata: {}, spec: { addresses: ['x', '192.0.2.1'], autoAssign: 'no' } })).toEqual([
      'metadata.name: required',
      'spec.addresses[0]: "x" is not an IPv4 or IPv6 address',
      'spec.autoAssign: must be true or false (got "no")',
    ]);
  });
});
