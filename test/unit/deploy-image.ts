// deploy/Dockerfile's runtime stage, assembled without a container engine
// (none runs on this machine) so the tests can start the programs from it.
//
// The build stage's RUNs (`npm ci`, `npm run build`, `npm prune --omit=dev`)
// are not run again: its result is taken to be this checkout as `npm test`
// leaves it (after `npm ci` and `npm run build`), with node_modules pruned to
// the production packages `npm ls --omit=dev` names. The build stage's own
// COPYs are checked against the build context as `docker build` would (the
// source exists and the ignore file does not exclude it). The runtime stage's
// COPY --from=build instructions are then carried out into a folder, and
// ENTRYPOINT, CMD, WORKDIR and ENV are returned to run the image's command.
// Anything else this stager does not know is refused, not guessed.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from './deploy-manifests.js';

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

const fail = (line: number, text: string): never => {
  throw new Error(`Dockerfile line ${line}: ${text}`);
};

export interface StagedImage {
  /** The folder standing for the image's `/`. */
  root: string;
  /** WORKDIR of the runtime stage, inside `root`. */
  workdir: string;
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
  user?: string;
  /** Debian packages the runtime stage's RUN installs (not installed here: no engine, no image root). */
  packages: string[];
}

/**
 * The one kind of RUN a runtime stage may have: system set-up of users and
 * groups and `apt-get install` of Debian packages. Returns the packages;
 * throws on any other command, which this stager could not stand in for.
 */
export function runtimePackages(ins: Instruction): string[] {
  const packages: string[] = [];
  for (const command of ins.args.split(/\s*&&\s*/)) {
    const install = /^apt-get install -y --no-install-recommends ((?:[a-z0-9][a-z0-9.+-]*\s*)+)$/.exec(command);
    if (install) packages.push(...(install[1] ?? '').trim().split(/\s+/));
    else if (
      !/^(groupadd|useradd) --system [\w ./-]+$|^apt-get update$|^rm -rf \/var\/lib\/apt\/lists\/\*$/.test(command)
    ) {
      throw new Error(`Dockerfile line ${ins.line}: RUN ${command} in the runtime stage is not run by this stager`);
    }
  }
  return packages;
}

/** Dockerfile instructions, line continuations joined, comments and blank lines dropped. */
export function readInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i] ?? '';
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i] ?? ''}`;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const space = trimmed.search(/\s/);
    const keyword = trimmed.slice(0, space).toUpperCase();
    out.push({ keyword, args: trimmed.slice(space + 1).trim(), line: start + 1 });
  }
  return out;
}

/** Patterns of a .dockerignore file; a pattern matches a path or any folder above it. */
function ignoredBy(patterns: readonly string[], relative: string): string | undefined {
  const parts = path.normalize(relative).split(path.sep);
  for (const pattern of patterns) {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    for (let n = 1; n <= parts.length; n++) if (re.test(parts.slice(0, n).join('/'))) return pattern;
  }
  return undefined;
}

/** A node_modules of links to the production packages only: what `npm prune --omit=dev` leaves. */
function prunedNodeModules(into: string): void {
  const r = spawnSync('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm ls --omit=dev failed: ${r.stderr}`);
  const top = new Set<string>();
  for (const dir of r.stdout.split('\n').filter((l) => l !== '')) {
    const rel = path.relative(path.join(repoRoot, 'node_modules'), dir).split(path.sep);
    if (rel[0] === '..' || rel[0] === '') continue;
    top.add(rel[0]?.startsWith('@') ? `${rel[0]}/${rel[1] ?? ''}` : (rel[0] ?? ''));
  }
  for (const name of top) {
    mkdirSync(path.dirname(path.join(into, name)), { recursive: true });
    symlinkSync(path.join(repoRoot, 'node_modules', name), path.join(into, name), 'dir');
  }
}

/** `COPY [--from=x] src... dest` as sources and destination; JSON form too. */
function copyArgs(ins: Instruction): { from?: string; sources: string[]; dest: string } {
  let args = ins.args;
  let from: string | undefined;
  for (let m = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(args); m; m = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(args)) {
    if (m[1] !== 'from') throw new Error(`Dockerfile line ${ins.line}: COPY --${m[1]} is not supported by this stager`);
    from = m[2];
    args = args.slice(m[0].length);
  }
  const words = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
  const dest = words.pop();
  if (dest === undefined || words.length === 0) return fail(ins.line, 'COPY needs a source and a destination');
  return { from, sources: words, dest };
}

/** Files matching a source path whose last segment may hold `*`. */
function expand(base: string, source: string, line: number): string[] {
  const full = path.join(base, source);
  if (!path.basename(source).includes('*')) {
    if (!existsSync(full)) throw new Error(`Dockerfile line ${line}: COPY source ${source} does not exist`);
    return [full];
  }
  const dir = path.dirname(full);
  const re = new RegExp(
    `^${path
      .basename(source)
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')}$`,
  );
  const found = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => re.test(f))
        .map((f) => path.join(dir, f))
    : [];
  if (found.length === 0) throw new Error(`Dockerfile line ${line}: COPY source ${source} matches no file`);
  return found;
}

export interface StageOptions {
  dockerfile?: string;
  /** Default: `<dockerfile>.dockerignore`, as `npm run image` passes it. */
  ignoreFile?: string;
  /** Leaves out the runtime COPY to this destination (to show a missing file is caught). */
  drop?: string;
}

/** Stages the runtime (unnamed) stage of the Dockerfile into a new temporary folder. */
export function stageImage(options: StageOptions = {}): StagedImage {
  const root = mkdtempSync(path.join(tmpdir(), 'ironlb-image-'));
  try {
    return stageInto(root, options);
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

function stageInto(root: string, options: StageOptions): StagedImage {
  const dockerfile = options.dockerfile ?? path.join(repoRoot, 'deploy', 'Dockerfile');
  const instructions = readInstructions(readFileSync(dockerfile, 'utf8'));
  const ignoreFile = options.ignoreFile ?? `${dockerfile}.dockerignore`;
  const ignores = existsSync(ignoreFile) ? ignorePatterns(readFileSync(ignoreFile, 'utf8')) : [];
  const buildResult = path.join(root, '.build');
  const stages = new Map<string, string>();
  let image: StagedImage | undefined;
  let stageName = '';
  for (const ins of instructions) {
    switch (ins.keyword) {
      case 'FROM': {
        const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
        if (!m) throw new Error(`Dockerfile line ${ins.line}: FROM ${ins.args} is not understood`);
        stageName = m[2] ?? '';
        image = stageName === '' ? { root, workdir: root, entrypoint: [], cmd: [], env: {}, packages: [] } : undefined;
        break;
      }
      case 'WORKDIR':
        if (image) image.workdir = path.join(root, ins.args);
        else stages.set(stageName, ins.args);
        break;
      case 'ENV': {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)[= ](.*)$/.exec(ins.args);
        if (!m) throw new Error(`Dockerfile line ${ins.line}: ENV ${ins.args} is not understood`);
        if (image) image.env[m[1] ?? ''] = m[2] ?? '';
        break;
      }
      case 'COPY': {
        const { from, sources, dest } = copyArgs(ins);
        if (!image) {
          // A build stage: the sources come from the context, as docker build reads them.
          if (from !== undefined) fail(ins.line, 'COPY --from in a build stage is not supported');
          for (const source of sources) {
            expand(repoRoot, source, ins.line);
            const pattern = ignoredBy(ignores, source);
            if (pattern) fail(ins.line, `COPY ${source} is excluded by the ignore file (${pattern})`);
          }
          break;
        }
        const workdir = from === undefined ? undefined : stages.get(from);
        if (workdir === undefined) throw new Error(`Dockerfile line ${ins.line}: COPY needs --from=<an earlier stage>`);
        if (options.drop === dest) break;
        if (!existsSync(buildResult)) stageBuildResult(buildResult);
        const target = path.join(image.workdir, dest);
        for (const source of sources) {
          const rel = path.relative(workdir, source);
          if (rel.startsWith('..')) fail(ins.line, `${source} is outside the build stage's ${workdir}`);
          for (const file of expand(buildResult, rel, ins.line)) {
            const into = dest.endsWith('/') ? path.join(target, path.basename(file)) : target;
            mkdirSync(path.dirname(into), { recursive: true });
            // A real copy (the links standing for the build stage are followed), but node_modules keeps its
            // links to the checkout's packages: copying 100+ MB for each run would be slow.
            cpSync(realpathSync(file), into, { recursive: true, verbatimSymlinks: true });
          }
        }
        break;
      }
      case 'ENTRYPOINT':
      case 'CMD':
        if (image) image[ins.keyword === 'CMD' ? 'cmd' : 'entrypoint'] = execForm(ins);
        break;
      case 'USER':
        if (image) image.user = ins.args;
        break;
      case 'RUN':
        if (image) image.packages.push(...runtimePackages(ins));
        break;
      case 'EXPOSE':
        break;
      default:
        throw new Error(`Dockerfile line ${ins.line}: ${ins.keyword} is not supported by this stager`);
    }
  }
  if (!image) throw new Error('the Dockerfile has no unnamed runtime stage');
  return image;
}

function execForm(ins: Instruction): string[] {
  if (!ins.args.startsWith('[')) fail(ins.line, `${ins.keyword} in shell form: use the exec (JSON) form`);
  return JSON.parse(ins.args) as string[];
}

function ignorePatterns(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The build stage's /app: this checkout's outputs, node_modules pruned to production. */
function stageBuildResult(into: string): void {
  mkdirSync(into, { recursive: true });
  // What the build stage holds after `npm run build` (speaker/ for the FRR start script it copies in).
  for (const entry of ['package.json', 'binding.gyp', 'dist', 'build', 'speaker']) {
    const from = path.join(repoRoot, entry);
    if (!existsSync(from)) throw new Error(`${from} is missing: run npm ci and npm run build first (npm test does)`);
    if (statSync(from).isDirectory()) symlinkSync(from, path.join(into, entry), 'dir');
    else cpSync(from, path.join(into, entry));
  }
  prunedNodeModules(path.join(into, 'node_modules'));
}
