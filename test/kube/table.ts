// meta.k8s.io/v1 Table answers (what `kubectl get` asks for): the built-in
// types' own columns (printers.ts), a CRD's additionalPrinterColumns, or Name
// and Age for anything else.
import { isObject, type Json, type JsonObject } from './patch.js';
import type { ResourceType } from './resources.js';
import { metadataOf } from './store.js';
import { builtinPrinter, since } from './printers.js';

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

/** A CRD printer column's cell, as the real convertor: the first match only, typed by the column. */
function cell(values: Json[], type: string, now: number): Json {
  const value = values[0];
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      return typeof value === 'string' ? since(value, now) : null;
    default:
      // string columns print any value the way kubectl's JSONPath does: lists and maps as JSON.
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

export function toTable(
  resource: ResourceType,
  objects: JsonObject[],
  resourceVersion: string,
  now = Date.now(),
): JsonObject {
  const row = (object: JsonObject, cells: Json[]): Json => ({
    cells,
    object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: metadataOf(object) },
  });
  // Custom resources carry a schema; built-ins do not.
  const builtin = resource.schema === undefined ? builtinPrinter(resource.id) : undefined;
  if (builtin) {
    const columnDefinitions: Json[] = builtin.columns.map((c) => ({
      name: c.name,
      type: 'string',
      format: c.format ?? '',
      description: '',
      priority: c.priority ?? 0,
    }));
    return {
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { resourceVersion },
      columnDefinitions,
      rows: objects.map((o) => row(o, builtin.cells(o, now))),
    };
  }
  const columns: PrinterColumn[] = resource.printerColumns ?? [
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ];
  const columnDefinitions: Json[] = [
    {
      name: 'Name',
      type: 'string',
      format: 'name',
      description: 'Name must be unique within a namespace.',
      priority: 0,
    },
    ...columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: '',
      description: c.description ?? '',
      priority: c.priority ?? 0,
    })),
  ];
  const rows: Json[] = objects.map((object) =>
    row(object, [
      String(metadataOf(object).name),
      ...columns.map((c) => cell(evaluateJsonPath(object, c.jsonPath), c.type, now)),
    ]),
  );
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion }, columnDefinitions, rows };
}
