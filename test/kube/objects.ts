// The verbs on stored objects, with kube-apiserver's rules for names,
// resourceVersion preconditions, generation, the status subresource and patches.
import { randomUUID } from 'node:crypto';
import {
  decode,
  defaultOnCreate,
  defaultOnWrite,
  normalizeTimes,
  validateBuiltin,
  type BuiltinContext,
} from './builtins.js';
import { canonicalJson, clone, isObject, jsonPatch, mergePatch, type Json, type JsonObject } from './patch.js';
import { apiVersionOf, type ResourceType } from './resources.js';
import { admitCustomResource } from './schema.js';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  notFound,
  unsupportedMediaType,
  type FieldError,
} from './status.js';
import { metadataOf, type Store } from './store.js';
import { decodeTyped } from './typed.js';

/** The `fieldValidation` query parameter: what happens to fields the type or schema does not have. */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Per write request: how unknown fields are reported, and the warnings for the response's headers. */
export interface WriteRequest {
  fieldValidation: FieldValidation;
  warnings: string[];
}

/** Since 1.27 a request without the parameter gets Warn. */
export const defaultWrite = (): WriteRequest => ({ fieldValidation: 'Warn', warnings: [] });

/** Dropped unknown fields, reported as kube-apiserver does: a 400 under Strict, else a Warning. */
function reportUnknown(unknown: readonly string[], write: WriteRequest): void {
  if (unknown.length === 0 || write.fieldValidation === 'Ignore') return;
  const texts = unknown.map((path) => `unknown field ${JSON.stringify(path)}`);
  if (write.fieldValidation === 'Strict') throw badRequest(`strict decoding error: ${texts.join(', ')}`);
  write.warnings.push(...texts);
}

const nameRules = {
  dns1035Label: {
    regex: /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
    max: 63,
    text:
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', " +
      "start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', " +
      "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
  },
  dns1123Label: {
    regex: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    max: 63,
    text:
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', " +
      "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', " +
      "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  },
  dns1123Subdomain: {
    regex: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    max: 253,
    text:
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', " +
      "and must start and end with an alphanumeric character (e.g. 'example.com', " +
      'regex used for validation is ' +
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  },
};

const generateNameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

function nowSeconds(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Everything but metadata and status: a change here bumps generation. */
function specPart(object: JsonObject): string {
  const { metadata: _m, status: _s, ...rest } = object;
  return canonicalJson(rest);
}

function withoutVolatile(object: JsonObject): string {
  const copy = clone(object);
  const meta = metadataOf(copy);
  delete meta.resourceVersion;
  delete meta.managedFields;
  return canonicalJson(copy);
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export function patchTypeOf(contentType: string): PatchType {
  const base = contentType.split(';')[0].trim();
  switch (base) {
    case 'application/json-patch+json':
      return 'json';
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
      return 'apply';
    default:
      throw unsupportedMediaType(base);
  }
}

export class Objects {
  constructor(
    private readonly store: Store,
    private readonly builtinContext: BuiltinContext,
  ) {}

  private errorsFor(resource: ResourceType, name: string, errors: FieldError[]): void {
    if (errors.length > 0) throw invalid(resource.kind, resource.group, name, errors);
  }

  private checkBody(
    resource: ResourceType,
    body: Json,
    namespace: string | undefined,
    write: WriteRequest,
  ): JsonObject {
    if (!isObject(body)) throw badRequest(`the body of the request is not a ${resource.kind} object`);
    const apiVersion = apiVersionOf(resource);
    if (resource.schema && body.kind === undefined)
      throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
    if (body.kind !== undefined && body.kind !== resource.kind) {
      throw badRequest(
        `${body.kind} in version "${resource.version}" ` +
          `cannot be handled as a ${resource.kind}: the kind does not match`,
      );
    }
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
      throw badRequest(
        `the API version in the data (${String(body.apiVersion)}) ` +
          `does not match the expected API version (${apiVersion})`,
      );
    }
    const object = clone(body);
    object.kind = resource.kind;
    object.apiVersion = apiVersion;
    const meta = isObject(object.metadata) ? object.metadata : {};
    object.metadata = meta;
    if (resource.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace ?? null;
    } else {
      delete meta.namespace;
    }
    if (resource.typeName) {
      const {
        unknown,
        wrongTypes: [wrong],
      } = decodeTyped(object, resource.typeName);
      if (wrong) {
        throw badRequest(
          `${resource.kind} in version "${resource.version}" cannot be handled as a ${resource.kind}: ` +
            `json: cannot unmarshal ${wrong.got} into Go struct field ${wrong.path} of type ${wrong.expected}`,
        );
      }
      reportUnknown(unknown, write);
    }
    decode(resource, object);
    return object;
  }

  /** Schema (custom resources) or built-in rules, applied to the object as it would be stored. */
  private admit(resource: ResourceType, object: JsonObject, name: string, write: WriteRequest, old?: JsonObject): void {
    normalizeTimes(resource, object);
    const pruned: string[] = [];
    const errors = resource.schema
      ? admitCustomResource(object, resource.schema, old, pruned)
      : validateBuiltin(resource, object, this.builtinContext);
    reportUnknown(pruned, write);
    this.errorsFor(resource, name, errors);
  }

  private requireNamespace(resource: ResourceType, namespace: string | undefined, namespaces: ResourceType): void {
    if (!resource.namespaced) return;
    if (!this.store.get(namespaces, undefined, namespace ?? '')) {
      throw new ApiError(404, 'NotFound', `namespaces "${namespace}" not found`, {
        name: namespace,
        kind: 'namespaces',
      });
    }
  }

  create(
    resource: ResourceType,
    namespace: string | undefined,
    body: Json,
    namespaces: ResourceType,
    write = defaultWrite(),
  ): JsonObject {
    const object = this.checkBody(resource, body, namespace, write);
    const meta = metadataOf(object);
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '') {
      throw badRequest('resourceVersion should not be set on objects to be created');
    }
    if (
      (meta.name === undefined || meta.name === '') &&
      typeof meta.generateName === 'string' &&
      meta.generateName !== ''
    ) {
      let suffix = '';
      for (let i = 0; i < 5; i++)
        suffix += generateNameAlphabet[Math.floor(Math.random() * generateNameAlphabet.length)];
      meta.name = `${meta.generateName}${suffix}`;
    }
    const name = typeof meta.name === 'string' ? meta.name : '';
    if (name === '') {
      this.errorsFor(resource, '', [
        {
          field: 'metadata.name',
          type: 'FieldValueRequired',
          text: 'metadata.name: Required value: name or generateName is required',
        },
      ]);
    }
    const rule = nameRules[resource.nameRule];
    if (!rule.regex.test(name) || name.length > rule.max) {
      this.errorsFor(resource, name, [
        {
          field: 'metadata.name',
          type: 'FieldValueInvalid',
          text: `metadata.name: Invalid value: ${JSON.stringify(name)}: ${rule.text}`,
        },
      ]);
    }
    this.requireNamespace(resource, namespace, namespaces);
    if (this.store.get(resource, namespace, name)) throw alreadyExists(resource, name);
    meta.uid = randomUUID();
    meta.creationTimestamp = nowSeconds();
    delete meta.deletionTimestamp;
    if (resource.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    if (resource.clearStatusOnCreate) delete object.status;
    defaultOnCreate(resource, object, this.builtinContext);
    this.admit(resource, object, name, write);
    return this.store.write(resource, object, 'ADDED');
  }

  get(resource: ResourceType, namespace: string | undefined, name: string): JsonObject {
    const found = this.store.get(resource, namespace, name);
    if (!found) throw notFound(resource, name);
    return found;
  }

  /** PUT on the object (`subresource` undefined) or on its `/status`. */
  update(
    resource: ResourceType,
    namespace: string | undefined,
    name: string,
    body: Json,
    subresource?: string,
    write = defaultWrite(),
  ): JsonObject {
    const incoming = this.checkBody(resource, body, namespace, write);
    const meta = metadataOf(incoming);
    if (meta.name !== undefined && meta.name !== name) {
      throw badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
    }
    const old = this.store.get(resource, namespace, name);
    // The body's uid is a storage precondition, checked before anything else: an
    // object deleted since it was read answers 409, not 404 (as kube-apiserver).
    const uidPrecondition = meta.uid !== undefined && meta.uid !== '' ? String(meta.uid) : undefined;
    if (uidPrecondition !== undefined && uidPrecondition !== (old ? metadataOf(old).uid : '')) {
      throw conflict(
        resource,
        name,
        `Precondition failed: UID in precondition: ${uidPrecondition}, ` +
          `UID in object meta: ${old ? String(metadataOf(old).uid) : ''}`,
      );
    }
    if (!old) throw notFound(resource, name);
    const oldMeta = metadataOf(old);
    if (
      meta.resourceVersion !== undefined &&
      meta.resourceVersion !== '' &&
      meta.resourceVersion !== oldMeta.resourceVersion
    ) {
      throw conflict(resource, name);
    }
    let next: JsonObject;
    if (subresource === 'status') {
      // Only status is taken from a /status write; spec and metadata stay.
      next = clone(old);
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
    } else {
      next = incoming;
      const nextMeta = metadataOf(next);
      nextMeta.name = name;
      nextMeta.uid = oldMeta.uid;
      nextMeta.creationTimestamp = oldMeta.creationTimestamp;
      if (oldMeta.deletionTimestamp !== undefined) nextMeta.deletionTimestamp = oldMeta.deletionTimestamp;
      if (resource.hasStatus) {
        if (old.status === undefined) delete next.status;
        else next.status = old.status;
      }
      if (resource.id === '/services') {
        keepAllocatedServiceValues(old, next);
        changeServiceStack(next, this.builtinContext);
        checkServiceUpdate(resource, old, next);
      }
    }
    const nextMeta = metadataOf(next);
    if (resource.tracksGeneration) {
      const generation = typeof oldMeta.generation === 'number' ? oldMeta.generation : 1;
      nextMeta.generation = specPart(next) === specPart(old) ? generation : generation + 1;
    } else {
      delete nextMeta.generation;
    }
    nextMeta.resourceVersion = oldMeta.resourceVersion;
    defaultOnWrite(resource, next);
    this.admit(resource, next, name, write, old);
    if (withoutVolatile(next) === withoutVolatile(old)) return old;
    if (nextMeta.deletionTimestamp !== undefined && !hasFinalizers(next)) {
      return this.store.remove(resource, namespace, name) as JsonObject;
    }
    return this.store.write(resource, next, 'MODIFIED');
  }

  patch(
    resource: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: Json,
    type: PatchType,
    subresource?: string,
    write = defaultWrite(),
  ): JsonObject {
    if (type === 'apply')
      throw unsupportedMediaType('application/apply-patch+yaml (server-side apply is not served by the double)');
    if (type === 'strategic' && resource.schema) {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        'strategic merge patch is not supported for custom resources; use a merge patch or a JSON patch',
      );
    }
    const current = this.get(resource, namespace, name);
    // Strategic merge differs from merge only for lists with patch keys, which we do not rely on.
    const patched = type === 'json' ? jsonPatch(current, patch) : mergePatch(current, patch);
    if (!isObject(patched)) throw badRequest('the patch turned the object into something that is not an object');
    return this.update(resource, namespace, name, patched, subresource, write);
  }

  delete(resource: ResourceType, namespace: string | undefined, name: string, options: Json): JsonObject {
    const current = this.get(resource, namespace, name);
    const meta = metadataOf(current);
    const preconditions = isObject(options) && isObject(options.preconditions) ? options.preconditions : {};
    if (preconditions.uid !== undefined && preconditions.uid !== meta.uid) {
      throw conflict(
        resource,
        name,
        `Precondition failed: UID in precondition: ${String(preconditions.uid)}, ` +
          `UID in object meta: ${String(meta.uid)}`,
      );
    }
    if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== meta.resourceVersion) {
      throw conflict(
        resource,
        name,
        `the ResourceVersion in the precondition (${String(preconditions.resourceVersion)}) ` +
          `does not match the ResourceVersion in record (${String(meta.resourceVersion)}). ` +
          `The object might have been modified`,
      );
    }
    if (hasFinalizers(current)) {
      if (meta.deletionTimestamp !== undefined) return current;
      meta.deletionTimestamp = nowSeconds();
      return this.store.write(resource, current, 'MODIFIED');
    }
    return this.store.remove(resource, namespace, name) as JsonObject;
  }
}

/** What ValidateServiceUpdate and dropTypeDependentFields add on top of create. */
function checkServiceUpdate(resource: ResourceType, old: JsonObject, next: JsonObject): void {
  const oldSpec = isObject(old.spec) ? old.spec : {};
  const spec = next.spec as JsonObject;
  const name = metadataOf(old).name as string;
  if (
    oldSpec.type === 'LoadBalancer' &&
    spec.type === 'LoadBalancer' &&
    JSON.stringify(oldSpec.loadBalancerClass ?? null) !== JSON.stringify(spec.loadBalancerClass ?? null)
  ) {
    throw invalid(resource.kind, resource.group, name, [
      {
        field: 'spec.loadBalancerClass',
        type: 'FieldValueInvalid',
        text:
          `spec.loadBalancerClass: Invalid value: ${JSON.stringify(spec.loadBalancerClass ?? null)}: ` +
          `may not change once set`,
      },
    ]);
  }
  // A Service that stops being a LoadBalancer loses its load-balancer status.
  if (spec.type !== 'LoadBalancer' && isObject(next.status)) next.status.loadBalancer = {};
}

function hasFinalizers(object: JsonObject): boolean {
  const finalizers = metadataOf(object).finalizers;
  return Array.isArray(finalizers) && finalizers.length > 0;
}

/**
 * Like the real Service registry on update: a policy change to Prefer/RequireDualStack
 * on a dual-stack cluster adds the other family and a cluster IP for it; a change to
 * SingleStack trims ipFamilies and clusterIPs to the first (trimFieldsForDualStackDowngrade).
 */
function changeServiceStack(next: JsonObject, ctx: BuiltinContext): void {
  const spec = next.spec as JsonObject;
  const families = Array.isArray(spec.ipFamilies) ? (spec.ipFamilies as Array<'IPv4' | 'IPv6'>) : [];
  const clusterIPs = Array.isArray(spec.clusterIPs) ? (spec.clusterIPs as string[]) : [];
  if (spec.clusterIP === 'None' || families.length === 0) return;
  if (spec.ipFamilyPolicy === 'SingleStack' && families.length > 1) {
    spec.ipFamilies = families.slice(0, 1);
    spec.clusterIPs = clusterIPs.slice(0, 1);
    return;
  }
  const dual = spec.ipFamilyPolicy === 'PreferDualStack' || spec.ipFamilyPolicy === 'RequireDualStack';
  if (dual && families.length === 1 && ctx.clusterFamilies.length === 2) {
    const other = ctx.clusterFamilies.find((f) => f !== families[0]) as 'IPv4' | 'IPv6';
    spec.ipFamilies = [families[0], other];
    spec.clusterIPs = [...clusterIPs.slice(0, 1), ctx.allocateClusterIP(other)];
  }
}

/** Like the real Service strategy: allocated values left out of an update are kept. */
function keepAllocatedServiceValues(old: JsonObject, next: JsonObject): void {
  const oldSpec = isObject(old.spec) ? old.spec : {};
  const spec = isObject(next.spec) ? next.spec : {};
  next.spec = spec;
  for (const key of [
    'clusterIP',
    'clusterIPs',
    'ipFamilies',
    'ipFamilyPolicy',
    'type',
    'sessionAffinity',
    'internalTrafficPolicy',
  ]) {
    if (spec[key] === undefined && oldSpec[key] !== undefined) spec[key] = clone(oldSpec[key]);
  }
  const oldPorts = Array.isArray(oldSpec.ports) ? oldSpec.ports.filter(isObject) : [];
  for (const port of Array.isArray(spec.ports) ? spec.ports.filter(isObject) : []) {
    port.protocol ??= 'TCP';
    port.targetPort ??= port.port ?? null;
    const same = oldPorts.find((p) => p.port === port.port && (p.protocol ?? 'TCP') === port.protocol);
    if (port.nodePort === undefined && same?.nodePort !== undefined) port.nodePort = same.nodePort;
  }
  if ((spec.type === 'LoadBalancer' || spec.type === 'NodePort') && spec.externalTrafficPolicy === undefined) {
    spec.externalTrafficPolicy = oldSpec.externalTrafficPolicy ?? 'Cluster';
  }
}
