// The reference (docs/configuration.md, docs/bgp.md) must keep up with the
// programs: every metric they export, every flag their --help lists, every
// annotation and refusal reason they use, every CRD field kubectl renders.
// Names come from the running code, not from a list here or a reading of the
// sources. Every local link of the README and docs/ resolves.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createControllerMetrics, createSpeakerMetrics } from '../../src/metrics/metrics.js';
import * as annotations from '../../src/api/annotations.js';
import { REFUSAL_REASONS } from '../../src/ipam/types.js';
import { type KubeObject, renderKustomization, repoRoot } from './deploy-manifests.js';
import { PROGRAMS, helpFlags } from './deploy-programs.js';

const read = (...parts: string[]) => readFileSync(path.join(repoRoot, ...parts), 'utf8');
const reference = read('docs', 'configuration.md');
const bgp = read('docs', 'bgp.md');

interface Schema {
  properties?: Record<string, Schema>;
  items?: Schema;
}
interface CrdSpec {
  versions: Array<{ schema: { openAPIV3Schema: { properties: { spec: Schema } } } }>;
}

/** Property names of a CRD's spec, two levels deep (selectors' own fields excluded). */
function specFields(crd: KubeObject): string[] {
  const versions = (crd.spec as CrdSpec).versions;
  const fields: string[] = [];
  const walk = (schema: Schema | undefined, depth: number) => {
    for (const [name, child] of Object.entries(schema?.properties ?? {})) {
      if (name === 'matchLabels' || name === 'matchExpressions') continue;
      fields.push(name);
      if (depth < 2) walk(child.items ?? child, depth + 1);
    }
  };
  walk(versions[0]?.schema.openAPIV3Schema.properties.spec, 0);
  return fields;
}

describe('the reference against the code', () => {
  it('documents every metric the programs export', async () => {
    const names = new Set<string>();
    for (const m of [createControllerMetrics(), createSpeakerMetrics()]) {
      for (const metric of await m.registry.getMetricsAsJSON()) {
        if (metric.name.startsWith('ironlb_')) names.add(metric.name);
      }
    }
    expect(names.size).toBeGreaterThan(10);
    for (const name of names) expect(reference, `docs/configuration.md: ${name}`).toContain(`\`${name}\``);
  });

  it("documents every flag the programs' --help lists", () => {
    for (const program of PROGRAMS) {
      const flags = helpFlags(program).filter((f) => f !== '--help');
      expect(flags.length, program).toBeGreaterThan(5);
      for (const flag of flags) {
        expect(reference, `docs/configuration.md documents ${program} ${flag}`).toMatch(new RegExp(`\`${flag}[ \`]`));
      }
    }
  });

  it('documents every Service annotation and both MetalLB prefixes', () => {
    const keys = (Object.values(annotations) as unknown[]).filter(
      (v): v is string => typeof v === 'string' && /^ironlb\.io\/./.test(v),
    );
    expect(keys.length).toBeGreaterThanOrEqual(4);
    for (const key of keys) expect(reference, key).toContain(`\`${key}\``);
    for (const prefix of annotations.COMPAT_PREFIXES) expect(reference).toContain(`\`${prefix}\``);
  });

  it('documents every allocation refusal reason (the Allocated condition reasons)', () => {
    expect(REFUSAL_REASONS.length).toBeGreaterThan(5);
    for (const reason of REFUSAL_REASONS) expect(reference, reason).toContain(`\`${reason}\``);
  });

  it('documents every spec field of every CRD kubectl renders from deploy/crds', () => {
    const crds = renderKustomization('deploy/crds');
    expect(crds).toHaveLength(6);
    for (const crd of crds) {
      const fields = specFields(crd);
      expect(fields.length, crd.metadata.name).toBeGreaterThan(1);
      const l2 = /^(ipaddresspools|l2advertisements)\./.test(crd.metadata.name);
      const [doc, docName] = l2 ? [reference, 'docs/configuration.md'] : [bgp, 'docs/bgp.md'];
      for (const field of fields) {
        expect(doc, `${docName}: ${crd.metadata.name} ${field}`).toMatch(new RegExp(`\`[^\`]*\\b${field}\\b`));
      }
    }
  });

  it('every local link resolves and no machine path is named', () => {
    const docs = ['README.md', ...['configuration.md', 'operations.md', 'bgp.md'].map((f) => `docs/${f}`)];
    let links = 0;
    for (const name of docs) {
      const text = read(name);
      // Code (fenced or inline) is not prose: a regex there is not a link.
      const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`]*`/g, '');
      for (const m of prose.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(m[1] ?? '')) continue;
        links++;
        expect(existsSync(path.join(repoRoot, path.dirname(name), m[1] ?? '')), `${name} links ${m[1]}`).toBe(true);
      }
      expect(text, name).not.toMatch(/\/work\/|\/root\//);
    }
    expect(links).toBeGreaterThan(5);
  });
});
