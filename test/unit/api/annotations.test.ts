import { describe, expect, test } from 'vitest';
import {
  ANNOTATION_ADDRESS_POOL,
  ANNOTATION_LOAD_BALANCER_IPS,
  lookupAnnotation,
} from '../../../src/api/annotations.js';

describe('lookupAnnotation', () => {
  test('finds the ironlb.io name', () => {
    expect(lookupAnnotation({ 'ironlb.io/address-pool': 'a' }, ANNOTATION_ADDRESS_POOL)).toEqual({
      value: 'a',
      key: 'ironlb.io/address-pool',
      prefix: 'ironlb.io/',
      compat: false,
    });
  });

  test('accepts both MetalLB prefixes and says which was used', () => {
    expect(lookupAnnotation({ 'metallb.io/address-pool': 'b' }, ANNOTATION_ADDRESS_POOL)).toMatchObject({
      value: 'b',
      prefix: 'metallb.io/',
      compat: true,
    });
    expect(lookupAnnotation({ 'metallb.universe.tf/address-pool': 'c' }, ANNOTATION_ADDRESS_POOL)).toMatchObject({
      value: 'c',
      prefix: 'metallb.universe.tf/',
      compat: true,
    });
  });

  test('ironlb.io wins over metallb.io, which wins over metallb.universe.tf', () => {
    const all = {
      'ironlb.io/address-pool': 'a',
      'metallb.io/address-pool': 'b',
      'metallb.universe.tf/address-pool': 'c',
    };
    expect(lookupAnnotation(all, ANNOTATION_ADDRESS_POOL)?.value).toBe('a');
    const noIronlb = { 'metallb.io/address-pool': 'b', 'metallb.universe.tf/address-pool': 'c' };
    expect(lookupAnnotation(noIronlb, ANNOTATION_ADDRESS_POOL)?.value).toBe('b');
  });

  test('absent annotation or no annotations at all', () => {
    expect(lookupAnnotation({ other: 'x' }, ANNOTATION_LOAD_BALANCER_IPS)).toBeUndefined();
    expect(lookupAnnotation(undefined, ANNOTATION_LOAD_BALANCER_IPS)).toBeUndefined();
  });

  test('asking with a non-ironlb key is a programming error', () => {
    expect(() => lookupAnnotation({}, 'metallb.io/address-pool')).toThrow('is not an ironlb.io/ annotation');
  });
});
