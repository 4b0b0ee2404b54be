// The one way tests write an ironlb custom object (IPAddressPool,
// L2Advertisement, BGPPeer, ...) through client-node, as `kubectl apply`
// would. The group, version and plural come from the CRD sources in
// src/api/schema, so no test spells them again.
import type { CustomObjectsApiCreateNamespacedCustomObjectRequest } from '@kubernetes/client-node';
import { CRD_SOURCES } from '../src/api/schema/crds.js';
import { API_GROUP, API_GROUP_VERSION, API_VERSION } from '../src/api/types.js';

/** The createNamespacedCustomObject request for the ironlb object `kind`/`name` in `namespace` with `spec`. */
export function ironlbObject(
  kind: string,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): CustomObjectsApiCreateNamespacedCustomObjectRequest {
  const source = CRD_SOURCES.find((s) => s.kind === kind);
  if (source === undefined) {
    throw new Error(`${kind} is not an ironlb kind (${CRD_SOURCES.map((s) => s.kind).join(', ')})`);
  }
  return {
    group: API_GROUP,
    version: API_VERSION,
    namespace,
    plural: source.plural,
    body: { apiVersion: API_GROUP_VERSION, kind, metadata: { name }, spec },
  };
}
