// IPAddressPool: the addresses ironlb may hand to LoadBalancer Services.
import { IPV4, conditions, labelSelector } from './common.js';
import type { CrdSource } from './crd.js';
import { array, boolean, integer, object, string, type TypeOf } from './openapi.js';

const h = '[0-9a-fA-F]{1,4}';
const IPV6 =
  `((${h}:){7}${h}|(${h}:){1,7}:|(${h}:){1,6}:${h}|(${h}:){1,5}(:${h}){1,2}|(${h}:){1,4}(:${h}){1,3}|` +
  `(${h}:){1,3}(:${h}){1,4}|(${h}:){1,2}(:${h}){1,5}|${h}:(:${h}){1,6}|:((:${h}){1,7}|:))`;

/** A CIDR, a single address, or a range `start-end` (spaces around the dash allowed, as MetalLB). */
export const ADDRESS_PATTERN =
  `^(${IPV4}(/(3[0-2]|[12]?[0-9]))?|${IPV6}(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?|` +
  `(${IPV4}|${IPV6})[ ]*-[ ]*(${IPV4}|${IPV6}))$`;

// CEL of 1.29 has no ip() (1.30) or cidr() (1.31): a range's order is checked
// for IPv4 by arithmetic on the octets; an IPv6 range given backwards is left to
// the controller, which reports it (Valid=False).
const dotted = (side: 0 | 1) =>
  [16777216, 65536, 256, 1]
    .map((weight, i) => `int(self.split('-')[${side}].trim().split('.')[${i}])${weight === 1 ? '' : ` * ${weight}`}`)
    .join(' + ');

export const POOL_DEFAULTS = { autoAssign: true, avoidBuggyIPs: false } as const;

export const ipAddressPoolSpec = object(
  {
    addresses: array(
      string({
        maxLength: 100,
        pattern: ADDRESS_PATTERN,
        'x-kubernetes-validations': [
          {
            rule: "!self.contains('-') || self.split('-')[0].contains(':') == self.split('-')[1].contains(':')",
            message: "spec.addresses: a range's start and end must be of the same IP family",
          },
          {
            rule:
              "!self.matches('^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+[ ]*-[ ]*[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+$') || " +
              `${dotted(0)} <= ${dotted(1)}`,
            message: "spec.addresses: a range's start must not be above its end",
          },
        ],
      }),
      {
        description:
          'CIDRs (192.0.2.0/24, 2001:db8::/64; host bits are masked), ' +
          'single addresses, or inclusive ranges start-end of one ' +
          'family (spaces around the dash allowed); IPv4 and IPv6 may be mixed.',
        minItems: 1,
        // Bounds keep the CEL cost estimate within the apiserver's budget.
        maxItems: 1000,
      },
    ),
    autoAssign: boolean({
      default: POOL_DEFAULTS.autoAssign,
      description: 'Whether Services that ask for no pool may get addresses from this one.',
    }),
    avoidBuggyIPs: boolean({
      default: POOL_DEFAULTS.avoidBuggyIPs,
      description: 'Skip addresses ending in .0 and .255.',
    }),
    serviceAllocation: object(
      {
        priority: integer({ description: 'Lower numbers are tried first among pools pinned to a Service.' }),
        namespaces: array(string({ minLength: 1 })),
        namespaceSelectors: array(labelSelector),
        serviceSelectors: array(labelSelector),
      },
      { description: 'Pins the pool to some namespaces or Services.' },
    ),
  },
  { required: ['addresses'] },
);

/** Counts are decimal strings: an IPv6 /64 holds 2^64 addresses, more than a JSON number keeps exactly. */
export const ipAddressPoolStatus = object({
  assignedIPv4: string(),
  assignedIPv6: string(),
  availableIPv4: string(),
  availableIPv6: string(),
  conditions,
});

export type IPAddressPoolSpec = TypeOf<typeof ipAddressPoolSpec>;
export type IPAddressPoolStatus = TypeOf<typeof ipAddressPoolStatus>;
export type ServiceAllocation = NonNullable<IPAddressPoolSpec['serviceAllocation']>;

export const ipAddressPoolCrd: CrdSource = {
  kind: 'IPAddressPool',
  plural: 'ipaddresspools',
  shortNames: ['ipp'],
  comment: [
    'IPAddressPool: the addresses ironlb may hand to LoadBalancer Services.',
    'Validation works on any kube-apiserver >= 1.29: syntax by `pattern`, the rest',
    'by CEL rules that use only the standard and strings libraries (no ip()/cidr(),',
    'which need 1.30/1.31). An IPv6 range given backwards cannot be ordered without',
    'the IP library, so the controller reports it (Valid=False) instead.',
  ].join('\n'),
  description: 'A set of addresses that ironlb assigns to LoadBalancer Services.',
  spec: ipAddressPoolSpec,
  status: ipAddressPoolStatus,
  printerColumns: [
    { name: 'Auto Assign', type: 'boolean', jsonPath: '.spec.autoAssign' },
    { name: 'Addresses', type: 'string', jsonPath: '.spec.addresses' },
    { name: 'Assigned v4', type: 'string', jsonPath: '.status.assignedIPv4' },
    { name: 'Assigned v6', type: 'string', jsonPath: '.status.assignedIPv6' },
    { name: 'Available v4', type: 'string', jsonPath: '.status.availableIPv4' },
    { name: 'Available v6', type: 'string', jsonPath: '.status.availableIPv6' },
    { name: 'Valid', type: 'string', jsonPath: '.status.conditions[?(@.type=="Valid")].status' },
  ],
};
