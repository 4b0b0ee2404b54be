// The set-up check that `npm run lab`, `npm test` and .ci/run run first: what it
// decides for each situation, and, as a real process with a PATH that lacks
// the tools, the one message naming the packages. (Installing for real, as
// root with apt-get, is tested in test/e2e/setup-install.test.ts.)
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { decide, findCommand, installSteps, KUBECTL_MISSING, missingTools, TOOLS } from './tools.mjs';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'tools.mjs');
const ALL_PACKAGES = 'iproute2 procps iputils-arping ndisc6 iputils-ping tcpdump curl frr bird2 frr-pythontools';
const isRoot = process.getuid?.() === 0;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A PATH holding node and nothing else (and a stand-in kubectl when asked). */
function bareBin(withKubectl = false): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ironlb-setup-test-'));
  dirs.push(dir);
  chmodSync(dir, 0o755); // readable by the non-root user below
  symlinkSync(process.execPath, path.join(dir, 'node'));
  if (withKubectl) writeFileSync(path.join(dir, 'kubectl'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  return dir;
}

function check(purpose: string, env: NodeJS.ProcessEnv, options: SpawnSyncOptions = {}) {
  const r = spawnSync(path.join(env.PATH!, 'node'), [SCRIPT, purpose], { env, encoding: 'utf8', ...options });
  if (r.error) throw r.error;
  return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Runs as a user other than root: as `nobody` when the test itself is root. */
const asNonRoot: SpawnSyncOptions = isRoot ? { uid: 65534, gid: 65534 } : {};

const tool = (command: string) => TOOLS.find((t) => t.command === command)!;

describe('the tool table', () => {
  it('maps each command the lab runs to its Debian package', () => {
    expect(TOOLS.map((t) => `${t.command}:${t.pkg}`)).toEqual([
      'ip:iproute2',
      'sysctl:procps',
      'arping:iputils-arping',
      'ndisc6:ndisc6',
      'ping:iputils-ping',
      'tcpdump:tcpdump',
      'curl:curl',
      'vtysh:frr',
      'bird:bird2',
      'frr-reload.py:frr-pythontools',
    ]);
    expect(TOOLS.filter((t) => t.dir).map((t) => `${t.dir}/${t.command}`)).toEqual(['/usr/lib/frr/frr-reload.py']);
  });

  it('finds commands on a PATH and nothing on an empty one', () => {
    expect(findCommand('node', path.dirname(process.execPath))).toBe(process.execPath);
    expect(findCommand('node', '')).toBeUndefined();
    expect(missingTools('', bareBin()).map((t) => t.command)).toEqual(TOOLS.map((t) => t.command));
  });

  it('finds a tool with its own folder there, under the root, not on PATH', () => {
    const root = bareBin();
    mkdirSync(path.join(root, 'usr/lib/frr'), { recursive: true });
    writeFileSync(path.join(root, 'usr/lib/frr/frr-reload.py'), '#!/bin/sh\n', { mode: 0o755 });
    expect(missingTools('', root).map((t) => t.command)).not.toContain('frr-reload.py');
    expect(missingTools(path.join(root, 'usr/lib/frr'), path.join(root, 'elsewhere')).map((t) => t.command)).toContain(
      'frr-reload.py',
    );
  });
});

describe('decide', () => {
  const missing = [tool('arping'), tool('tcpdump')];
  const facts = { purpose: 'lab', missing, isRoot: true, hasApt: true, mayInstall: true, hasKubectl: true };

  it('installs the exact packages as root with apt-get, update first', () => {
    expect(decide(facts)).toEqual({ action: 'install', packages: ['iputils-arping', 'tcpdump'] });
    expect(decide({ ...facts, purpose: 'test' })).toEqual({
      action: 'install',
      packages: ['iputils-arping', 'tcpdump'],
    });
    expect(installSteps(['iputils-arping', 'tcpdump'])).toEqual([
      ['apt-get', ['update']],
      ['apt-get', ['install', '-y', '--no-install-recommends', 'iputils-arping', 'tcpdump']],
    ]);
  });

  it('does nothing when every tool is there', () => {
    expect(decide({ ...facts, missing: [] })).toEqual({ action: 'ok' });
    expect(decide({ ...facts, purpose: 'test', missing: [], isRoot: false })).toEqual({ action: 'ok' });
  });

  it('stops with the commands and packages when it may not or cannot install', () => {
    expect(decide({ ...facts, mayInstall: false })).toEqual({
      action: 'stop',
      message:
        'ironlb: missing commands: arping, tcpdump (IRONLB_NO_INSTALL is set, so they are not installed). ' +
        'Install these packages as root: apt-get install -y iputils-arping tcpdump',
    });
    expect(decide({ ...facts, hasApt: false })).toEqual({
      action: 'stop',
      message:
        'ironlb: missing commands: arping, tcpdump (there is no apt-get here to install them with). ' +
        'Install these packages as root: apt-get install -y iputils-arping tcpdump',
    });
  });

  it('the lab without root stops at once, saying it needs root and what it will install', () => {
    const d = decide({ ...facts, isRoot: false });
    expect(d.action).toBe('stop');
    expect(d.action === 'stop' && d.message).toBe(
      'ironlb: npm run lab needs root: it creates network namespaces, veth links and a bridge. ' +
        'Run it as root, e.g. `sudo npm run lab`. ' +
        'It also needs arping, tcpdump, which it installs itself as root (apt-get install -y iputils-arping tcpdump).',
    );
    expect(decide({ ...facts, isRoot: false, missing: [] })).toMatchObject({
      action: 'stop',
      message: expect.stringContaining('needs root'),
    });
  });

  it('the tests without root need no tool: the e2e layer is not run, and one line says so', () => {
    expect(decide({ ...facts, purpose: 'test', isRoot: false, hasApt: false })).toEqual({
      action: 'note',
      message:
        'ironlb: not root, so test/e2e is not run and its missing tools (arping, tcpdump) ' +
        'are not needed; as root `npm test` installs them.',
    });
  });

  it('the tests stop without kubectl, root or not, naming where to get it (Debian has no package)', () => {
    for (const isRoot of [true, false]) {
      expect(decide({ ...facts, purpose: 'test', isRoot, hasKubectl: false })).toEqual({
        action: 'stop',
        message: KUBECTL_MISSING,
      });
    }
    expect(KUBECTL_MISSING).toContain('kubectl kustomize');
    expect(KUBECTL_MISSING).toContain('https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/');
    // The lab does not run kubectl.
    expect(decide({ ...facts, hasKubectl: false })).toEqual({
      action: 'install',
      packages: ['iputils-arping', 'tcpdump'],
    });
  });

  it('refuses an unknown purpose', () => {
    expect(decide({ ...facts, purpose: 'bench' })).toEqual({
      action: 'stop',
      message: 'ironlb set-up: unknown purpose "bench" (use lab or test)',
    });
  });
});

describe('the check as a process, with a PATH that has only node', () => {
  it('when it may not install, exits 1 with one message naming every command and package', () => {
    const bin = bareBin();
    const r = check('lab', { PATH: bin, IRONLB_TOOLS_ROOT: bin, IRONLB_NO_INSTALL: '1' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('ip, sysctl, arping, ndisc6, ping, tcpdump, curl, vtysh, bird, frr-reload.py');
    expect(lines[0]).toContain(`apt-get install -y ${ALL_PACKAGES}`);
  });

  it('not root: the lab stops at once naming root and the packages; the tests go on with one line', () => {
    const bin = bareBin();
    const lab = check('lab', { PATH: bin, IRONLB_TOOLS_ROOT: bin }, asNonRoot);
    expect(lab.code).toBe(1);
    expect(lab.stderr).toContain('npm run lab needs root');
    expect(lab.stderr).toContain(`apt-get install -y ${ALL_PACKAGES}`);
    const withKubectl = bareBin(true);
    const test = check('test', { PATH: withKubectl, IRONLB_TOOLS_ROOT: withKubectl }, asNonRoot);
    expect(test.code).toBe(0);
    expect(test.stdout.trimEnd().split('\n')).toEqual([
      'ironlb: not root, so test/e2e is not run and its missing tools ' +
        '(ip, sysctl, arping, ndisc6, ping, tcpdump, curl, vtysh, bird, frr-reload.py) ' +
        'are not needed; as root `npm test` installs them.',
    ]);
  });

  it('the tests without kubectl stop at once with the one message naming it', () => {
    const bin = bareBin();
    const r = check('test', { PATH: bin, IRONLB_TOOLS_ROOT: bin, IRONLB_NO_INSTALL: '1' }, asNonRoot);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `${KUBECTL_MISSING}\n` });
  });

  it('refuses a missing or unknown purpose', () => {
    const r = check('', { PATH: bareBin() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown purpose ""');
  });
});
