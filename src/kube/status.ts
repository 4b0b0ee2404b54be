import { PatchStrategy, type V1Service, type V1ServiceStatus } from '@kubernetes/client-node';
import { callOptions, type KubeClient } from './client.js';
import { IRONLB_GROUP, IRONLB_VERSION } from './resources.js';

// Writes go to the narrowest place: Service status through the `status`
// subresource (the main resource ignores status), annotations through a merge
// patch of metadata only, so the controller never overwrites the user's spec.

export interface WriteOptions {
  /**
   * Optimistic concurrency: the write fails with 409 if the object changed
   * since this resourceVersion. Omit to write unconditionally.
   */
  resourceVersion?: string;
}

function requireName(kind: string, namespace: string, name: string): void {
  if (!namespace) throw new Error(`${kind} write: namespace is empty`);
  if (!name) throw new Error(`${kind} write: name is empty`);
}

function metadataPrecondition(options: WriteOptions | undefined): { metadata?: { resourceVersion: string } } {
  return options?.resourceVersion ? { metadata: { resourceVersion: options.resourceVersion } } : {};
}

/**
 * Merge-patches `status` of a Service. Fields given replace the stored ones
 * (arrays such as `loadBalancer.ingress` and `conditions` are replaced whole,
 * so pass the complete list); fields not given are kept; `null` removes one.
 */
export async function patchServiceStatus(
  client: KubeClient,
  namespace: string,
  name: string,
  status: V1ServiceStatus,
  options?: WriteOptions,
): Promise<V1Service> {
  requireName('Service status', namespace, name);
  // Sent as given: JSON turns Dates into RFC 3339, which the server accepts for metav1.Time.
  const body = { ...metadataPrecondition(options), status };
  return client.core.patchNamespacedServiceStatus(
    { namespace, name, body },
    callOptions({ contentType: PatchStrategy.MergePatch }),
  );
}

/** Sets annotations on a Service (a `null` value removes that annotation); nothing else is touched. */
export async function patchServiceAnnotations(
  client: KubeClient,
  namespace: string,
  name: string,
  annotations: Record<string, string | null>,
  options?: WriteOptions,
): Promise<V1Service> {
  requireName('Service annotations', namespace, name);
  for (const key of Object.keys(annotations))
    if (!key) throw new Error('Service annotations write: empty annotation key');
  const body = { metadata: { ...metadataPrecondition(options).metadata, annotations } };
  return client.core.patchNamespacedService(
    { namespace, name, body },
    callOptions({ contentType: PatchStrategy.MergePatch }),
  );
}

export interface CustomObjectRef {
  group: string;
  version: string;
  plural: string;
  namespace: string;
  name: string;
}

/** Merge-patches the `status` subresource of one of our custom objects; returns the object as stored. */
export async function patchCustomObjectStatus(
  client: KubeClient,
  ref: CustomObjectRef,
  status: Record<string, unknown>,
  options?: WriteOptions,
): Promise<unknown> {
  requireName(ref.plural, ref.namespace, ref.name);
  const body = { ...metadataPrecondition(options), status };
  const stored: unknown = await client.custom.patchNamespacedCustomObjectStatus(
    { group: ref.group, version: ref.version, plural: ref.plural, namespace: ref.namespace, name: ref.name, body },
    callOptions({ contentType: PatchStrategy.MergePatch }),
  );
  return stored;
}

/** `status` of an IPAddressPool (assigned/available counts, conditions). */
export async function patchIPAddressPoolStatus(
  client: KubeClient,
  namespace: string,
  name: string,
  status: Record<string, unknown>,
  options?: WriteOptions,
): Promise<unknown> {
  return patchCustomObjectStatus(
    client,
    { group: IRONLB_GROUP, version: IRONLB_VERSION, plural: 'ipaddresspools', namespace, name },
    status,
    options,
  );
}
