// Schema pieces more than one CRD uses: label selectors, conditions, names.
import { array, integer, map, object, string, type TypeOf } from './openapi.js';

/** metav1.LabelSelector, atomic as in the core types. */
export const labelSelector = object(
  {
    matchLabels: map(string()),
    matchExpressions: array(
      object(
        {
          key: string(),
          operator: string({ enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }),
          values: array(string()),
        },
        { required: ['key', 'operator'] },
      ),
    ),
  },
  { 'x-kubernetes-map-type': 'atomic' },
);

/** metav1.Condition with the apiserver's own bounds. */
export const condition = object(
  {
    type: string({
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?' +
        '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: string({ enum: ['True', 'False', 'Unknown'] }),
    reason: string({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }),
    message: string({ maxLength: 32768 }),
    lastTransitionTime: string({ format: 'date-time' }),
    observedGeneration: integer({ format: 'int64', minimum: 0 }),
  },
  { required: ['lastTransitionTime', 'message', 'reason', 'status', 'type'] },
);

/** `status.conditions`, keyed by type. */
export const conditions = array(condition, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });

export type LabelSelector = TypeOf<typeof labelSelector>;
export type LabelSelectorRequirement = NonNullable<LabelSelector['matchExpressions']>[number];
export type LabelSelectorOperator = LabelSelectorRequirement['operator'];
export type Condition = TypeOf<typeof condition>;
export type ConditionStatus = Condition['status'];

const octet = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
/** A dotted-quad IPv4 address (unanchored, for building patterns). */
export const IPV4 = `${octet}(\\.${octet}){3}`;

/** A reference to another object by name: a DNS subdomain (what metadata.name takes). */
export const OBJECT_NAME_PATTERN = '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$';
export const objectName = string({ maxLength: 253, pattern: OBJECT_NAME_PATTERN });
