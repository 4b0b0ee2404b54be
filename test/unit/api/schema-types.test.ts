// The raw types are derived from the CRD schemas (TypeOf in src/api/schema):
// these checks are compile-time (tsc over test/, so `npm run build` and
// `npm run typecheck` fail when a derived type drifts from what the code expects).
import { describe, expectTypeOf, it } from 'vitest';
import type { BFDProfileSpec, BGPPeerSpec, CommunitySpec } from '../../../src/api/schema/bgp.js';
import { array, integer, object, string, type TypeOf } from '../../../src/api/schema/openapi.js';
import type {
  ConditionStatus,
  IPAddressPoolSpec,
  IPAddressPoolStatus,
  L2AdvertisementSpec,
  LabelSelector,
} from '../../../src/api/types.js';

describe('types derived from the CRD schemas', () => {
  it('make required fields required and the others optional', () => {
    expectTypeOf<IPAddressPoolSpec['addresses']>().toEqualTypeOf<string[]>();
    expectTypeOf<IPAddressPoolSpec['autoAssign']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<BGPPeerSpec['myASN']>().toEqualTypeOf<number>();
    expectTypeOf<BGPPeerSpec['peerASN']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<NonNullable<CommunitySpec['communities']>[number]>().toEqualTypeOf<{ name: string; value: string }>();
    expectTypeOf<BFDProfileSpec['detectMultiplier']>().toEqualTypeOf<number | undefined>();
  });

  it('turn enums into unions and free maps into records', () => {
    expectTypeOf<BGPPeerSpec['dynamicASN']>().toEqualTypeOf<'internal' | 'external' | undefined>();
    expectTypeOf<ConditionStatus>().toEqualTypeOf<'True' | 'False' | 'Unknown'>();
    expectTypeOf<NonNullable<NonNullable<LabelSelector['matchExpressions']>[number]['operator']>>().toEqualTypeOf<
      'In' | 'NotIn' | 'Exists' | 'DoesNotExist'
    >();
    expectTypeOf<LabelSelector['matchLabels']>().toEqualTypeOf<Record<string, string> | undefined>();
    expectTypeOf<NonNullable<IPAddressPoolStatus['conditions']>[number]['observedGeneration']>().toEqualTypeOf<
      number | undefined
    >();
    expectTypeOf<L2AdvertisementSpec['interfaces']>().toEqualTypeOf<string[] | undefined>();
  });

  it('follow a schema changed in one place', () => {
    const schema = object({ size: integer(), tags: array(string({ enum: ['a', 'b'] })) }, { required: ['size'] });
    expectTypeOf<TypeOf<typeof schema>>().toEqualTypeOf<{ size: number; tags?: Array<'a' | 'b'> }>();
  });
});
