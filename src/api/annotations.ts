/** Service annotations ironlb reads or writes. */
export const ANNOTATION_LOAD_BALANCER_IPS = 'ironlb.io/loadBalancerIPs';
export const ANNOTATION_ADDRESS_POOL = 'ironlb.io/address-pool';
export const ANNOTATION_ALLOW_SHARED_IP = 'ironlb.io/allow-shared-ip';
/** Written by the controller only. */
export const ANNOTATION_IP_ALLOCATED_FROM_POOL = 'ironlb.io/ip-allocated-from-pool';

export const IRONLB_PREFIX = 'ironlb.io/';
/** MetalLB's prefixes, accepted so users can switch without editing Services; ironlb.io wins when both are set. */
export const COMPAT_PREFIXES = ['metallb.io/', 'metallb.universe.tf/'] as const;

export type AnnotationPrefix = typeof IRONLB_PREFIX | (typeof COMPAT_PREFIXES)[number];

export interface AnnotationLookup {
  value: string;
  /** The full annotation key that supplied the value. */
  key: string;
  prefix: AnnotationPrefix;
  /** True when the value came from a MetalLB prefix (the controller may say so in an event). */
  compat: boolean;
}

/**
 * Finds an ironlb annotation by its ironlb.io name, also under the MetalLB
 * prefixes. Order of precedence: ironlb.io, metallb.io, metallb.universe.tf.
 */
export function lookupAnnotation(
  annotations: Readonly<Record<string, string>> | undefined,
  ironlbKey: string,
): AnnotationLookup | undefined {
  if (!ironlbKey.startsWith(IRONLB_PREFIX))
    throw new Error(`lookupAnnotation: "${ironlbKey}" is not an ${IRONLB_PREFIX} annotation`);
  if (!annotations) return undefined;
  const name = ironlbKey.slice(IRONLB_PREFIX.length);
  const prefixes: readonly AnnotationPrefix[] = [IRONLB_PREFIX, ...COMPAT_PREFIXES];
  for (const prefix of prefixes) {
    const key = prefix + name;
    const value = annotations[key];
    if (value !== undefined) return { value, key, prefix, compat: prefix !== IRONLB_PREFIX };
  }
  return undefined;
}
