#!/usr/bin/env node
// `npm run image [-- --tag REF] [--engine docker|podman|buildah] [--push]`:
// builds deploy/Dockerfile with whichever container engine is present and
// usable, or says that none is. Plain JavaScript so it runs before any build.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ENGINES = /** @type {const} */ (['docker', 'podman', 'buildah']);
const IGNORE_FILE = 'deploy/Dockerfile.dockerignore';

/**
 * The first executable called `name` on a PATH string, or undefined.
 * @param {string} name
 * @param {string} pathValue
 * @returns {string | undefined}
 */
export function onPath(name, pathValue) {
  for (const dir of pathValue.split(path.delimiter).filter((d) => d !== '')) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The build and push commands for an engine. Podman and buildah take the
 * Dockerfile's own ignore file explicitly (BuildKit finds `<Dockerfile>.dockerignore` by itself).
 * @param {'docker' | 'podman' | 'buildah'} engine
 * @param {string} tag
 */
export function commandsFor(engine, tag) {
  const build = engine === 'docker' ? ['build'] : ['build', '--ignorefile', IGNORE_FILE];
  return { build: [...build, '-f', 'deploy/Dockerfile', '-t', tag, '.'], push: ['push', tag] };
}

/**
 * Finds a usable engine: on PATH, and for docker a daemon that answers.
 * @param {{ path: string, want?: string, probe: (file: string, args: string[]) => boolean }} options
 * @returns {{ engine: 'docker' | 'podman' | 'buildah', file: string } | { error: string }}
 */
export function chooseEngine(options) {
  const wanted = options.want === undefined ? ENGINES : ENGINES.filter((e) => e === options.want);
  if (wanted.length === 0) return { error: `--engine: "${options.want}" is not one of ${ENGINES.join(', ')}` };
  const notes = [];
  for (const engine of wanted) {
    const file = onPath(engine, options.path);
    if (file === undefined) {
      notes.push(`${engine}: not on PATH`);
      continue;
    }
    // The docker CLI is often installed without a daemon it can reach; podman and buildah need none.
    if (engine === 'docker' && !options.probe(file, ['version', '--format', '{{.Server.Version}}'])) {
      notes.push(`docker: ${file} found, but no Docker daemon answers (docker version fails)`);
      continue;
    }
    return { engine, file };
  }
  return {
    error:
      `no usable container engine: ${notes.join('; ')}. ` +
      'Install one of docker (with its daemon), podman or buildah.',
  };
}

/**
 * @param {string[]} argv
 * @returns {{ tag?: string, engine?: string, push: boolean }}
 */
export function parseImageArgs(argv) {
  /** @type {{ tag?: string, engine?: string, push: boolean }} */
  const args = { push: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () =>
      inline ??
      argv[++i] ??
      (() => {
        throw new Error(`${flag}: needs a value`);
      })();
    if (flag === '--tag' || flag === '-t') args.tag = value();
    else if (flag === '--engine') args.engine = value();
    else if (flag === '--push') args.push = true;
    else
      throw new Error(
        `unknown argument "${argv[i]}" (usage: npm run image -- [--tag REF] [--engine docker|podman|buildah] [--push])`,
      );
  }
  return args;
}

function main() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  let args;
  try {
    args = parseImageArgs(process.argv.slice(2));
  } catch (err) {
    console.error(String(/** @type {Error} */ (err).message));
    return 2;
  }
  const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  const tag = args.tag ?? `ironlb:${version}`;
  const chosen = chooseEngine({
    path: process.env.PATH ?? '',
    want: args.engine,
    probe: (file, probeArgs) => spawnSync(file, probeArgs, { stdio: 'ignore', timeout: 20_000 }).status === 0,
  });
  if ('error' in chosen) {
    console.error(chosen.error);
    return 1;
  }
  const { build, push } = commandsFor(chosen.engine, tag);
  for (const command of args.push ? [build, push] : [build]) {
    console.log(`$ ${chosen.engine} ${command.join(' ')}`);
    const result = spawnSync(chosen.file, command, { cwd: root, stdio: 'inherit' });
    if (result.status !== 0) {
      console.error(
        `${chosen.engine} ${command[0]} failed ` +
          `(${result.error ? result.error.message : `exit ${result.status ?? result.signal}`})`,
      );
      return 1;
    }
  }
  return 0;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = main();
