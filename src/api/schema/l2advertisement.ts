// L2Advertisement: which pools are announced on layer 2, from which nodes and on which interfaces.
import { labelSelector } from './common.js';
import type { CrdSource } from './crd.js';
import { array, object, string, type TypeOf } from './openapi.js';

/** Linux interface names: 1-15 bytes (IFNAMSIZ with the NUL is 16), no '/', ':' or whitespace. */
export const INTERFACE_NAME_PATTERN = '^[^/:\\s]{1,15}$';

export const l2AdvertisementSpec = object(
  {
    ipAddressPools: array(string({ minLength: 1 }), { description: 'Names of IPAddressPools to announce.' }),
    ipAddressPoolSelectors: array(labelSelector, { description: 'Label selectors of IPAddressPools to announce.' }),
    nodeSelectors: array(labelSelector, { description: 'Nodes allowed to announce; empty means every node.' }),
    interfaces: array(string({ pattern: INTERFACE_NAME_PATTERN }), {
      description: 'Interfaces to announce on; empty means the default choice.',
    }),
  },
  { description: 'With no pools and no pool selectors, every pool is announced.' },
);

export type L2AdvertisementSpec = TypeOf<typeof l2AdvertisementSpec>;

export const l2AdvertisementCrd: CrdSource = {
  kind: 'L2Advertisement',
  plural: 'l2advertisements',
  shortNames: ['l2adv'],
  comment: [
    'L2Advertisement: which pools are announced on layer 2, from which nodes and',
    'on which interfaces. A node lacking a listed interface is not a candidate.',
  ].join('\n'),
  description: 'Announces the addresses of the selected pools on layer 2 (ARP / NDP).',
  spec: l2AdvertisementSpec,
  printerColumns: [
    { name: 'IPAddressPools', type: 'string', jsonPath: '.spec.ipAddressPools' },
    { name: 'IPAddressPool Selectors', type: 'string', jsonPath: '.spec.ipAddressPoolSelectors' },
    { name: 'Interfaces', type: 'string', jsonPath: '.spec.interfaces' },
    { name: 'Node Selectors', type: 'string', jsonPath: '.spec.nodeSelectors', priority: 10 },
  ],
};
