// The set-up check's install path, as root (which this layer runs as): with
// apt-get on PATH it runs `apt-get update` then installs exactly the missing
// packages, non-interactively. apt-get here is a stand-in on a PATH of its
// own, so the test installs nothing on the machine: it records its arguments
// and "installs" a package by putting that package's commands on the PATH.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { TOOLS } from '../setup/tools.mjs';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'setup', 'tools.mjs');
const ALL_PACKAGES = TOOLS.map((t) => t.pkg);

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A PATH with node and, unless `apt` is 'none', an apt-get that installs (or fails with `apt`'s exit code). */
function bin(apt: 'installs' | 'installs nothing' | number | 'none'): string {
  dir = mkdtempSync(path.join(tmpdir(), 'ironlb-setup-e2e-'));
  symlinkSync(process.execPath, path.join(dir, 'node'));
  // `npm test` needs kubectl, which apt-get never installs: a stand-in, so the check goes on to the lab's tools.
  writeFileSync(path.join(dir, 'kubectl'), '#!/bin/sh\n', { mode: 0o755 });
  if (apt === 'none') return dir;
  // Where each package's command lands: on PATH, or in its own folder under the root (this same folder).
  const commands = Object.fromEntries(TOOLS.map((t) => [t.pkg, t.dir ? path.join(t.dir, t.command) : t.command]));
  const script = `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
const line = JSON.stringify({ args, frontend: process.env.DEBIAN_FRONTEND });
fs.appendFileSync(path.join(__dirname, 'apt.log'), line + '\\n');
const fail = ${typeof apt === 'number' ? apt : 0};
if (fail !== 0 && args[0] === 'install') process.exit(fail);
if (${JSON.stringify(apt === 'installs')} && args[0] === 'install') {
  const commands = ${JSON.stringify(commands)};
  for (const pkg of args.filter((a) => !a.startsWith('-')).slice(1)) {
    fs.mkdirSync(path.dirname(path.join(__dirname, commands[pkg])), { recursive: true });
    fs.writeFileSync(path.join(__dirname, commands[pkg]), '#!/bin/sh\\n', { mode: 0o755 });
  }
}
`;
  writeFileSync(path.join(dir, 'apt-get'), script);
  chmodSync(path.join(dir, 'apt-get'), 0o755);
  return dir;
}

function check(pathDir: string, purpose = 'test') {
  const r = spawnSync(path.join(pathDir, 'node'), [SCRIPT, purpose], {
    env: { PATH: pathDir, IRONLB_TOOLS_ROOT: pathDir },
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  return { code: r.status, out: String(r.stdout), err: String(r.stderr) };
}

function aptCalls(pathDir: string): Array<{ args: string[]; frontend?: string }> {
  return readFileSync(path.join(pathDir, 'apt.log'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { args: string[]; frontend?: string });
}

describe('set-up check as root', () => {
  it('runs apt-get update, then installs exactly the missing packages without questions, and passes', () => {
    const pathDir = bin('installs');
    writeFileSync(path.join(pathDir, 'ip'), '#!/bin/sh\n', { mode: 0o755 }); // present: not asked for
    const r = check(pathDir, 'lab');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const wanted = ALL_PACKAGES.filter((p) => p !== 'iproute2');
    expect(r.out).toContain(`ironlb: installing ${wanted.join(' ')} with apt-get`);
    expect(aptCalls(pathDir)).toEqual([
      { args: ['update'], frontend: 'noninteractive' },
      { args: ['install', '-y', '--no-install-recommends', ...wanted], frontend: 'noninteractive' },
    ]);
    // Everything is there now: a second run asks apt-get for nothing.
    expect(check(pathDir, 'lab')).toEqual({ code: 0, out: '', err: '' });
    expect(aptCalls(pathDir)).toHaveLength(2);
  });

  it('when apt-get fails, exits 1 naming the packages to install', () => {
    const pathDir = bin(100);
    const r = check(pathDir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `failed (exit status 100); install these packages yourself: apt-get install -y ${ALL_PACKAGES.join(' ')}`,
    );
  });

  it('when the packages are installed but the commands are still not on PATH, says so', () => {
    const pathDir = bin('installs nothing');
    const r = check(pathDir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`is still not on PATH (${pathDir}); add its folder (often /usr/sbin) to PATH`);
  });

  it('without apt-get, installs nothing and names the packages', () => {
    const r = check(bin('none'));
    expect(r.code).toBe(1);
    expect(r.err.trimEnd().split('\n')).toEqual([
      `ironlb: missing commands: ${TOOLS.map((t) => t.command).join(', ')} ` +
        `(there is no apt-get here to install them with). ` +
        `Install these packages as root: apt-get install -y ${ALL_PACKAGES.join(' ')}`,
    ]);
  });
});
