// The two programs as a container runs them: the built entry points
// (dist/<program>/main.js, which `npm test` builds first), started as
// processes. Their flags are what `--help` prints, not what a reading of
// their sources guesses.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './deploy-manifests.js';

export const PROGRAMS = ['controller', 'speaker'] as const;
export type Program = (typeof PROGRAMS)[number];

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Sources whose change alters what a program accepts; the built entry must be newer. */
const FLAG_SOURCES = (program: Program) => [
  `${program}/flags.ts`,
  `${program}/main.ts`,
  'src/cli/flags.ts',
  'src/cli/program.ts',
];

/** The built entry, refusing a missing or stale build (which would judge old flags). */
export function builtEntry(program: Program, root = repoRoot): string {
  const entry = path.join(root, 'dist', program, 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first (npm test does)`);
  const built = statSync(entry).mtimeMs;
  for (const source of FLAG_SOURCES(program)) {
    const file = path.join(repoRoot, source);
    if (existsSync(file) && statSync(file).mtimeMs > built) {
      throw new Error(`${source} is newer than dist/${program}/main.js: run npm run build first (npm test does)`);
    }
  }
  return entry;
}

/** `node <args...>` in `cwd` with exactly `env` (plus PATH), as a container's entry point would run. */
export function runNode(args: readonly string[], env: Record<string, string>, cwd = repoRoot): Run {
  const r = spawnSync(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The flags a program's `--help` lists, e.g. `--node-name`, in its order. */
export function helpFlags(program: Program): string[] {
  builtEntry(program);
  const help = runNode([`dist/${program}/main.js`, '--help'], {});
  if (help.code !== 0) throw new Error(`${program} --help exited ${help.code}: ${help.stderr}`);
  return flagsInUsage(help.stdout);
}

/** Flag names at the start of a usage line (`  --flag VALUE   what it does`). */
export function flagsInUsage(usage: string): string[] {
  return [...usage.matchAll(/^\s+(--[a-z][a-z0-9-]*)\b/gm)].map((m) => m[1] ?? '');
}
