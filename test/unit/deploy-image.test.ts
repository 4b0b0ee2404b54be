// The image and the programs the manifests start: deploy/Dockerfile is read
// (there is no container engine here to build it), and every argument the
// manifests pass is checked against the programs' own flag parsing.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { startMetricsServer } from '../../src/metrics/server.js';
import { type Container, expandedArgs, findObject, podTemplateOf, renderKustomization, repoRoot } from './deploy-manifests.js';

const objects = renderKustomization('deploy');
const workloads = [
  { program: 'controller', container: podTemplateOf(findObject(objects, 'Deployment', 'ironlb-controller')).spec.containers[0] },
  { program: 'speaker', container: podTemplateOf(findObject(objects, 'DaemonSet', 'ironlb-speaker')).spec.containers[0] },
];

interface Instruction { keyword: string; args: string }

/** Dockerfile instructions, line continuations joined, comments dropped. */
function readDockerfile(file: string): Instruction[] {
  const joined = readFileSync(file, 'utf8').replace(/\\\n/g, ' ');
  return joined.split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const space = line.indexOf(' ');
      return { keyword: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
    });
}

const dockerfile = readDockerfile(path.join(repoRoot, 'deploy', 'Dockerfile'));
const stages = dockerfile.reduce<Instruction[][]>((acc, ins) => {
  if (ins.keyword === 'FROM') acc.push([]);
  acc[acc.length - 1]?.push(ins);
  return acc;
}, []);
const [buildStage, runtimeStage] = stages;
const runs = (stage: Instruction[]) => stage.filter((i) => i.keyword === 'RUN').map((i) => i.args).join(' && ');

/** Flag names a program's sources mention as string literals, e.g. '--node-name'. */
function flagLiterals(program: string): Set<string> {
  const dir = path.join(repoRoot, program);
  const sources = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(path.join(dir, f), 'utf8')) : [];
  const found = new Set<string>();
  for (const text of sources) {
    for (const m of text.matchAll(/['"`](--)?([a-z][a-z0-9]*(?:-[a-z0-9]+)*)['"`]/g)) found.add(`--${m[2]}`);
  }
  return found;
}

type FlagParser = (argv: readonly string[], env: Record<string, string>) => unknown;

/** The environment the manifest gives the container, downward-API fields filled as a kubelet would. */
function manifestEnv(container: Container): Record<string, string> {
  const fields: Record<string, string> = { 'spec.nodeName': 'node-a', 'metadata.namespace': 'ironlb-system', 'metadata.name': 'pod-a', 'status.hostIP': '192.0.2.11' };
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    const value = e.value ?? fields[e.valueFrom?.fieldRef?.fieldPath ?? ''];
    if (value === undefined) throw new Error(`env ${e.name}: no value and no known fieldRef`);
    env[e.name] = value;
  }
  return env;
}

/** The program's exported `parse...Flags(argv)` from `<program>/flags.ts`, when there is one. */
async function flagParser(program: string): Promise<FlagParser | undefined> {
  const file = path.join(repoRoot, program, 'flags.ts');
  if (!existsSync(file)) return undefined;
  const module = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Record<string, unknown>;
  const entry = Object.entries(module).find(([name, value]) => /^parse\w*Flags$/.test(name) && typeof value === 'function');
  return entry ? (entry[1] as FlagParser) : undefined;
}

describe('the programs the manifests start', () => {
  for (const { program, container } of workloads) {
    it(`${program}: runs dist/${program}/main.js, built from ${program}/main.ts`, () => {
      expect(container.image).toMatch(/^ironlb(:|$)/);
      expect(container.args?.[0]).toBe(`dist/${program}/main.js`);
      expect(existsSync(path.join(repoRoot, program, 'main.ts')), `${program}/main.ts exists`).toBe(true);
    });

    it(`${program}: every flag the manifest passes is one the program defines`, async () => {
      const args = expandedArgs(container as Container, 'ironlb-system', 'node-a').slice(1);
      const flags = args.map((a) => a.split('=')[0]);
      expect(flags.length).toBeGreaterThan(0);
      const known = flagLiterals(program);
      for (const flag of flags) expect(known.has(flag), `${program} defines ${flag}`).toBe(true);
      // Where the program has a pure parser, the exact argv must be accepted.
      const parse = await flagParser(program);
      if (parse) expect(() => parse(args, manifestEnv(container as Container))).not.toThrow();
    });
  }

  it('probes hit the paths src/metrics/server.ts serves, on the port passed as --metrics-port', async () => {
    let ready = true;
    const server = await startMetricsServer({ port: -1, host: '127.0.0.1', registry: new Registry(), healthy: () => true, ready: () => ready });
    if (!server) throw new Error('metrics server disabled');
    try {
      for (const { program, container } of workloads) {
        const port = container.ports?.find((p) => p.name === 'metrics')?.containerPort;
        expect(expandedArgs(container, 'ironlb-system', 'node-a'), program).toContain(`--metrics-port=${port}`);
        for (const probe of [container.livenessProbe, container.readinessProbe]) {
          expect(probe?.httpGet?.port, program).toBe('metrics');
          const answer = await fetch(`http://127.0.0.1:${server.port}${probe?.httpGet?.path ?? ''}`);
          expect(answer.status, `${program} ${probe?.httpGet?.path}`).toBe(200);
        }
        ready = false;
        expect((await fetch(`http://127.0.0.1:${server.port}${container.readinessProbe?.httpGet?.path ?? ''}`)).status).toBe(503);
        ready = true;
      }
    } finally {
      await server.close();
    }
  });

  it('the controller parser rejects what the manifest must not pass (the check can fail)', async () => {
    const parse = await flagParser('controller');
    expect(parse).toBeDefined();
    expect(() => parse?.(['--namespace=ironlb-system', '--no-such-flag=1'], {})).toThrow(/unknown flag/);
    expect(flagLiterals('controller').has('--no-such-flag')).toBe(false);
  });
});

describe('deploy/Dockerfile (read, not built: no container engine on this machine)', () => {
  it('has a build stage and a runtime stage, both node:20-bookworm-slim, fully qualified (podman refuses short names without a TTY)', () => {
    expect(stages).toHaveLength(2);
    expect(buildStage[0].args).toMatch(/^docker\.io\/library\/node:20-bookworm-slim AS build$/);
    expect(runtimeStage[0].args).toBe('docker.io/library/node:20-bookworm-slim');
  });

  it('uses no BuildKit-only syntax, so podman and buildah build it too', () => {
    const text = readFileSync(path.join(repoRoot, 'deploy', 'Dockerfile'), 'utf8');
    expect(text).not.toMatch(/^#\s*syntax=/im);
    expect(text).not.toMatch(/<<\s*-?\w+/); // heredocs
    for (const ins of dockerfile) {
      const flags = ins.args.match(/^(--[a-z-]+(=\S+)?\s+)*/)?.[0] ?? '';
      if (ins.keyword === 'RUN') expect(flags, `RUN ${ins.args}`).toBe('');
      if (ins.keyword === 'COPY' || ins.keyword === 'ADD') expect(flags.trim(), `${ins.keyword} ${ins.args}`).toMatch(/^(--from=build)?$/);
    }
  });

  it('builds the addon and TypeScript, then drops dev dependencies', () => {
    const commands = runs(buildStage);
    for (const tool of ['python3', 'make', 'g++']) expect(commands).toContain(tool);
    const order = ['npm ci', 'npm run build', 'npm prune --omit=dev'].map((c) => commands.indexOf(c));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('copies into the build only paths that exist in the repository', () => {
    for (const copy of buildStage.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) expect(existsSync(path.join(repoRoot, source)), `COPY ${source}`).toBe(true);
    }
  });

  it('copies what `npm ci` needs to build the addon before running it', () => {
    const npmCi = buildStage.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
    const copiedBefore = buildStage.slice(0, npmCi).filter((i) => i.keyword === 'COPY')
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    const installScripts = ['preinstall', 'install', 'postinstall'].map((s) => pkg.scripts?.[s] ?? '').join(' ');
    const needed = [...installScripts.split(/\s+/).filter((t) => t.includes('/')), 'binding.gyp', 'package-lock.json'];
    for (const file of needed) {
      expect(copiedBefore.some((src) => file === src || file.startsWith(`${src.replace(/\/$/, '')}/`)), `${file} copied before npm ci`).toBe(true);
    }
  });

  it('the runtime has production node_modules, dist, the .node addon and binding.gyp (the addon loader looks for it)', () => {
    const copies = runtimeStage.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies.every((c) => c.startsWith('--from=build '))).toBe(true);
    for (const wanted of ['/app/node_modules', '/app/dist', '/app/build/Release/*.node', '/app/binding.gyp', '/app/package.json']) {
      expect(copies.some((c) => c.split(/\s+/)[1] === wanted), wanted).toBe(true);
    }
    // Its only RUN installs FRR for BGP mode (deploy/bgp), nothing built there.
    expect(runs(runtimeStage)).toMatch(/^groupadd .*apt-get install -y --no-install-recommends frr frr-pythontools python3 /);
    const loader = readFileSync(path.join(repoRoot, 'src', 'native', 'addon.ts'), 'utf8');
    expect(loader).toContain("'binding.gyp'");
    expect(loader).toMatch(/'build',\s*'Release'/);
  });

  it('has one image with two entry points: ENTRYPOINT node, controller by default', () => {
    const last = (keyword: string) => runtimeStage.filter((i) => i.keyword === keyword).pop()?.args;
    expect(JSON.parse(last('ENTRYPOINT') ?? 'null')).toEqual(['node']);
    expect(JSON.parse(last('CMD') ?? 'null')).toEqual(['dist/controller/main.js']);
    const tsconfig = JSON.parse(readFileSync(path.join(repoRoot, 'tsconfig.json'), 'utf8')) as { compilerOptions: { outDir: string; rootDir: string } };
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
  });
});
