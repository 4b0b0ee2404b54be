// The README's install with a pushed image: an overlay beside the checkout,
// rendered by the real `kubectl kustomize`, sets the image of every container.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { podTemplateOf, renderKustomization, repoRoot } from './deploy-manifests.js';

describe('setting the image with an overlay (README install)', () => {
  it('every container of the install runs the pushed image', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ironlb-overlay-'));
    try {
      const deploy = path.relative(dir, path.join(repoRoot, 'deploy'));
      writeFileSync(
        path.join(dir, 'kustomization.yaml'),
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          'resources:',
          `  - ${deploy}`,
          'images:',
          '  - name: ironlb',
          '    newName: registry.example.com/infra/ironlb',
          '    newTag: 0.1.0',
          '',
        ].join('\n'),
      );
      const images = renderKustomization(dir)
        .filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet')
        .flatMap((o) => podTemplateOf(o).spec.containers.map((c) => c.image));
      expect(images).toEqual(['registry.example.com/infra/ironlb:0.1.0', 'registry.example.com/infra/ironlb:0.1.0']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a kustomize error fails with kubectl's own message", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ironlb-overlay-'));
    try {
      writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources: [missing.yaml]\n');
      expect(() => renderKustomization(dir)).toThrow(/kubectl kustomize .* failed \(exit 1\): .*missing\.yaml/s);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
