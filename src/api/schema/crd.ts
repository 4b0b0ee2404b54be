// A CustomResourceDefinition from a schema: the parts every ironlb CRD shares
// (group, one served storage version, namespaced, apiVersion/kind/metadata).
import { object, string, type ObjectSchema, type Properties, type Schema } from './openapi.js';

export const API_GROUP = 'ironlb.io';
export const API_VERSION = 'v1beta1';

export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly priority?: number;
  readonly description?: string;
}

export interface CrdSource {
  readonly kind: string;
  readonly plural: string;
  readonly shortNames?: readonly string[];
  /** Written as the YAML file's header comment. */
  readonly comment: string;
  readonly description: string;
  readonly spec: Schema;
  /** With a status: the `status` subresource is on and this is its schema. */
  readonly status?: ObjectSchema;
  readonly printerColumns?: readonly PrinterColumn[];
}

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** The openAPIV3Schema of a custom resource. */
export function resourceSchema(source: CrdSource): ObjectSchema {
  const properties: Properties = {
    apiVersion: string(),
    kind: string(),
    metadata: { type: 'object' },
    spec: source.spec,
    // biome-ignore lint/plugin/conditional-spread: a key of `properties` declares a field, even with no schema.
    ...(source.status ? { status: source.status } : {}),
  };
  return object(properties, { description: source.description });
}

export function crdName(source: CrdSource): string {
  return `${source.plural}.${API_GROUP}`;
}

/** The CRD manifest as plain data, ready for YAML. */
export function customResourceDefinition(source: CrdSource): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(source) },
    spec: {
      group: API_GROUP,
      scope: 'Namespaced',
      names: {
        kind: source.kind,
        listKind: `${source.kind}List`,
        plural: source.plural,
        singular: source.kind.toLowerCase(),
        shortNames: source.shortNames,
      },
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: source.status ? { status: {} } : undefined,
          additionalPrinterColumns: [...(source.printerColumns ?? []), age],
          schema: { openAPIV3Schema: resourceSchema(source) },
        },
      ],
    },
  };
}
