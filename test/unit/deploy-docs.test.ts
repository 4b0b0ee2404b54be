// The README and docs/ must keep up with the code: every metric, flag,
// annotation, refusal reason and CRD field the code defines is documented, and
// every local link resolves. Names are read from the code, not listed here.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createControllerMetrics, createSpeakerMetrics } from '../../src/metrics/metrics.js';
import * as annotations from '../../src/api/annotations.js';
import { repoRoot } from './deploy-manifests.js';

const read = (...parts: string[]) => readFileSync(path.join(repoRoot, ...parts), 'utf8');
const readme = read('README.md');
const reference = read('docs', 'configuration.md');
const operations = read('docs', 'operations.md');

/** `--flag` names in the string literals of a program's TypeScript sources. */
function programFlags(program: string): string[] {
  const dir = path.join(repoRoot, program);
  if (!existsSync(dir)) return [];
  const flags = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    const text = read(program, file);
    for (const literal of text.matchAll(/(['"`])((?:(?!\1)[^\\]|\\.)*)\1/gs)) {
      for (const m of literal[2].matchAll(/(?<![\w-])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)/g)) flags.add(`--${m[1]}`);
    }
  }
  return [...flags].sort();
}

/** Property names of a CRD's spec, recursively (selectors' own fields excluded). */
function crdSpecFields(file: string): string[] {
  const crd = parseAllDocuments(read('deploy', 'crds', file))[0].toJS() as {
    spec: { versions: Array<{ schema: { openAPIV3Schema: { properties: { spec: Schema } } } }> };
  };
  interface Schema { properties?: Record<string, Schema>; items?: Schema }
  const fields: string[] = [];
  const walk = (schema: Schema | undefined, depth: number) => {
    for (const [name, child] of Object.entries(schema?.properties ?? {})) {
      if (name === 'matchLabels' || name === 'matchExpressions') continue;
      fields.push(name);
      if (depth < 2) walk(child.items ?? child, depth + 1);
    }
  };
  walk(crd.spec.versions[0].schema.openAPIV3Schema.properties.spec, 0);
  return fields;
}

describe('README and docs/ against the code', () => {
  it('document every metric the programs export', async () => {
    const names = new Set<string>();
    for (const m of [createControllerMetrics(), createSpeakerMetrics()]) {
      for (const metric of await m.registry.getMetricsAsJSON()) if (metric.name.startsWith('ironlb_')) names.add(metric.name);
    }
    expect(names.size).toBeGreaterThan(10);
    for (const name of names) {
      expect(reference, `docs/configuration.md: ${name}`).toContain(`\`${name}\``);
      expect(readme, `README.md: ${name}`).toContain(`\`${name}\``);
    }
  });

  it('document every flag of both programs', () => {
    const controllerFlags = programFlags('controller');
    expect(controllerFlags).toContain('--leader-elect');
    for (const program of ['controller', 'speaker']) {
      for (const flag of programFlags(program)) {
        if (flag === '--help') continue;
        expect(reference, `docs/configuration.md documents ${program} ${flag}`).toMatch(new RegExp(`\`${flag}[ \`]`));
        expect(readme, `README.md names ${program} ${flag}`).toContain(flag);
      }
    }
  });

  it('document every Service annotation and both MetalLB prefixes', () => {
    const keys = (Object.values(annotations) as unknown[]).filter((v): v is string => typeof v === 'string' && /^ironlb\.io\/./.test(v));
    expect(keys.length).toBeGreaterThanOrEqual(4);
    for (const key of keys) {
      expect(reference, key).toContain(`\`${key}\``);
      expect(readme, key).toContain(`\`${key}\``);
    }
    for (const prefix of annotations.COMPAT_PREFIXES) expect(reference).toContain(`\`${prefix}\``);
  });

  it('document every allocation refusal reason (the Allocated condition reasons)', () => {
    const source = read('src', 'ipam', 'types.ts');
    const union = /export type RefusalReason =([^;]+);/.exec(source)?.[1] ?? '';
    const reasons = [...union.matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]);
    expect(reasons.length).toBeGreaterThan(5);
    for (const reason of reasons) expect(reference, reason).toContain(`\`${reason}\``);
  });

  it('document every field of both CRDs', () => {
    for (const file of ['ipaddresspools.ironlb.io.yaml', 'l2advertisements.ironlb.io.yaml']) {
      const fields = crdSpecFields(file);
      expect(fields.length).toBeGreaterThan(3);
      for (const field of fields) expect(reference, `${file}: ${field}`).toMatch(new RegExp(`\`[^\`]*\\b${field}\\b`));
    }
  });

  it('README opens with the two commands and keeps the six performance rows', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock).toContain('npm ci && npm run lab');
    expect(firstBlock).toContain('npm ci && npm test');
    const performance = readme.slice(readme.indexOf('## Performance'));
    for (const row of ['ipam', 'controller', 'election-load', 'failover', 'arp-latency', 'memory']) {
      expect(performance, row).toMatch(new RegExp(`^\\| ${row} \\|`, 'm'));
    }
  });

  it('every local link resolves and no machine path is named', () => {
    for (const [name, text, dir] of [['README.md', readme, ''], ['configuration.md', reference, 'docs'], ['operations.md', operations, 'docs']]) {
      for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(m[1])) continue;
        expect(existsSync(path.join(repoRoot, dir, m[1])), `${name} links ${m[1]}`).toBe(true);
      }
      expect(text, name).not.toMatch(/\/work\/|\/root\//);
    }
  });
});
