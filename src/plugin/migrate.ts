// `kubectl ironlb migrate`: MetalLB IPAddressPool and L2Advertisement objects,
// and the BGP kinds (migrate-bgp.ts), in; the equivalent ironlb objects out, and for every field whether it carried
// over, changed (and why), or has no equivalent. Pure: the caller reads the
// files or the cluster and writes the result.
import { parseL2Advertisement } from '../api/l2advertisement.js';
import { parsePool } from '../api/pool.js';
import { API_GROUP_VERSION, IP_ADDRESS_POOL_KIND, L2_ADVERTISEMENT_KIND } from '../api/types.js';
import { formatIP, maxValue, parseIP } from '../ip/address.js';
import {
  BGP_KINDS,
  SERVICE_SELECTORS_DROPPED,
  bgpReferenceWarnings,
  checkBgpObject,
  convertBgpSpec,
} from './migrate-bgp.js';

/** `warning`: converted, but it refers to an object not converted here (migrate-bgp.ts). */
export type Outcome = 'carried' | 'changed' | 'dropped' | 'skipped' | 'warning' | 'error';

export interface ReportLine {
  /** `IPAddressPool metallb-system/example` */
  object: string;
  /** `spec.addresses[1]`, or `-` for the object as a whole. */
  field: string;
  outcome: Outcome;
  detail: string;
}

export interface MigratedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}

export interface Migration {
  objects: MigratedObject[];
  report: ReportLine[];
  /** True when some object could not be converted (its lines say `error`). */
  failed: boolean;
}

const METALLB_GROUPS = new Set(['metallb.io/v1beta1', 'metallb.io/v1beta2', 'metallb.io/v1alpha1']);

type Raw = Record<string, unknown>;

function isRaw(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * MetalLB parses a CIDR with net.ParseCIDR, which drops host bits
 * (`192.168.1.5/24` is `192.168.1.0/24`); ironlb masks them the same way
 * (and says so in the pool's Valid condition), but the converter writes the
 * network so the pool reads as what it means, and reports it. Spaces around
 * a range's dash are removed for the same reason (ironlb accepts them).
 */
export function convertAddress(entry: string): { value: string; why?: string } | { error: string } {
  const trimmed = entry.trim();
  if (trimmed.includes('/')) {
    const [address = '', length = ''] = trimmed.split('/');
    const ip = parseIP(address);
    const bits = ip.ok ? (ip.ip.family === 'IPv4' ? 32 : 128) : 0;
    if (!ip.ok || !/^\d{1,3}$/.test(length) || Number(length) > bits) return { error: `"${entry}" is not a CIDR` };
    const hostMask = (1n << BigInt(bits - Number(length))) - 1n;
    const network = ip.ip.value & ~hostMask & maxValue(ip.ip.family);
    if (network !== ip.ip.value) {
      const value = `${formatIP({ family: ip.ip.family, value: network })}/${length}`;
      return {
        value,
        why:
          `host bits set: MetalLB used the network ${value}; ironlb masks them too; the network is written so ` +
          `the pool says what it means`,
      };
    }
    return trimmed === entry ? { value: entry } : { value: trimmed, why: 'surrounding spaces removed' };
  }
  if (trimmed.includes('-')) {
    const parts = trimmed.split('-').map((p) => p.trim());
    const value = parts.join('-');
    return value === entry
      ? { value }
      : { value, why: 'spaces around the range dash removed (the ironlb schema has none)' };
  }
  return trimmed === entry ? { value: entry } : { value: trimmed, why: 'surrounding spaces removed' };
}

const POOL_FIELDS = ['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation'];
const ALLOCATION_FIELDS = ['priority', 'namespaces', 'namespaceSelectors', 'serviceSelectors'];
const ADVERTISEMENT_FIELDS = ['ipAddressPools', 'ipAddressPoolSelectors', 'nodeSelectors', 'interfaces'];
const ADVERTISEMENT_NO_EQUIVALENT: Record<string, string> = {
  serviceSelectors: SERVICE_SELECTORS_DROPPED,
  preferredNodeSelectors:
    'no equivalent: ironlb balances IPs across eligible nodes (fewest held first) and keeps an owner while it lives',
};

export interface MigrateOptions {
  /** ironlb's namespace, where the objects are written (default ironlb-system). */
  namespace: string;
}

export function migrate(documents: readonly { source: string; object: unknown }[], options: MigrateOptions): Migration {
  const { labels, ...migration } = convert(documents, options);
  for (const [i, object] of migration.objects.entries()) {
    for (const w of bgpReferenceWarnings(object, migration.objects, options.namespace))
      migration.report.push({ object: labels[i]!, field: w.field, outcome: 'warning', detail: w.detail });
  }
  return migration;
}

/** The conversion; `labels[i]` is the report's name of `objects[i]`. */
function convert(
  documents: readonly { source: string; object: unknown }[],
  options: MigrateOptions,
): Migration & { labels: string[] } {
  const objects: MigratedObject[] = [];
  const labels: string[] = [];
  const report: ReportLine[] = [];
  let failed = false;
  const names = new Map<string, string>();
  for (const { source, object } of documents) {
    if (object === null || object === undefined) continue;
    if (!isRaw(object)) {
      report.push({
        object: source,
        field: '-',
        outcome: 'error',
        detail: 'not a Kubernetes object (a YAML mapping expected)',
      });
      failed = true;
      continue;
    }
    const kind = typeof object.kind === 'string' ? object.kind : '';
    const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
    const meta = isRaw(object.metadata) ? object.metadata : {};
    const name = typeof meta.name === 'string' ? meta.name : '';
    const label =
      `${kind || '(no kind)'} ` +
      `${typeof meta.namespace === 'string' ? `${meta.namespace}/` : ''}${name || '(no name)'}`;
    const line = (field: string, outcome: Outcome, detail: string) =>
      report.push({ object: label, field, outcome, detail });
    if (kind === 'List' && Array.isArray(object.items)) {
      const inner = convert(
        object.items.map((item) => ({ source, object: item })),
        options,
      );
      objects.push(...inner.objects);
      labels.push(...inner.labels);
      report.push(...inner.report);
      failed ||= inner.failed;
      continue;
    }
    if (kind === 'ConfigMap' && name === 'config' && isRaw(object.data) && typeof object.data.config === 'string') {
      line(
        '-',
        'error',
        "MetalLB's legacy ConfigMap configuration: convert it to custom resources with MetalLB's configmaptocrs " +
          'tool first',
      );
      failed = true;
      continue;
    }
    if (!METALLB_GROUPS.has(apiVersion)) {
      line('-', 'skipped', `not a MetalLB object (${apiVersion || 'no apiVersion'}): ignored`);
      continue;
    }
    if (kind !== 'IPAddressPool' && kind !== 'L2Advertisement' && !BGP_KINDS.has(kind)) {
      line('-', 'dropped', `no equivalent for ${kind}`);
      continue;
    }
    if (name === '') {
      line('metadata.name', 'error', 'missing');
      failed = true;
      continue;
    }
    const key = `${kind}/${name}`;
    if (names.has(key)) {
      line(
        'metadata.name',
        'error',
        `a ${kind} named ${name} was already converted from ${names.get(key)}: ironlb keeps all of them in one ` +
          `namespace`,
      );
      failed = true;
      continue;
    }
    names.set(key, typeof meta.namespace === 'string' ? meta.namespace : source);
    const metadata: MigratedObject['metadata'] = { name, namespace: options.namespace };
    line('apiVersion', 'changed', `${apiVersion} -> ${API_GROUP_VERSION}`);
    line(
      'metadata.namespace',
      meta.namespace === options.namespace ? 'carried' : 'changed',
      `${typeof meta.namespace === 'string' ? meta.namespace : '(none)'} -> ${options.namespace}`,
    );
    if (isRaw(meta.labels) && Object.keys(meta.labels).length > 0) {
      metadata.labels = Object.fromEntries(Object.entries(meta.labels).map(([k, v]) => [k, String(v)]));
      line('metadata.labels', 'carried', Object.keys(metadata.labels).join(', '));
    }
    if (isRaw(meta.annotations) && Object.keys(meta.annotations).length > 0) {
      line('metadata.annotations', 'dropped', `not copied: ${Object.keys(meta.annotations).join(', ')}`);
    }
    const spec = object.spec === undefined ? {} : object.spec;
    if (!isRaw(spec)) {
      line('spec', 'error', 'must be a mapping');
      failed = true;
      continue;
    }
    let out: Record<string, unknown> = {};
    if (BGP_KINDS.has(kind)) {
      const metallbNamespace = typeof meta.namespace === 'string' ? meta.namespace : 'metallb-system';
      out = convertBgpSpec(kind, spec, { metallbNamespace, namespace: options.namespace }, line);
    } else if (kind === 'IPAddressPool') {
      const addresses = Array.isArray(spec.addresses) ? spec.addresses : [];
      if (addresses.length === 0) line('spec.addresses', 'error', 'missing or empty');
      out.addresses = addresses.map((entry, i) => {
        const field = `spec.addresses[${i}]`;
        if (typeof entry !== 'string') {
          line(field, 'error', `${JSON.stringify(entry)} is not a string`);
          return entry;
        }
        const converted = convertAddress(entry);
        if ('error' in converted) {
          line(field, 'error', converted.error);
          return entry;
        }
        line(
          field,
          converted.why ? 'changed' : 'carried',
          converted.why ? `${entry} -> ${converted.value}: ${converted.why}` : entry,
        );
        return converted.value;
      });
      for (const field of ['autoAssign', 'avoidBuggyIPs'] as const) {
        if (spec[field] !== undefined) {
          out[field] = spec[field];
          line(`spec.${field}`, 'carried', String(spec[field]));
        }
      }
      if (isRaw(spec.serviceAllocation)) {
        const allocation: Record<string, unknown> = {};
        for (const [field, value] of Object.entries(spec.serviceAllocation)) {
          if (ALLOCATION_FIELDS.includes(field)) {
            allocation[field] = value;
            line(
              `spec.serviceAllocation.${field}`,
              'carried',
              field === 'priority' ? `${String(value)} (lower is tried first, as in MetalLB)` : 'same meaning',
            );
          } else {
            line(`spec.serviceAllocation.${field}`, 'dropped', 'unknown field: no equivalent');
          }
        }
        out.serviceAllocation = allocation;
      }
      for (const field of Object.keys(spec).filter((f) => !POOL_FIELDS.includes(f)))
        line(`spec.${field}`, 'dropped', 'unknown field: no equivalent');
    } else {
      for (const [field, value] of Object.entries(spec)) {
        if (ADVERTISEMENT_FIELDS.includes(field)) {
          out[field] = value;
          line(
            `spec.${field}`,
            'carried',
            field === 'interfaces'
              ? 'same names; a node without any of them is not a candidate at all (MetalLB could elect it and ' +
                  'announce nothing)'
              : 'same meaning',
          );
        } else {
          line(`spec.${field}`, 'dropped', ADVERTISEMENT_NO_EQUIVALENT[field] ?? 'unknown field: no equivalent');
        }
      }
      if (Object.keys(spec).length === 0) line('spec', 'carried', 'empty: every pool, from every node (as in MetalLB)');
    }
    const result: MigratedObject = {
      apiVersion: API_GROUP_VERSION,
      kind: kind === 'IPAddressPool' ? IP_ADDRESS_POOL_KIND : kind === 'L2Advertisement' ? L2_ADVERTISEMENT_KIND : kind,
      metadata,
      spec: out,
    };
    // The converted object must pass ironlb's own validation, or it is not written.
    const errors = checkObject(result);
    if (errors.length > 0 || report.some((l) => l.object === label && l.outcome === 'error')) {
      for (const error of errors) line('-', 'error', `ironlb would refuse it: ${error}`);
      failed = true;
      continue;
    }
    objects.push(result);
    labels.push(label);
  }
  return { objects, labels, report, failed };
}

function checkObject(object: MigratedObject): string[] {
  if (object.kind === IP_ADDRESS_POOL_KIND || object.kind === L2_ADVERTISEMENT_KIND) {
    const check = object.kind === IP_ADDRESS_POOL_KIND ? parsePool(object) : parseL2Advertisement(object);
    return check.ok ? [] : check.errors;
  }
  return checkBgpObject(object);
}
