// deploy/crds is generated from src/api/schema (`npm run crds`): the committed
// files must be exactly what the source renders, and a drift must be caught,
// by this test (part of `npm test`, so CI) and by `node deploy/crds.mjs --check`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { driftedFiles, renderCrdFiles } from '../../src/api/schema/crds.js';
import { renderKustomization } from './deploy-manifests.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const crdDir = join(root, 'deploy', 'crds');
const script = join(root, 'deploy', 'crds.mjs');

function readDir(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function renderedInto(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ironlb-crds-'));
  temps.push(dir);
  for (const [file, text] of renderCrdFiles()) writeFileSync(join(dir, file), text);
  return dir;
}

describe('deploy/crds', () => {
  it('is what src/api/schema renders (run `npm run crds` after changing the schema)', () => {
    expect(driftedFiles(renderCrdFiles(), readDir(crdDir))).toEqual([]);
  });

  it('kubectl kustomize deploy/crds renders every generated CRD', () => {
    const generated = [...renderCrdFiles().keys()]
      .filter((f) => f !== 'kustomization.yaml')
      .map((f) => f.replace(/\.yaml$/, ''));
    expect(generated).toHaveLength(6);
    const rendered = renderKustomization('deploy/crds').map((o) => `${o.kind}/${o.metadata.name}`);
    expect(rendered.sort()).toEqual(generated.map((name) => `CustomResourceDefinition/${name}`).sort());
  });

  it('names a changed, a missing and an extra file as drifted', () => {
    const dir = renderedInto();
    expect(driftedFiles(renderCrdFiles(), readDir(dir))).toEqual([]);
    const peers = join(dir, 'bgppeers.ironlb.io.yaml');
    writeFileSync(peers, readFileSync(peers, 'utf8').replace('maximum: 16384', 'maximum: 16385'));
    unlinkSync(join(dir, 'communities.ironlb.io.yaml'));
    writeFileSync(join(dir, 'stale.ironlb.io.yaml'), 'kind: CustomResourceDefinition\n');
    expect(driftedFiles(renderCrdFiles(), readDir(dir))).toEqual([
      'bgppeers.ironlb.io.yaml',
      'communities.ironlb.io.yaml',
      'stale.ironlb.io.yaml',
    ]);
  });
});

describe('node deploy/crds.mjs (the built generator, as `npm run crds` runs it)', () => {
  const built = join(root, 'dist', 'src', 'api', 'schema', 'crds.js');

  it('--check passes on a fresh rendering, fails naming a drifted file, and a write repairs it', () => {
    if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build first`);
    const dir = renderedInto();
    expect(execFileSync(process.execPath, [script, '--check', '--out', dir], { encoding: 'utf8' })).toContain(
      '7 files match',
    );

    const pools = join(dir, 'ipaddresspools.ironlb.io.yaml');
    writeFileSync(pools, readFileSync(pools, 'utf8').replace('default: true', 'default: false'));
    const drifted = spawnSync(process.execPath, [script, '--check', '--out', dir], { encoding: 'utf8' });
    expect(drifted.status).toBe(1);
    expect(drifted.stderr).toContain('differs from src/api/schema in: ipaddresspools.ironlb.io.yaml; run npm run crds');

    execFileSync(process.execPath, [script, '--out', dir], { encoding: 'utf8' });
    expect(readDir(dir)).toEqual(new Map(renderCrdFiles()));
  });

  it('refuses an unknown argument with its usage', () => {
    const result = spawnSync(process.execPath, [script, '--bogus'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('usage: node deploy/crds.mjs');
  });
});
