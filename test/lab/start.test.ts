// `npm run lab`'s entry point (test/lab/start.mjs), the parts that need no
// root: its arguments, and that a bad one, --help, or a run without root are
// answered at once, before compiling anything. The lab itself, SIGINT/SIGTERM
// and --down as root are in test/e2e/system-demo.test.ts.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseLabArgs, USAGE } from './start.mjs';

const ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'start.mjs');
/** Runs as a user other than root: as `nobody` when the test itself is root. */
const asNonRoot: SpawnSyncOptions = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

function lab(args: string[], options: SpawnSyncOptions = {}) {
  const r = spawnSync(process.execPath, [ENTRY, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
    ...options,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe('lab arguments', () => {
  it('reads every flag', () => {
    expect(parseLabArgs([])).toEqual({ help: false, down: false, keep: false, bgp: false });
    expect(parseLabArgs(['--keep'])).toEqual({ help: false, down: false, keep: true, bgp: false });
    expect(parseLabArgs(['--down'])).toEqual({ help: false, down: true, keep: false, bgp: false });
    expect(parseLabArgs(['--bgp', '--keep'])).toEqual({ help: false, down: false, keep: true, bgp: true });
    expect(parseLabArgs(['-h']).help).toBe(true);
    expect(parseLabArgs(['--kubeconfig', ENTRY]).kubeconfig).toBe(ENTRY);
    expect(parseLabArgs([`--kubeconfig=${ENTRY}`, '--keep'])).toEqual({
      help: false,
      down: false,
      keep: true,
      bgp: false,
      kubeconfig: ENTRY,
    });
  });

  it('refuses bad ones with the reason and the usage', () => {
    expect(() => parseLabArgs(['--fast'])).toThrow(`unknown argument "--fast"\n${USAGE}`);
    expect(() => parseLabArgs(['--kubeconfig'])).toThrow('--kubeconfig needs a file');
    expect(() => parseLabArgs(['--kubeconfig='])).toThrow('--kubeconfig needs a file');
    expect(() => parseLabArgs(['--kubeconfig', 'no-such-kubeconfig'])).toThrow(
      '--kubeconfig: no-such-kubeconfig does not exist',
    );
    expect(() => parseLabArgs(['--down', '--keep'])).toThrow('--down takes no other flag');
    expect(() => parseLabArgs(['--down', '--bgp'])).toThrow('--down takes no other flag');
  });
});

describe('npm run lab, answered before compiling', () => {
  it('a bad argument: exit 2 with the usage, nothing compiled', () => {
    const r = lab(['--fast']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown argument "--fast"');
    expect(r.stderr).toContain('usage: npm run lab');
    expect(r.stdout).toBe('');
  });

  it('--help: the usage, exit 0', () => {
    const r = lab(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${USAGE}\n`);
  });

  it('without root, the lab and --down stop at once saying they need root', () => {
    const run = lab([], asNonRoot);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('npm run lab needs root');
    expect(run.stdout).not.toContain('compiling');
    const down = lab(['--down'], asNonRoot);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('npm run lab -- --down needs root');
    expect(down.stdout).toBe('');
  });
});
