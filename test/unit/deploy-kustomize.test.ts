// The built-in renderer must agree with kubectl's kustomize on every
// kustomization in deploy/, so the deploy tests judge the same objects on a
// machine without kubectl. It also refuses what it does not implement.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubectlAvailable, kubectlKustomize, miniKustomize } from './deploy-kustomize.js';
import { type KubeObject, repoRoot } from './deploy-manifests.js';

const DIRS = ['deploy', 'deploy/crds', 'deploy/samples', 'deploy/prometheus'];
const canonical = (objects: KubeObject[]) => objects
  .map((o) => JSON.stringify(o, (_key, value: unknown) => (value && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)))
    : value)))
  .sort();

if (!kubectlAvailable) console.log('ironlb: kubectl not found, the comparison with kubectl kustomize is not run');

describe.runIf(kubectlAvailable)('built-in kustomize subset vs kubectl kustomize', () => {
  for (const dir of DIRS) {
    it(`renders ${dir} exactly as kubectl does`, () => {
      const full = path.join(repoRoot, dir);
      expect(canonical(miniKustomize(full))).toEqual(canonical(kubectlKustomize(full)));
    });
  }
});

describe('built-in kustomize subset', () => {
  it('applies namespace, labels and images, and leaves cluster-scoped objects without a namespace', () => {
    const objects = miniKustomize(path.join(repoRoot, 'deploy'));
    const speaker = objects.find((o) => o.kind === 'DaemonSet');
    expect(speaker?.metadata.namespace).toBe('ironlb-system');
    expect(speaker?.metadata.labels?.['app.kubernetes.io/part-of']).toBe('ironlb');
    expect((speaker?.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0].image).toBe('ironlb:0.1.0');
    expect(objects.find((o) => o.kind === 'ClusterRole')?.metadata.namespace).toBeUndefined();
  });

  it('refuses kustomize features it does not implement, a missing resource and a duplicate', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ironlb-kustomize-'));
    try {
      const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n';
      writeFileSync(path.join(dir, 'a.yaml'), cm);
      writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources: [a.yaml]\npatches: []\n');
      expect(() => miniKustomize(dir)).toThrow(/does not implement patches/);
      writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources: [missing.yaml]\n');
      expect(() => miniKustomize(dir)).toThrow(/missing.yaml does not exist/);
      writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources: [a.yaml, a.yaml]\n');
      expect(() => miniKustomize(dir)).toThrow(/defined twice/);
      writeFileSync(path.join(dir, 'kustomization.yaml'), 'labels:\n  - pairs: {a: b}\n    includeSelectors: true\n');
      expect(() => miniKustomize(dir)).toThrow(/includeSelectors/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('setting the image without the kustomize binary (README install)', () => {
  it('an overlay beside the checkout renders every container with the pushed image (kubectl kustomize, else the built-in subset)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ironlb-overlay-'));
    try {
      const deploy = path.relative(dir, path.join(repoRoot, 'deploy'));
      writeFileSync(path.join(dir, 'kustomization.yaml'), [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources:',
        `  - ${deploy}`,
        'images:',
        '  - name: ironlb',
        '    newName: registry.example.com/infra/ironlb',
        '    newTag: 0.1.0',
        '',
      ].join('\n'));
      const objects = kubectlAvailable ? kubectlKustomize(dir) : miniKustomize(dir);
      const images = objects.flatMap((o) => {
        const spec = (o as unknown as { spec?: { template?: { spec?: { containers?: { image: string }[] } } } }).spec;
        return spec?.template?.spec?.containers?.map((c) => c.image) ?? [];
      });
      expect(images).toEqual(['registry.example.com/infra/ironlb:0.1.0', 'registry.example.com/infra/ironlb:0.1.0']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
