// CustomResourceDefinitions as objects of the double: the ones from crdDir are
// stored at start, and creating/replacing/deleting one through the API starts
// or stops serving its type (so `kubectl apply` of deploy/ and installCrds work).
import type { Objects } from './objects.js';
import { isObject, type Json, type JsonObject } from './patch.js';
import { apiVersionOf, resourceFromCrd, type ResourceType } from './resources.js';
import { invalid } from './status.js';
import { metadataOf, type Store } from './store.js';

export const crdResource: ResourceType = {
  id: 'apiextensions.k8s.io/customresourcedefinitions',
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  typeName: 'V1CustomResourceDefinition',
  namespaced: false,
  hasStatus: true,
  clearStatusOnCreate: true,
  tracksGeneration: true,
  nameRule: 'dns1123Subdomain',
  extraFieldSelectors: [],
  deleteReturnsObject: true,
  shortNames: ['crd', 'crds'],
};

export class ResourceRegistry {
  private readonly byPath = new Map<string, ResourceType>();

  constructor(initial: ResourceType[]) {
    for (const r of initial) this.add(r);
  }

  add(resource: ResourceType): void {
    for (const [path, existing] of this.byPath) if (existing.id === resource.id) this.byPath.delete(path);
    this.byPath.set(`${apiVersionOf(resource)}/${resource.plural}`, resource);
  }

  remove(id: string): ResourceType | undefined {
    for (const [path, existing] of this.byPath) {
      if (existing.id === id) {
        this.byPath.delete(path);
        return existing;
      }
    }
    return undefined;
  }

  /** `groupVersion` is `v1` or `group/version`. */
  lookup(groupVersion: string, plural: string): ResourceType | undefined {
    return this.byPath.get(`${groupVersion}/${plural}`);
  }

  all(): ResourceType[] {
    return [...this.byPath.values()];
  }
}

/** The served type a CRD body describes, or a 422 naming what is wrong. */
export function typeFromCrdBody(body: Json): ResourceType {
  const name = isObject(body) && isObject(body.metadata) ? String(body.metadata.name ?? '') : '';
  try {
    if (!isObject(body) || !isObject(body.spec)) throw new Error('spec: Required value');
    const type = resourceFromCrd(body);
    if (name !== `${type.plural}.${type.group}`)
      throw new Error(`metadata.name: Invalid value: "${name}": must be spec.names.plural+"."+spec.group`);
    return type;
  } catch (error) {
    const text = (error as Error).message;
    const field = /^([\w.[\]]+): /.exec(text)?.[1] ?? 'spec';
    throw invalid('CustomResourceDefinition', 'apiextensions.k8s.io', name, [
      {
        field,
        type: 'FieldValueInvalid',
        text: text.startsWith(`${field}: `) ? text : `${field}: Invalid value: ${text}`,
      },
    ]);
  }
}

export class CrdController {
  constructor(
    private readonly registry: ResourceRegistry,
    private readonly store: Store,
    private readonly objects: Objects,
  ) {}

  /** Serves the type of a stored CRD and marks it Established, as the real controllers do. */
  establish(crd: JsonObject): JsonObject {
    const type = typeFromCrdBody(crd);
    this.registry.add(type);
    const meta = metadataOf(crd);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const spec = crd.spec as JsonObject;
    const status: JsonObject = {
      acceptedNames: spec.names ?? null,
      storedVersions: [type.version],
      conditions: [
        {
          type: 'NamesAccepted',
          status: 'True',
          reason: 'NoConflicts',
          message: 'no conflicts found',
          lastTransitionTime: now,
        },
        {
          type: 'Established',
          status: 'True',
          reason: 'InitialNamesAccepted',
          message: 'the initial names have been accepted',
          lastTransitionTime: now,
        },
      ],
    };
    const current = this.store.get(crdResource, undefined, meta.name as string) as JsonObject;
    if (isObject(current.status) && Array.isArray(current.status.conditions)) return current;
    return this.objects.update(crdResource, undefined, meta.name as string, { ...current, status }, 'status');
  }

  /** Stops serving the type and deletes its objects (watchers see DELETED). */
  forget(crd: JsonObject): void {
    const spec = isObject(crd.spec) ? crd.spec : {};
    const names = isObject(spec.names) ? spec.names : {};
    const removed = this.registry.remove(`${String(spec.group)}/${String(names.plural)}`);
    if (!removed) return;
    for (const object of this.store.list(removed)) {
      const m = metadataOf(object);
      this.store.remove(removed, m.namespace as string | undefined, m.name as string);
    }
  }
}
