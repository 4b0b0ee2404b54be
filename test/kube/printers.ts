// Table columns and cells of the built-in types, as kube-apiserver prints them
// (pkg/printers/internalversion/printers.go). The server always prints wide:
// priority-1 columns are sent and kubectl shows them only with `-o wide`.
import { isObject, type Json, type JsonObject } from './patch.js';

export interface BuiltinColumn {
  name: string;
  priority?: number;
  format?: string;
}

export interface BuiltinPrinter {
  /** Every column, Name included where the real printer has it. */
  columns: BuiltinColumn[];
  cells(object: JsonObject, now: number): Json[];
}

/** apimachinery's duration.HumanDuration: how kubectl shows an age. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

/** translateTimestampSince: `<unknown>` for a missing time. */
export function since(timestamp: Json | undefined, now: number): string {
  if (typeof timestamp !== 'string' || timestamp === '') return '<unknown>';
  const at = Date.parse(timestamp);
  return Number.isNaN(at) ? '<invalid>' : humanDuration(now - at);
}

const str = (value: Json | undefined): string => (typeof value === 'string' ? value : '');
const obj = (value: Json | undefined): JsonObject => (isObject(value) ? value : {});
const arr = (value: Json | undefined): Json[] => (Array.isArray(value) ? value : []);

function servicePorts(ports: Json[]): string {
  return ports
    .map(obj)
    .map((p) => {
      const protocol = str(p.protocol) || 'TCP';
      return typeof p.nodePort === 'number' && p.nodePort > 0
        ? `${String(p.port)}:${p.nodePort}/${protocol}`
        : `${String(p.port)}/${protocol}`;
    })
    .join(',');
}

function serviceExternalIp(spec: JsonObject, status: JsonObject): string {
  const externalIPs = arr(spec.externalIPs).map(str);
  switch (str(spec.type)) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      // A sorted set of ingress IPs (or hostnames), as loadBalancerStatusStringer.
      const ingress = [
        ...new Set(
          arr(obj(status.loadBalancer).ingress)
            .map(obj)
            .map((i) => str(i.ip) || str(i.hostname))
            .filter((s) => s !== ''),
        ),
      ].sort();
      const all = [...ingress, ...externalIPs];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return str(spec.externalName);
    default:
      return '<unknown>';
  }
}

function selectorText(selector: Json | undefined): string {
  const entries = Object.entries(obj(selector)).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length === 0 ? '<none>' : entries.map(([k, v]) => `${k}=${str(v)}`).join(',');
}

const name = (o: JsonObject): string => str(obj(o.metadata).name);
const age = (o: JsonObject, now: number): string => since(obj(o.metadata).creationTimestamp, now);

const service: BuiltinPrinter = {
  columns: [
    { name: 'Name', format: 'name' },
    { name: 'Type' },
    { name: 'Cluster-IP' },
    { name: 'External-IP' },
    { name: 'Port(s)' },
    { name: 'Age' },
    { name: 'Selector', priority: 1 },
  ],
  cells(o, now) {
    const spec = obj(o.spec);
    const clusterIPs = arr(spec.clusterIPs).map(str);
    const ports = servicePorts(arr(spec.ports));
    return [
      name(o),
      str(spec.type),
      clusterIPs[0] || '<none>',
      serviceExternalIp(spec, obj(o.status)),
      ports || '<none>',
      age(o, now),
      selectorText(spec.selector),
    ];
  },
};

const lease: BuiltinPrinter = {
  columns: [{ name: 'Name', format: 'name' }, { name: 'Holder' }, { name: 'Age' }],
  cells: (o, now) => [name(o), str(obj(o.spec).holderIdentity), age(o, now)],
};

function eventSource(source: JsonObject, controller: string, instance: string): string {
  const component = str(source.component) || controller;
  const host = str(source.host) || instance;
  return host ? `${component}, ${host}` : component;
}

/** printEvent over the core/v1 shape; events.k8s.io/v1 objects are mapped to it first. */
function eventCells(o: JsonObject, now: number): Json[] {
  const first = str(o.firstTimestamp) ? since(o.firstTimestamp, now) : since(o.eventTime, now);
  let last = str(o.lastTimestamp) ? since(o.lastTimestamp, now) : first;
  let count = typeof o.count === 'number' && o.count > 0 ? o.count : 1;
  const series = obj(o.series);
  if (isObject(o.series)) {
    last = since(series.lastObservedTime, now);
    count = typeof series.count === 'number' ? series.count : count;
  }
  const ref = obj(o.involvedObject);
  const kind = str(ref.kind).toLowerCase();
  const target = str(ref.name) ? `${kind}/${str(ref.name)}` : kind;
  return [
    last,
    str(o.type),
    str(o.reason),
    target,
    str(ref.fieldPath),
    eventSource(obj(o.source), str(o.reportingComponent), str(o.reportingInstance)),
    str(o.message).trim(),
    first,
    count,
    name(o),
  ];
}

const eventColumns: BuiltinColumn[] = [
  { name: 'Last Seen' },
  { name: 'Type' },
  { name: 'Reason' },
  { name: 'Object' },
  { name: 'Subobject', priority: 1 },
  { name: 'Source', priority: 1 },
  { name: 'Message' },
  { name: 'First Seen', priority: 1 },
  { name: 'Count', priority: 1 },
  { name: 'Name', priority: 1, format: 'name' },
];

const coreEvent: BuiltinPrinter = { columns: eventColumns, cells: eventCells };

// The real server stores both versions as one type, so both print alike.
const eventsV1Event: BuiltinPrinter = {
  columns: eventColumns,
  cells: (o, now) =>
    eventCells(
      {
        ...o,
        involvedObject: obj(o.regarding),
        message: o.note ?? '',
        firstTimestamp: o.deprecatedFirstTimestamp ?? '',
        lastTimestamp: o.deprecatedLastTimestamp ?? '',
        count: o.deprecatedCount ?? 0,
        source: obj(o.deprecatedSource),
        reportingComponent: o.reportingController ?? '',
      },
      now,
    ),
};

function nodeStatus(o: JsonObject): string {
  const ready = arr(obj(o.status).conditions)
    .map(obj)
    .find((c) => c.type === 'Ready');
  const state = ready?.status === 'True' ? 'Ready' : ready === undefined ? 'Unknown' : 'NotReady';
  return obj(o.spec).unschedulable === true ? `${state},SchedulingDisabled` : state;
}

function nodeRoles(o: JsonObject): string {
  const roles = Object.keys(obj(obj(o.metadata).labels))
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter((r) => r !== '')
    .sort();
  return roles.length > 0 ? roles.join(',') : '<none>';
}

function nodeAddress(o: JsonObject, type: string): string {
  return (
    (arr(obj(o.status).addresses)
      .map(obj)
      .find((a) => a.type === type)?.address as string | undefined) ?? '<none>'
  );
}

const node: BuiltinPrinter = {
  columns: [
    { name: 'Name', format: 'name' },
    { name: 'Status' },
    { name: 'Roles' },
    { name: 'Age' },
    { name: 'Version' },
    { name: 'Internal-IP', priority: 1 },
    { name: 'External-IP', priority: 1 },
    { name: 'OS-Image', priority: 1 },
    { name: 'Kernel-Version', priority: 1 },
    { name: 'Container-Runtime', priority: 1 },
  ],
  cells(o, now) {
    const info = obj(obj(o.status).nodeInfo);
    const or = (v: Json | undefined) => str(v) || '<unknown>';
    return [
      name(o),
      nodeStatus(o),
      nodeRoles(o),
      age(o, now),
      str(info.kubeletVersion),
      nodeAddress(o, 'InternalIP'),
      nodeAddress(o, 'ExternalIP'),
      or(info.osImage),
      or(info.kernelVersion),
      or(info.containerRuntimeVersion),
    ];
  },
};

const namespace: BuiltinPrinter = {
  columns: [{ name: 'Name', format: 'name' }, { name: 'Status' }, { name: 'Age' }],
  cells: (o, now) => [name(o), str(obj(o.status).phase), age(o, now)],
};

const printers = new Map<string, BuiltinPrinter>([
  ['/services', service],
  ['coordination.k8s.io/leases', lease],
  ['/events', coreEvent],
  ['events.k8s.io/events', eventsV1Event],
  ['/nodes', node],
  ['/namespaces', namespace],
]);

/** The real server's printer for a built-in type, by ResourceType id; undefined: Name and Age. */
export function builtinPrinter(resourceId: string): BuiltinPrinter | undefined {
  return printers.get(resourceId);
}
