// deploy/crds must be accepted by a real kube-apiserver >= 1.29: structural
// schemas, defaults that validate, list-map keys required, printer columns
// that point at schema fields, and CEL rules that use only 1.29 functions and
// stay within the cost budget (every string/list under a rule is bounded).
import { describe, expect, it } from 'vitest';
import { compileRule } from './cel.js';
import { findCrdDir } from './crd-dir.js';
import type { Json } from './patch.js';
import { readCrdDocs } from './resources.js';
import { validateSchema, type Schema } from './schema.js';

interface Version {
  name: string;
  schema: { openAPIV3Schema: Schema };
  additionalPrinterColumns?: Array<{ name: string; type: string; jsonPath: string }>;
}

const crds = readCrdDocs(findCrdDir()).map((doc) => ({
  name: String((doc.metadata as { name: string }).name),
  versions: (doc.spec as unknown as { versions: Version[] }).versions,
}));

/** Every schema node with its path. */
function nodes(schema: Schema, path = ''): Array<[string, Schema]> {
  const out: Array<[string, Schema]> = [[path, schema]];
  for (const [key, child] of Object.entries(schema.properties ?? {})) out.push(...nodes(child, `${path}.${key}`));
  if (schema.items) out.push(...nodes(schema.items, `${path}[*]`));
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object')
    out.push(...nodes(schema.additionalProperties, `${path}{*}`));
  return out;
}

describe.each(crds)('CRD $name', ({ versions }) => {
  const version = versions[0];
  const root = version.schema.openAPIV3Schema;

  it('is structural: every node has a type, properties and additionalProperties never together', () => {
    for (const [path, node] of nodes(root)) {
      const exempt =
        node['x-kubernetes-int-or-string'] === true || node['x-kubernetes-preserve-unknown-fields'] === true;
      if (!exempt) expect(node.type, `type missing at ${path || '<root>'}`).toBeDefined();
      expect(
        node.properties !== undefined && node.additionalProperties !== undefined,
        `properties with additionalProperties at ${path}`,
      ).toBe(false);
    }
  });

  it('restricts nothing in metadata but what the apiserver allows', () => {
    expect(root.properties?.metadata).toEqual({ type: 'object' });
  });

  it('has defaults that validate against their own schema', () => {
    for (const [path, node] of nodes(root)) {
      if (node.default === undefined) continue;
      const errors: Array<{ text: string }> = [];
      validateSchema(node.default, node, path, errors as never);
      expect(errors, `default at ${path}`).toEqual([]);
    }
  });

  it('keys list-type=map lists by required fields', () => {
    for (const [path, node] of nodes(root)) {
      const raw = node as Schema & { 'x-kubernetes-list-type'?: string; 'x-kubernetes-list-map-keys'?: string[] };
      if (raw['x-kubernetes-list-type'] !== 'map') continue;
      for (const key of raw['x-kubernetes-list-map-keys'] ?? []) {
        expect(node.items?.required ?? [], `map key ${key} at ${path}`).toContain(key);
      }
    }
  });

  it('uses only CEL functions of Kubernetes 1.29, on bounded values', () => {
    for (const [path, node] of nodes(root)) {
      for (const { rule, message } of node['x-kubernetes-validations'] ?? []) {
        // compileRule refuses a function that is not in 1.29's CEL (KUBE_1_29_FUNCTIONS).
        expect(() => compileRule(rule), `rule at ${path}`).not.toThrow();
        if (node.type === 'string') expect(node.maxLength, `unbounded string under a rule at ${path}`).toBeDefined();
        const parentList = nodes(root).find(([p]) => p === path.replace(/\[\*\]$/, ''))?.[1];
        if (path.endsWith('[*]')) expect(parentList?.maxItems, `unbounded list under a rule at ${path}`).toBeDefined();
        expect(message, `rule at ${path} needs a message naming the field`).toMatch(/^spec\.|^status\./);
      }
    }
  });

  it('has printer columns that point at fields of the schema', () => {
    const known = new Set(nodes(root).map(([path]) => path));
    for (const column of version.additionalPrinterColumns ?? []) {
      const path = column.jsonPath.replace(/\[\?\(.*\)\]\..*$/, '');
      if (path === '.metadata.creationTimestamp') continue;
      expect(known.has(path), `printer column ${column.name} -> ${column.jsonPath}`).toBe(true);
    }
  });
});

describe('the IPAddressPool address pattern', () => {
  const pool = crds.find((c) => c.name === 'ipaddresspools.ironlb.io') as (typeof crds)[number];
  const items = pool.versions[0].schema.openAPIV3Schema.properties?.spec?.properties?.addresses?.items as Schema;
  const accepts = (value: string): boolean => {
    const errors: never[] = [];
    validateSchema(value as Json, { type: 'string', pattern: items.pattern }, 'x', errors);
    return errors.length === 0;
  };

  it.each([
    '192.0.2.0/24',
    '192.0.2.7',
    '0.0.0.0/0',
    '2001:db8::/64',
    '2001:db8::1',
    '::',
    '::1/128',
    '1:2:3:4:5:6:7:8',
    'fe80::1-fe80::9',
    '192.0.2.1-192.0.2.2',
    '192.0.2.1 - 192.0.2.2',
    'fe80::1 -fe80::9',
    '192.0.2.100/24',
  ])('accepts %s', (value) => expect(accepts(value)).toBe(true));

  it.each([
    '',
    '192.0.2.0/33',
    '256.0.0.1',
    '192.0.2',
    '192.0.2.1/',
    '2001:db8::/129',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    'gggg::1',
    ' 192.0.2.1',
    '192.0.2.1 -',
    '192.0.2.1\t-192.0.2.2',
    'fe80::1%eth0',
  ])('refuses %j', (value) => expect(accepts(value)).toBe(false));
});
