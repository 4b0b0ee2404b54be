// Unit tests of the double's pure parts: the CRDs' CEL rules, schema
// messages, selectors and patches.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { compileRule } from './cel.js';
import { findCrdDir } from './crd-dir.js';
import { jsonPatch, mergePatch, type Json, type JsonObject } from './patch.js';
import { loadCrdDir, resourceFromCrd } from './resources.js';
import { admitCustomResource, type Schema } from './schema.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError } from './status.js';
import { evaluateJsonPath, toTable, wantsTable } from './table.js';
import { builtinPrinter, humanDuration } from './printers.js';

/** Every x-kubernetes-validations rule text anywhere in the CRD YAML. */
function crdRules(): string[] {
  const rules: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'x-kubernetes-validations' && Array.isArray(value))
          rules.push(...value.map((v: { rule: string }) => v.rule));
        else walk(value);
      }
    }
  };
  const dir = findCrdDir();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) walk(doc.toJS());
  }
  return rules;
}

/** A CRD of one served version, example.org/v1 Thing, whose schema is `openAPIV3Schema`. */
function thingCrd(openAPIV3Schema: JsonObject) {
  return {
    spec: {
      group: 'example.org',
      scope: 'Namespaced',
      names: { plural: 'things', kind: 'Thing' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema } }],
    },
  };
}

describe('CEL rules of deploy/crds', () => {
  it('every rule compiles with the CEL evaluator', () => {
    const rules = crdRules();
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) expect(() => compileRule(rule), rule).not.toThrow();
  });

  it('a CRD with a rule that is not CEL is refused when loaded', () => {
    const crd = thingCrd({ type: 'object', 'x-kubernetes-validations': [{ rule: 'self.size() >' }] });
    expect(() => resourceFromCrd(crd)).toThrow(
      /x-kubernetes-validations: Invalid value: compilation failed: .*: self.size\(\) >$/,
    );
  });

  it.each([
    ['isIP(self)', /'isIP'/],
    ['ip(self).family() == 4', /'(ip|family)'/],
    ["cidr(self).containsIP('192.0.2.1')", /'(cidr|containsIP)'/],
    ["cel.bind(x, self, x == 'a')", /'bind'/],
  ])('refuses %s: not in the CEL of Kubernetes 1.29', (rule, name) => {
    expect(() => compileRule(rule)).toThrow(/^undeclared reference to '\w+' \(not in the CEL of Kubernetes 1\.29\)$/);
    expect(() => compileRule(rule)).toThrow(name);
  });

  it('a CRD with a pattern RE2 cannot compile (a JavaScript lookahead) is refused when loaded', () => {
    const crd = thingCrd({ type: 'object', properties: { a: { type: 'string', pattern: '^(?!x)' } } });
    expect(() => resourceFromCrd(crd)).toThrow(
      /\.a\.pattern: Invalid value: "\^\(\?!x\)": must be a valid regular expression, but isn't/,
    );
  });

  it('a CRD whose rule reports at a fieldPath the schema does not have is refused when loaded', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'string' } },
      'x-kubernetes-validations': [{ rule: 'true', fieldPath: '.b' }],
    };
    const crd = thingCrd(schema);
    expect(() => resourceFromCrd(crd)).toThrow(/fieldPath must be a valid path/);
    schema['x-kubernetes-validations'][0].fieldPath = '.a';
    expect(() => resourceFromCrd(crd)).not.toThrow();
  });

  it('reports a failed rule at its fieldPath, and an evaluation error with the rule', () => {
    const schema: Schema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: { a: { type: 'integer' }, b: { type: 'integer' } },
          'x-kubernetes-validations': [
            { rule: 'self.a < self.b', message: 'spec.a: must be below spec.b', fieldPath: '.a' },
          ],
        },
      },
    };
    const admitSpec = (spec: JsonObject) =>
      admitCustomResource({ metadata: { name: 'x' }, spec }, schema).map((e) => [e.field, e.text]);
    expect(admitSpec({ a: 1, b: 2 })).toEqual([]);
    expect(admitSpec({ a: 2, b: 1 })).toEqual([
      ['spec.a', 'spec.a: Invalid value: "object": spec.a: must be below spec.b'],
    ]);
    // cel-go says "no such key: b", @bufbuild/cel "field not found: b".
    const [[field, text]] = admitSpec({ a: 2 });
    expect(field).toBe('spec');
    expect(text).toMatch(/^spec: Invalid value: "object": .*\bb evaluating rule: self\.a < self\.b$/);
  });

  it('checks format: duration as Go durations', () => {
    const schema: Schema = {
      type: 'object',
      properties: { spec: { type: 'object', properties: { t: { type: 'string', format: 'duration' } } } },
    };
    const admitT = (t: string) =>
      admitCustomResource({ metadata: { name: 'x' }, spec: { t } }, schema).map((e) => e.text);
    for (const good of ['90s', '1m30s', '-1.5h', '0', '300ms']) expect(admitT(good), good).toEqual([]);
    expect(admitT('soon')).toEqual(['spec.t: Invalid value: "soon": spec.t in body must be of type duration: "soon"']);
    expect(admitT('5')).toHaveLength(1);
  });

  it('runs a transition rule on updates only, against the correlated old value', () => {
    const schema: Schema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            fixed: {
              type: 'boolean',
              'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'spec.fixed: cannot be changed' }],
            },
          },
        },
      },
    };
    const object = (fixed: boolean): JsonObject => ({ metadata: { name: 'x' }, spec: { fixed } });
    expect(admitCustomResource(object(true), schema)).toEqual([]);
    expect(admitCustomResource(object(true), schema, object(true))).toEqual([]);
    expect(admitCustomResource(object(false), schema, object(true)).map((e) => e.field)).toEqual(['spec.fixed']);
    expect(admitCustomResource(object(false), schema, { metadata: { name: 'x' }, spec: {} })).toEqual([]);
  });

  const poolSchema = loadCrdDir(findCrdDir()).find((r) => r.plural === 'ipaddresspools')?.schema as Schema;
  const admit = (addresses: Json[]) =>
    admitCustomResource(
      { apiVersion: 'ironlb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'p' }, spec: { addresses } },
      poolSchema,
    ).map((e) => e.text);

  it.each([
    ['192.0.2.1-192.0.2.1'],
    ['192.0.2.1-192.0.2.2'],
    ['10.0.0.255-10.0.1.0'],
    ['2001:db8::1-2001:db8::2'],
    ['192.0.2.0/24'],
    ['::/0'],
  ])('accepts %s', (address) => {
    expect(admit([address])).toEqual([]);
  });

  it('names a mixed-family range and a reversed IPv4 range with the rule messages', () => {
    expect(admit(['2001:db8::1-192.0.2.1'])).toEqual([
      `spec.addresses[0]: Invalid value: "string": ` +
        `spec.addresses: a range's start and end must be of the same IP family`,
    ]);
    // Ordering is numeric, not textual: .9 < .10.
    expect(admit(['192.0.2.10-192.0.2.9'])).toEqual([
      `spec.addresses[0]: Invalid value: "string": spec.addresses: a range's start must not be above its end`,
    ]);
    expect(admit(['192.0.2.9-192.0.2.10'])).toEqual([]);
  });

  it('takes spaces around the dash of a range, as MetalLB, and still orders and matches families', () => {
    expect(admit(['192.0.2.9 - 192.0.2.10', '2001:db8::1 - 2001:db8::2'])).toEqual([]);
    expect(admit(['192.0.2.10 - 192.0.2.9'])).toEqual([
      `spec.addresses[0]: Invalid value: "string": spec.addresses: a range's start must not be above its end`,
    ]);
    expect(admit(['2001:db8::1 - 192.0.2.1'])).toEqual([
      `spec.addresses[0]: Invalid value: "string": ` +
        `spec.addresses: a range's start and end must be of the same IP family`,
    ]);
  });

  it('skips the CEL rules after a blocking schema error (type, required, enum, size), and says so', () => {
    const errors = admit([7, '192.0.2.10-192.0.2.9']);
    expect(errors[0]).toMatch(
      /^spec\.addresses\[0\]: Invalid value: "integer": spec\.addresses\[0\] in body must be of type string/,
    );
    expect(errors[1]).toContain('some validation rules were not checked');
    expect(errors).toHaveLength(2);
  });

  it('still runs the CEL rules after a pattern failure, as kube-apiserver (strategy.go hasBlockingErr)', () => {
    const errors = admit(['nonsense', '192.0.2.10-192.0.2.9']);
    expect(errors[0]).toMatch(
      /^spec\.addresses\[0\]: Invalid value: "nonsense": spec\.addresses\[0\] in body should match/,
    );
    expect(errors[1]).toBe(
      `spec.addresses[1]: Invalid value: "string": spec.addresses: a range's start must not be above its end`,
    );
    expect(errors).toHaveLength(2);
  });
});

describe('label selectors', () => {
  it('parses each operator and matches like the apiserver', () => {
    const labels = { app: 'web', tier: 'front' };
    expect(matchesLabels(parseLabelSelector('app=web'), labels)).toBe(true);
    expect(matchesLabels(parseLabelSelector('app==web,tier!=back'), labels)).toBe(true);
    expect(matchesLabels(parseLabelSelector('app in (db, cache)'), labels)).toBe(false);
    expect(matchesLabels(parseLabelSelector('app notin (db)'), labels)).toBe(true);
    expect(matchesLabels(parseLabelSelector('missing notin (db)'), labels)).toBe(true);
    expect(matchesLabels(parseLabelSelector('tier'), labels)).toBe(true);
    expect(matchesLabels(parseLabelSelector('!tier'), labels)).toBe(false);
    expect(matchesLabels(parseLabelSelector(''), undefined)).toBe(true);
  });

  it.each([['app in web'], ['=web'], ['app=web value'], ['bad key!=x']])('refuses %j with a 400', (text) => {
    expect(() => parseLabelSelector(text)).toThrow(ApiError);
    try {
      parseLabelSelector(text);
    } catch (error) {
      expect((error as ApiError).code).toBe(400);
      expect((error as ApiError).message).toContain('unable to parse requirement');
    }
  });
});

describe('field selectors', () => {
  const service = { metadata: { name: 'web', namespace: 'a' }, spec: { type: 'LoadBalancer' } };
  it('matches =, == and != on supported fields; missing fields read as empty', () => {
    const fields = ['metadata.name', 'metadata.namespace', 'spec.type', 'spec.nodeName'];
    expect(matchesFields(parseFieldSelector('metadata.name=web,spec.type==LoadBalancer', fields), service)).toBe(true);
    expect(matchesFields(parseFieldSelector('metadata.namespace!=a', fields), service)).toBe(false);
    expect(matchesFields(parseFieldSelector('spec.nodeName=', fields), service)).toBe(true);
  });

  it('refuses unsupported fields and unparsable text with a 400', () => {
    expect(() => parseFieldSelector('spec.other=x', ['metadata.name'])).toThrow(
      'field label not supported: spec.other',
    );
    expect(() => parseFieldSelector('metadata.name', ['metadata.name'])).toThrow(/invalid selector/);
  });
});

describe('patches', () => {
  it('merge patch replaces, deletes with null and recurses into objects only', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] })).toEqual({
      a: { c: 2, d: 3 },
      l: [3],
    });
  });

  it('JSON patch applies add/remove/replace/move/copy/test and escapes ~0 ~1', () => {
    const doc = { metadata: { annotations: { 'ironlb.io/x': '1' } }, list: [1, 2] };
    const out = jsonPatch(doc, [
      { op: 'add', path: '/list/-', value: 3 },
      { op: 'remove', path: '/list/0' },
      { op: 'replace', path: '/metadata/annotations/ironlb.io~1x', value: '2' },
      { op: 'copy', from: '/list', path: '/copied' },
      { op: 'move', from: '/copied', path: '/moved' },
      { op: 'test', path: '/moved/1', value: 3 },
    ]);
    expect(out).toEqual({ metadata: { annotations: { 'ironlb.io/x': '2' } }, list: [2, 3], moved: [2, 3] });
    expect(doc.list).toEqual([1, 2]);
  });

  it.each([
    ['a failed test', [{ op: 'test', path: '/a', value: 2 }], 422],
    ['a missing path', [{ op: 'replace', path: '/nope', value: 1 }], 422],
    ['an index out of range', [{ op: 'remove', path: '/list/5' }], 422],
    ['an unknown op', [{ op: 'frobnicate', path: '/a' }], 400],
    ['a body that is not a list', { op: 'add' }, 400],
  ])('JSON patch refuses %s', (_what, patch, code) => {
    try {
      jsonPatch({ a: 1, list: [] }, patch as Json);
      expect.unreachable('the patch should fail');
    } catch (error) {
      expect((error as ApiError).code).toBe(code);
    }
  });
});

describe('Table answers for kubectl get', () => {
  const poolType = loadCrdDir(findCrdDir()).find((r) => r.plural === 'ipaddresspools');
  const object = {
    metadata: {
      name: 'p1',
      namespace: 'ironlb-system',
      creationTimestamp: new Date(Date.now() - 3 * 3600 * 1000).toISOString(),
    },
    spec: { addresses: ['192.0.2.0/28'], autoAssign: true },
    status: {
      assignedIPv4: '2',
      availableIPv4: '14',
      conditions: [
        { type: 'Conflict', status: 'False' },
        { type: 'Valid', status: 'True' },
      ],
    },
  };

  it('evaluates the JSONPath forms printer columns use', () => {
    expect(evaluateJsonPath(object, '.status.conditions[?(@.type=="Valid")].status')).toEqual(['True']);
    expect(evaluateJsonPath(object, '.spec.autoAssign')).toEqual([true]);
    expect(evaluateJsonPath(object, '.status.assignedIPv6')).toEqual([]);
  });

  it('fills every printer column of IPAddressPool', () => {
    expect(wantsTable('application/json;as=Table;v=v1;g=meta.k8s.io,application/json')).toBe(true);
    expect(wantsTable('application/json')).toBe(false);
    const table = toTable(poolType as NonNullable<typeof poolType>, [object], '5');
    const names = (table.columnDefinitions as Array<{ name: string }>).map((c) => c.name);
    expect(names).toEqual([
      'Name',
      'Auto Assign',
      'Addresses',
      'Assigned v4',
      'Assigned v6',
      'Available v4',
      'Available v6',
      'Valid',
      'Age',
    ]);
    expect((table.rows as Array<{ cells: Json[] }>)[0].cells).toEqual([
      'p1',
      true,
      '["192.0.2.0/28"]',
      '2',
      null,
      '14',
      null,
      'True',
      '3h',
    ]);
  });
});

describe('built-in Table printers', () => {
  it('ages like apimachinery HumanDuration', () => {
    const s = 1000;
    expect(
      [0, 119, 120, 150, 600, 10_799, 10_800, 12_600, 28_800, 172_800, 183_600, 691_200].map((n) =>
        humanDuration(n * s),
      ),
    ).toEqual(['0s', '119s', '2m', '2m30s', '10m', '179m', '3h', '3h30m', '8h', '2d', '2d3h', '8d']);
    expect(humanDuration(-1500)).toBe('0s');
    expect(humanDuration(-5000)).toBe('<invalid>');
  });

  it('prints events.k8s.io/v1 events with the core columns, from regarding/note', () => {
    const printer = builtinPrinter('events.k8s.io/events');
    const now = Date.parse('2026-01-01T00:01:00Z');
    const cells = printer?.cells(
      {
        metadata: { name: 'e1' },
        type: 'Warning',
        reason: 'IPConflict',
        note: ' 192.0.2.10 answered by 02:00:00:00:00:01 ',
        regarding: { kind: 'Service', name: 'web' },
        eventTime: '2026-01-01T00:00:00.000000Z',
        reportingController: 'ironlb-speaker',
        reportingInstance: 'node-a',
      },
      now,
    );
    expect(cells).toEqual([
      '60s',
      'Warning',
      'IPConflict',
      'service/web',
      '',
      'ironlb-speaker, node-a',
      '192.0.2.10 answered by 02:00:00:00:00:01',
      '60s',
      1,
      'e1',
    ]);
  });

  it('has the real Service columns and none for custom resources (they use their printer columns)', () => {
    expect(builtinPrinter('/services')?.columns.map((c) => c.name)).toEqual([
      'Name',
      'Type',
      'Cluster-IP',
      'External-IP',
      'Port(s)',
      'Age',
      'Selector',
    ]);
    expect(builtinPrinter('ironlb.io/ipaddresspools')).toBeUndefined();
  });
});
