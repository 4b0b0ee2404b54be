// The resource types the double serves: built-ins with their per-type rules
// (field selectors, status subresource, name syntax) and CRDs from YAML.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isObject, type JsonObject } from './patch.js';
import { compileRules, type Schema } from './schema.js';
import type { PrinterColumn } from './table.js';

export type NameRule = 'dns1035Label' | 'dns1123Label' | 'dns1123Subdomain';

export interface ResourceType {
  /** `group/plural`, unique. */
  id: string;
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** Has a `/status` subresource: status ignored on the main resource and vice versa. */
  hasStatus: boolean;
  /** The real strategy empties status on create (Services, custom resources). */
  clearStatusOnCreate: boolean;
  /** metadata.generation is kept and bumped on spec changes. */
  tracksGeneration: boolean;
  nameRule: NameRule;
  /** Field selector paths beyond metadata.name / metadata.namespace. */
  extraFieldSelectors: string[];
  /** DELETE answers the object (true) or a Status Success (false). */
  deleteReturnsObject: boolean;
  /** Built-ins: the Kubernetes type bodies are decoded as (test/kube/typed.ts), e.g. `V1Deployment`. */
  typeName?: string;
  /** Custom resources: the structural schema to enforce. */
  schema?: Schema;
  shortNames?: string[];
  /** additionalPrinterColumns of a CRD, for Table answers. */
  printerColumns?: PrinterColumn[];
}

export function apiVersionOf(resource: ResourceType): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}

export function fieldSelectorsOf(resource: ResourceType): string[] {
  const base = resource.namespaced ? ['metadata.name', 'metadata.namespace'] : ['metadata.name'];
  return [...base, ...resource.extraFieldSelectors];
}

function builtin(
  partial: Partial<ResourceType> & Pick<ResourceType, 'group' | 'version' | 'plural' | 'kind'>,
): ResourceType {
  return {
    id: `${partial.group}/${partial.plural}`,
    namespaced: true,
    hasStatus: false,
    clearStatusOnCreate: false,
    tracksGeneration: false,
    nameRule: 'dns1123Subdomain',
    extraFieldSelectors: [],
    deleteReturnsObject: false,
    ...partial,
  };
}

const coreEventFields = [
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];

export function builtinResources(): ResourceType[] {
  return [
    builtin({
      // The real Service strategy sets no metadata.generation.
      group: '',
      version: 'v1',
      plural: 'services',
      kind: 'Service',
      typeName: 'V1Service',
      hasStatus: true,
      clearStatusOnCreate: true,
      nameRule: 'dns1035Label',
      extraFieldSelectors: ['spec.clusterIP', 'spec.type'],
      deleteReturnsObject: true,
      shortNames: ['svc'],
    }),
    builtin({
      group: '',
      version: 'v1',
      plural: 'nodes',
      shortNames: ['no'],
      kind: 'Node',
      typeName: 'V1Node',
      namespaced: false,
      hasStatus: true,
      extraFieldSelectors: ['spec.unschedulable'],
      deleteReturnsObject: true,
    }),
    builtin({
      group: '',
      version: 'v1',
      plural: 'namespaces',
      shortNames: ['ns'],
      kind: 'Namespace',
      typeName: 'V1Namespace',
      namespaced: false,
      hasStatus: true,
      nameRule: 'dns1123Label',
      extraFieldSelectors: ['status.phase'],
      deleteReturnsObject: true,
    }),
    builtin({
      group: '',
      version: 'v1',
      plural: 'events',
      kind: 'Event',
      typeName: 'CoreV1Event',
      extraFieldSelectors: coreEventFields,
      shortNames: ['ev'],
    }),
    builtin({
      group: '',
      version: 'v1',
      plural: 'configmaps',
      kind: 'ConfigMap',
      typeName: 'V1ConfigMap',
      shortNames: ['cm'],
    }),
    builtin({
      group: '',
      version: 'v1',
      plural: 'secrets',
      kind: 'Secret',
      typeName: 'V1Secret',
      extraFieldSelectors: ['type'],
    }),
    builtin({
      group: '',
      version: 'v1',
      plural: 'serviceaccounts',
      kind: 'ServiceAccount',
      typeName: 'V1ServiceAccount',
      shortNames: ['sa'],
    }),
    builtin({
      group: '',
      version: 'v1',
      plural: 'pods',
      kind: 'Pod',
      typeName: 'V1Pod',
      shortNames: ['po'],
      hasStatus: true,
      deleteReturnsObject: true,
      extraFieldSelectors: [
        'spec.nodeName',
        'spec.restartPolicy',
        'spec.schedulerName',
        'spec.serviceAccountName',
        'status.phase',
        'status.podIP',
        'status.nominatedNodeName',
      ],
    }),
    builtin({
      group: 'discovery.k8s.io',
      version: 'v1',
      plural: 'endpointslices',
      kind: 'EndpointSlice',
      typeName: 'V1EndpointSlice',
    }),
    builtin({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', typeName: 'V1Lease' }),
    builtin({
      group: 'events.k8s.io',
      version: 'v1',
      plural: 'events',
      kind: 'Event',
      typeName: 'EventsV1Event',
      extraFieldSelectors: [
        'reason',
        'type',
        'regarding.kind',
        'regarding.name',
        'regarding.namespace',
        'reportingController',
      ],
    }),
    // What `kubectl apply -k deploy/` installs besides the above, so the shipped manifests can be applied.
    ...(['Deployment', 'DaemonSet'] as const).map((kind) =>
      builtin({
        group: 'apps',
        version: 'v1',
        plural: `${kind.toLowerCase()}s`,
        kind,
        typeName: `V1${kind}`,
        hasStatus: true,
        tracksGeneration: true,
        shortNames: [kind === 'Deployment' ? 'deploy' : 'ds'],
      }),
    ),
    builtin({
      group: 'policy',
      version: 'v1',
      plural: 'poddisruptionbudgets',
      kind: 'PodDisruptionBudget',
      typeName: 'V1PodDisruptionBudget',
      hasStatus: true,
      tracksGeneration: true,
      shortNames: ['pdb'],
    }),
    ...(['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'] as const).map((kind) =>
      builtin({
        group: 'rbac.authorization.k8s.io',
        version: 'v1',
        plural: `${kind.toLowerCase()}s`,
        kind,
        typeName: `V1${kind}`,
        namespaced: !kind.startsWith('Cluster'),
      }),
    ),
  ];
}

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema: { openAPIV3Schema: Schema };
  subresources?: { status?: JsonObject };
  additionalPrinterColumns?: PrinterColumn[];
}

/** Turns one apiextensions.k8s.io/v1 CustomResourceDefinition into a served type. */
export function resourceFromCrd(crd: JsonObject): ResourceType {
  const spec = crd.spec as unknown as {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { plural: string; kind: string; shortNames?: string[] };
    versions: CrdVersion[];
  };
  const version = spec.versions.find((v) => v.served && v.storage);
  if (!version) throw new Error(`CRD ${spec.names.plural}.${spec.group} has no served storage version`);
  const schema = version.schema.openAPIV3Schema;
  compileRules(schema);
  return {
    id: `${spec.group}/${spec.names.plural}`,
    group: spec.group,
    version: version.name,
    plural: spec.names.plural,
    kind: spec.names.kind,
    namespaced: spec.scope === 'Namespaced',
    hasStatus: isObject(version.subresources?.status),
    clearStatusOnCreate: isObject(version.subresources?.status),
    tracksGeneration: true,
    nameRule: 'dns1123Subdomain',
    extraFieldSelectors: [],
    deleteReturnsObject: true,
    schema,
    shortNames: spec.names.shortNames,
    // Without its own columns a CRD shows Age, as the real server does.
    printerColumns: version.additionalPrinterColumns ?? [
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  };
}

/** Every CustomResourceDefinition document in the YAML files of a folder. */
export function readCrdDocs(dir: string): JsonObject[] {
  const docs: JsonObject[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const value: unknown = doc.toJS();
      if (isObject(value) && value.kind === 'CustomResourceDefinition') docs.push(value);
    }
  }
  return docs;
}

/** The served types of every CRD in a folder. */
export function loadCrdDir(dir: string): ResourceType[] {
  return readCrdDocs(dir).map(resourceFromCrd);
}
