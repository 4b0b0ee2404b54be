// Per-type defaulting and validation of the built-in resources, limited to what
// a client of ours can trip over against a real apiserver.
import { isIP } from 'node:net';
import { isObject, type Json, type JsonObject } from './patch.js';
import type { ResourceType } from './resources.js';
import { validateSchema, type Schema } from './schema.js';
import { badRequest, type FieldError } from './status.js';

export interface BuiltinContext {
  allocateClusterIP(family: 'IPv4' | 'IPv6'): string;
  allocateNodePort(): number;
  clusterFamilies: Array<'IPv4' | 'IPv6'>;
}

const conditionSchema: Schema = {
  type: 'object',
  required: ['lastTransitionTime', 'message', 'reason', 'status', 'type'],
  properties: {
    type: {
      type: 'string',
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?' +
        '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' },
    message: { type: 'string', maxLength: 32768 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    observedGeneration: { type: 'integer', minimum: 0 },
  },
};

function field(path: string, type: string, text: string): FieldError {
  return { field: path, type, text: `${path}: ${text}` };
}

function defaultService(service: JsonObject, ctx: BuiltinContext): void {
  const spec = (isObject(service.spec) ? service.spec : {}) as JsonObject;
  service.spec = spec;
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  spec.internalTrafficPolicy ??= 'Cluster';
  const exposed = spec.type === 'LoadBalancer' || spec.type === 'NodePort';
  if (exposed) spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  const policy = (spec.ipFamilyPolicy as string | undefined) ?? 'SingleStack';
  spec.ipFamilyPolicy = policy;
  const asked = Array.isArray(spec.ipFamilies) ? (spec.ipFamilies as Array<'IPv4' | 'IPv6'>) : [];
  let families = asked.length > 0 ? asked : [ctx.clusterFamilies[0]];
  if (policy !== 'SingleStack' && families.length === 1 && ctx.clusterFamilies.length === 2) {
    families = [families[0], ...ctx.clusterFamilies.filter((f) => f !== families[0])];
  }
  spec.ipFamilies = families;
  if (spec.clusterIP !== 'None') {
    const ips = families.map((f) => ctx.allocateClusterIP(f));
    spec.clusterIP = ips[0];
    spec.clusterIPs = ips;
  } else {
    spec.clusterIPs = ['None'];
  }
  for (const port of Array.isArray(spec.ports) ? spec.ports : []) {
    if (!isObject(port)) continue;
    port.protocol ??= 'TCP';
    port.targetPort ??= port.port ?? null;
    const wantsNodePort = exposed && !(spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === false);
    if (wantsNodePort && port.nodePort === undefined) port.nodePort = ctx.allocateNodePort();
  }
}

function validateService(service: JsonObject, ctx: BuiltinContext): FieldError[] {
  const errors: FieldError[] = [];
  const spec = service.spec as JsonObject;
  const types = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
  if (!types.includes(spec.type as string)) {
    errors.push(
      field(
        'spec.type',
        'FieldValueNotSupported',
        `Unsupported value: ${JSON.stringify(spec.type)}: supported values: ${types.map((t) => `"${t}"`).join(', ')}`,
      ),
    );
  }
  if (
    spec.type !== 'ExternalName' &&
    (!Array.isArray(spec.ports) || spec.ports.length === 0) &&
    spec.clusterIP !== 'None'
  ) {
    errors.push(field('spec.ports', 'FieldValueRequired', 'Required value'));
  }
  const policies = ['SingleStack', 'PreferDualStack', 'RequireDualStack'];
  if (!policies.includes(spec.ipFamilyPolicy as string)) {
    errors.push(
      field(
        'spec.ipFamilyPolicy',
        'FieldValueNotSupported',
        `Unsupported value: ${JSON.stringify(spec.ipFamilyPolicy)}: ` +
          `supported values: "PreferDualStack", "RequireDualStack", "SingleStack"`,
      ),
    );
  }
  if (spec.ipFamilyPolicy === 'RequireDualStack' && ctx.clusterFamilies.length < 2) {
    errors.push(
      field(
        'spec.ipFamilyPolicy',
        'FieldValueInvalid',
        'Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services',
      ),
    );
  }
  if (spec.loadBalancerClass !== undefined && spec.type !== 'LoadBalancer') {
    errors.push(
      field(
        'spec.loadBalancerClass',
        'FieldValueForbidden',
        "Forbidden: may only be used when `type` is 'LoadBalancer'",
      ),
    );
  }
  const etp = spec.externalTrafficPolicy;
  if (etp !== undefined && etp !== 'Cluster' && etp !== 'Local') {
    errors.push(
      field(
        'spec.externalTrafficPolicy',
        'FieldValueNotSupported',
        `Unsupported value: ${JSON.stringify(etp)}: supported values: "Cluster", "Local"`,
      ),
    );
  }
  return errors;
}

function validateServiceStatus(service: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  const status = isObject(service.status) ? service.status : {};
  const lb = isObject(status.loadBalancer) ? status.loadBalancer : {};
  const ingress = Array.isArray(lb.ingress) ? lb.ingress : [];
  const spec = isObject(service.spec) ? service.spec : {};
  // Since 1.29 (gate AllowServiceLBStatusOnNonLB, removed in 1.32): nothing else is checked then.
  if (spec.type !== 'LoadBalancer' && ingress.length > 0) {
    return [
      field(
        'status.loadBalancer.ingress',
        'FieldValueForbidden',
        "Forbidden: may only be used when `spec.type` is 'LoadBalancer'",
      ),
    ];
  }
  ingress.forEach((entry, i) => {
    const path = `status.loadBalancer.ingress[${i}]`;
    if (!isObject(entry)) return;
    if (entry.ip !== undefined && isIP(String(entry.ip)) === 0) {
      errors.push(
        field(
          `${path}.ip`,
          'FieldValueInvalid',
          `Invalid value: ${JSON.stringify(entry.ip)}: must be a valid IP address`,
        ),
      );
    }
    if (entry.ipMode !== undefined && entry.ipMode !== 'VIP' && entry.ipMode !== 'Proxy') {
      errors.push(
        field(
          `${path}.ipMode`,
          'FieldValueNotSupported',
          `Unsupported value: ${JSON.stringify(entry.ipMode)}: supported values: "Proxy", "VIP"`,
        ),
      );
    }
    if (entry.ipMode !== undefined && entry.ip === undefined) {
      errors.push(field(`${path}.ipMode`, 'FieldValueForbidden', 'Forbidden: may not be specified when `ip` is not'));
    }
  });
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  for (const [i, c] of conditions.entries()) validateSchema(c, conditionSchema, `status.conditions[${i}]`, errors);
  return errors;
}

// Go's MicroTime decoder takes exactly RFC3339 with 6 fractional digits; a JS
// Date (3 digits) fails to decode, which the real server answers with 400.
const microTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;

function checkMicroTime(kind: string, value: Json | undefined): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string' || !microTime.test(value)) {
    throw badRequest(
      `${kind} in version "v1" cannot be handled as a ${kind}: ` +
        `parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05.000000Z07:00": ` +
        `cannot parse as RFC3339 with microseconds`,
    );
  }
}

function decodeLease(lease: JsonObject): void {
  const spec = isObject(lease.spec) ? lease.spec : {};
  checkMicroTime('Lease', spec.acquireTime);
  checkMicroTime('Lease', spec.renewTime);
}

function validateLease(lease: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = isObject(lease.spec) ? lease.spec : {};
  if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0) {
    errors.push(
      field(
        'spec.leaseDurationSeconds',
        'FieldValueInvalid',
        `Invalid value: ${spec.leaseDurationSeconds}: must be greater than 0`,
      ),
    );
  }
  if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0) {
    errors.push(
      field(
        'spec.leaseTransitions',
        'FieldValueInvalid',
        `Invalid value: ${spec.leaseTransitions}: must be greater than or equal to 0`,
      ),
    );
  }
  return errors;
}

function validateEventsV1(event: JsonObject): FieldError[] {
  checkMicroTime('Event', event.eventTime);
  const errors: FieldError[] = [];
  for (const name of ['eventTime', 'reportingController', 'reportingInstance', 'action', 'reason']) {
    if (event[name] === undefined || event[name] === '')
      errors.push(field(name, 'FieldValueRequired', 'Required value'));
  }
  if (event.type !== 'Normal' && event.type !== 'Warning') {
    errors.push(
      field(
        'type',
        'FieldValueNotSupported',
        `Unsupported value: ${JSON.stringify(event.type ?? '')}: supported values: "Normal", "Warning"`,
      ),
    );
  }
  return errors;
}

function validateCoreEvent(event: JsonObject): FieldError[] {
  if (event.type === undefined || event.type === 'Normal' || event.type === 'Warning') return [];
  return [
    field(
      'type',
      'FieldValueNotSupported',
      `Unsupported value: ${JSON.stringify(event.type)}: supported values: "Normal", "Warning"`,
    ),
  ];
}

// metav1.Time is serialized with whole seconds: a client's "…05.123Z" comes back "…05Z".
function toSeconds(value: Json | undefined): Json | undefined {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) return value;
  return new Date(value).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function normalizeConditionTimes(object: JsonObject, fields: string[]): void {
  const status = isObject(object.status) ? object.status : {};
  for (const condition of Array.isArray(status.conditions) ? status.conditions : []) {
    if (!isObject(condition)) continue;
    for (const name of fields) if (condition[name] !== undefined) condition[name] = toSeconds(condition[name]) ?? null;
  }
}

/** Rewrites metav1.Time fields the way the real server's round trip does. */
export function normalizeTimes(resource: ResourceType, object: JsonObject): void {
  if (resource.id === '/services') normalizeConditionTimes(object, ['lastTransitionTime']);
  if (resource.id === '/nodes') normalizeConditionTimes(object, ['lastHeartbeatTime', 'lastTransitionTime']);
  if (resource.id === '/events') {
    for (const name of ['firstTimestamp', 'lastTimestamp'])
      if (object[name] !== undefined) object[name] = toSeconds(object[name]) ?? null;
  }
}

/** Fills in what the real server defaults on create. */
export function defaultOnCreate(resource: ResourceType, object: JsonObject, ctx: BuiltinContext): void {
  if (resource.id === '/services') defaultService(object, ctx);
  if (resource.id === '/namespaces') {
    object.spec = { finalizers: ['kubernetes'] };
    object.status = { phase: 'Active' };
  }
}

/**
 * Defaults the real server applies to every write (SetDefaults_Service runs on
 * each decode): a LoadBalancer's ingress entry with an ip and no ipMode gets VIP.
 */
export function defaultOnWrite(resource: ResourceType, object: JsonObject): void {
  if (resource.id !== '/services') return;
  const spec = isObject(object.spec) ? object.spec : {};
  const status = isObject(object.status) ? object.status : {};
  const lb = isObject(status.loadBalancer) ? status.loadBalancer : {};
  if (spec.type !== 'LoadBalancer' || !Array.isArray(lb.ingress)) return;
  for (const entry of lb.ingress) {
    if (isObject(entry) && typeof entry.ip === 'string' && entry.ip !== '' && entry.ipMode === undefined)
      entry.ipMode = 'VIP';
  }
}

/** Body errors that the real server reports as a 400 while decoding. */
export function decode(resource: ResourceType, object: JsonObject): void {
  if (resource.id === 'coordination.k8s.io/leases') decodeLease(object);
}

/** Field errors (422) for the whole object after the change. */
export function validateBuiltin(resource: ResourceType, object: JsonObject, ctx: BuiltinContext): FieldError[] {
  switch (resource.id) {
    case '/services':
      return [...validateService(object, ctx), ...validateServiceStatus(object)];
    case 'coordination.k8s.io/leases':
      return validateLease(object);
    case 'events.k8s.io/events':
      return validateEventsV1(object);
    case '/events':
      return validateCoreEvent(object);
    default:
      return [];
  }
}
