// The image deploy/Dockerfile describes, judged by what it runs: its runtime
// stage is assembled into a folder (deploy-image.ts; no container engine runs
// here) and the image's own command starts the controller, the speaker's
// manifest args start the speaker, and the AF_PACKET addon loads, all with
// nothing but what the runtime stage copies.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findObject, podTemplateOf, renderKustomization, repoRoot } from './deploy-manifests.js';
import { readInstructions, stageImage, type StagedImage } from './deploy-image.js';
import { builtEntry, runNode } from './deploy-programs.js';

const staged: StagedImage[] = [];
afterAll(() => {
  for (const image of staged.splice(0)) rmSync(image.root, { recursive: true, force: true });
});

function stage(options: { drop?: string } = {}): StagedImage {
  builtEntry('controller');
  builtEntry('speaker');
  const image = stageImage(options);
  staged.push(image);
  return image;
}

/** Runs the image: ENTRYPOINT then `command` (CMD when none), in WORKDIR with the image's ENV. */
function run(image: StagedImage, command: readonly string[] = image.cmd, extra: readonly string[] = []) {
  const [program, ...args] = [...image.entrypoint, ...command, ...extra];
  expect(program).toBe('node'); // the one interpreter this machine has to stand for the image's
  return runNode(args, image.env, image.workdir);
}

describe('deploy/Dockerfile, its runtime stage assembled without an engine', () => {
  let image: StagedImage;
  beforeAll(() => {
    image = stage();
  });

  it('runs the controller by default', () => {
    const r = run(image, image.cmd, ['--help']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: node dist\/controller\/main\.js/);
  });

  it("runs the speaker with the DaemonSet's args in place of CMD", () => {
    const daemonSet = findObject(renderKustomization('deploy'), 'DaemonSet', 'ironlb-speaker');
    const speaker = podTemplateOf(daemonSet).spec.containers[0];
    const r = run(image, [speaker.args?.[0] ?? ''], ['--help']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: node dist\/speaker\/main\.js/);
  });

  it("loads the AF_PACKET addon from the image's own files and lists the interfaces", () => {
    const probe =
      'const m = await import("./dist/src/native/addon.js");' +
      'console.log(m.loadPacketAddon().listInterfaces().some((i) => i.name === "lo"));';
    const r = runNode(['--input-type=module', '-e', probe], image.env, image.workdir);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('true');
  });

  it("installs FRR for BGP mode from packages Debian has (apt-cache knows each, as the image's base does)", () => {
    expect(image.packages).toEqual(expect.arrayContaining(['frr', 'frr-pythontools', 'python3']));
    for (const pkg of image.packages) {
      const r = spawnSync('apt-cache', ['show', '--no-all-versions', pkg], { encoding: 'utf8' });
      expect(r.status, `apt-cache show ${pkg}: ${r.stderr}`).toBe(0);
    }
  });

  it('runs as a non-root numeric user, so runAsNonRoot pods start without a runAsUser', () => {
    expect(image.user).toMatch(/^[1-9]\d*(:\d+)?$/);
  });

  it('the checks can fail: without the node_modules COPY the controller does not start', () => {
    const broken = stage({ drop: './node_modules' });
    const r = run(broken, broken.cmd, ['--help']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ERR_MODULE_NOT_FOUND');
  });
});

describe('the stager refuses what docker build would refuse, and what it does not implement', () => {
  const dockerfile = (text: string) => stageFrom(text);

  it('a COPY source missing from the context, or excluded by the ignore file', () => {
    const build = 'FROM x AS build\nWORKDIR /app\n';
    expect(() => dockerfile(`${build}COPY no-such-file ./\n`)).toThrow(
      /line 3: COPY source no-such-file does not exist/,
    );
    expect(() => dockerfile(`${build}COPY docs ./docs\n`)).toThrow(
      /line 3: COPY docs is excluded by the ignore file \(docs\)/,
    );
  });

  it('an instruction or form it does not know', () => {
    expect(() => dockerfile('FROM x AS build\nADD a.tgz /\n')).toThrow(/line 2: ADD is not supported/);
    expect(() => dockerfile('FROM x\nCMD node dist/controller/main.js\n')).toThrow(/line 2: CMD in shell form/);
    expect(() => dockerfile('FROM x\nRUN true\n')).toThrow(/line 2: RUN true in the runtime stage/);
    expect(() => dockerfile('FROM x\nRUN apt-get update && make\n')).toThrow(/line 2: RUN make in the runtime stage/);
    expect(() => dockerfile('FROM x AS build\nCOPY --chmod=755 package.json ./\n')).toThrow(/COPY --chmod/);
  });

  it('reads continuation lines as one instruction', () => {
    expect(readInstructions('# c\nRUN a \\\n && b\n\nCMD ["x"]\n')).toEqual([
      { keyword: 'RUN', args: 'a   && b', line: 2 },
      { keyword: 'CMD', args: '["x"]', line: 5 },
    ]);
  });
});

/** Stages a Dockerfile text with deploy/Dockerfile's ignore file (the same context rules). */
function stageFrom(text: string): StagedImage {
  const dir = mkdtempSync(path.join(tmpdir(), 'ironlb-dockerfile-'));
  try {
    writeFileSync(path.join(dir, 'Dockerfile'), text);
    const image = stageImage({
      dockerfile: path.join(dir, 'Dockerfile'),
      ignoreFile: path.join(repoRoot, 'deploy', 'Dockerfile.dockerignore'),
    });
    staged.push(image);
    return image;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
