// `npm run image` (deploy/image.mjs) with fake engines on a PATH of our own:
// which engine it picks, the exact commands it runs, and the message when
// none is usable. No image is built here (no container engine runs on this machine).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from './deploy-manifests.js';

const script = path.join(repoRoot, 'deploy', 'image.mjs');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A PATH holding fake engines: each logs its argv to <name>.log and exits with the given code for `version`. */
function fakePath(engines: Record<string, { versionExit: number }>): {
  dir: string;
  calls: (name: string) => string[];
} {
  const dir = mkdtempSync(path.join(tmpdir(), 'ironlb-image-test-'));
  dirs.push(dir);
  for (const [name, { versionExit }] of Object.entries(engines)) {
    const file = path.join(dir, name);
    writeFileSync(
      file,
      `#!/bin/sh\necho "$*" >> "${dir}/${name}.log"\n[ "$1" = version ] && exit ${versionExit}\nexit 0\n`,
    );
    chmodSync(file, 0o755);
  }
  const calls = (name: string) =>
    existsSync(path.join(dir, `${name}.log`))
      ? readFileSync(path.join(dir, `${name}.log`), 'utf8')
          .trim()
          .split('\n')
      : [];
  return { dir, calls };
}

function image(dir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [script, ...args], { env: { PATH: dir }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run image', () => {
  it('says that no engine is usable, naming each one it looked for', () => {
    const { dir } = fakePath({});
    expect(image(dir)).toMatchObject({
      code: 1,
      stderr:
        'no usable container engine: docker: not on PATH; podman: not on PATH; buildah: not on PATH. ' +
        'Install one of docker (with its daemon), podman or buildah.\n',
    });
  });

  it("skips a docker CLI whose daemon does not answer, builds with podman with the Dockerfile's ignore file", () => {
    const { dir, calls } = fakePath({ docker: { versionExit: 1 }, podman: { versionExit: 0 } });
    const r = image(dir);
    expect(r.code).toBe(0);
    expect(calls('docker')).toEqual(['version --format {{.Server.Version}}']);
    const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string })
      .version;
    expect(calls('podman')).toEqual([
      `build --ignorefile deploy/Dockerfile.dockerignore -f deploy/Dockerfile -t ironlb:${version} .`,
    ]);
  });

  it('uses docker when its daemon answers; --engine and --push pick buildah and push the tag', () => {
    const both = fakePath({ docker: { versionExit: 0 }, buildah: { versionExit: 0 } });
    expect(image(both.dir, '--tag', 'registry.example/ironlb:1').code).toBe(0);
    expect(both.calls('docker')).toEqual([
      'version --format {{.Server.Version}}',
      'build -f deploy/Dockerfile -t registry.example/ironlb:1 .',
    ]);
    expect(image(both.dir, '--engine=buildah', '--tag', 'registry.example/ironlb:1', '--push').code).toBe(0);
    expect(both.calls('buildah')).toEqual([
      'build --ignorefile deploy/Dockerfile.dockerignore -f deploy/Dockerfile -t registry.example/ironlb:1 .',
      'push registry.example/ironlb:1',
    ]);
  });

  it('refuses an unknown engine or argument', () => {
    const { dir } = fakePath({ podman: { versionExit: 0 } });
    expect(image(dir, '--engine', 'kaniko')).toMatchObject({
      code: 1,
      stderr: '--engine: "kaniko" is not one of docker, podman, buildah\n',
    });
    expect(image(dir, '--fast')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown argument "--fast"'),
    });
  });
});
