// meta.k8s.io/v1 Table answers (what `kubectl get` asks for): Name, the CRD's
// additionalPrinterColumns, Age. Enough to see the printer columns work.
import { isObject, type Json, type JsonObject } from './patch.js';
import type { ResourceType } from './resources.js';
import { metadataOf } from './store.js';

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
  description?: string;
}

export function wantsTable(accept: string | undefined): boolean {
  return accept !== undefined && /as=Table/.test(accept);
}

/** JSONPath subset used by printer columns: `.a.b` and `.a[?(@.k=="v")].b`. */
export function evaluateJsonPath(object: Json, path: string): Json[] {
  let current: Json[] = [object];
  const steps = path.match(/\.[^.[]+|\[\?\(@\.[^)]*\)\]/g) ?? [];
  for (const step of steps) {
    const next: Json[] = [];
    const filter = /^\[\?\(@\.([\w-]+)\s*==\s*"([^"]*)"\)\]$/.exec(step);
    for (const value of current) {
      if (filter) {
        if (Array.isArray(value)) next.push(...value.filter((v) => isObject(v) && v[filter[1]] === filter[2]));
      } else if (isObject(value) && value[step.slice(1)] !== undefined) {
        next.push(value[step.slice(1)]);
      }
    }
    current = next;
  }
  return current;
}

function humanAge(timestamp: Json | undefined): string {
  if (typeof timestamp !== 'string') return '<unknown>';
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 2 * 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

function cell(values: Json[], type: string): Json {
  if (values.length === 0) return null;
  if (type === 'date') return humanAge(values[0]);
  const text = values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  if (values.length === 1 && (typeof values[0] === 'boolean' || typeof values[0] === 'number')) return values[0];
  return text.join(',');
}

export function toTable(resource: ResourceType, objects: JsonObject[], resourceVersion: string): JsonObject {
  const columns: PrinterColumn[] = resource.printerColumns ?? [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];
  const columnDefinitions: Json[] = [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
    ...columns.map((c) => ({ name: c.name, type: c.type, format: '', description: c.description ?? '', priority: c.priority ?? 0 })),
  ];
  const rows: Json[] = objects.map((object) => ({
    cells: [String(metadataOf(object).name), ...columns.map((c) => cell(evaluateJsonPath(object, c.jsonPath), c.type))],
    object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: metadataOf(object) },
  }));
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion }, columnDefinitions, rows };
}
