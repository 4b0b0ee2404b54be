// The one set-up check for `npm run lab`, `npm test` and `.ci/run`: are the
// commands the lab runs on PATH, and if not, install them or say exactly what
// to install. Plain JavaScript because it runs before anything is compiled.
//
//   node test/setup/tools.mjs lab    the lab needs root and every tool
//   node test/setup/tools.mjs test   kubectl, always; as root the e2e layer
//                                    runs and needs every tool; without root
//                                    it is not run, so no other is needed
//
// As root on a machine with apt-get, missing tools are installed with their
// exact Debian/Ubuntu package names. IRONLB_NO_INSTALL=1 forbids installing:
// the check then only reports (for machines whose packages are managed
// otherwise, and for the tests of this very check). IRONLB_TOOLS_ROOT (default
// /) is where tools installed off PATH are looked up, for those tests too.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every command the lab and the e2e layer run, and the Debian package that has it. */
export const TOOLS = [
  { command: 'ip', pkg: 'iproute2' }, // namespaces, veths, addresses
  { command: 'sysctl', pkg: 'procps' }, // per-namespace ARP/DAD settings
  { command: 'arping', pkg: 'iputils-arping' }, // who answers ARP for an IP
  { command: 'ndisc6', pkg: 'ndisc6' }, // who answers NDP for an IP
  { command: 'ping', pkg: 'iputils-ping' }, // traffic through a failover
  { command: 'tcpdump', pkg: 'tcpdump' }, // frames on the wire
  { command: 'curl', pkg: 'curl' }, // speaker readiness inside a node namespace
  // BGP mode (docs/bgp.md): FRR's bgpd/bfdd/zebra in each node namespace (the
  // daemons live in /usr/lib/frr, off PATH; vtysh ships with them), and BIRD 2
  // as the lab's router, a different implementation judging FRR.
  { command: 'vtysh', pkg: 'frr' },
  { command: 'bird', pkg: 'bird2' },
  // Applies a changed FRR configuration without resetting unchanged sessions.
  // Installed off PATH, so looked up in its own folder.
  { command: 'frr-reload.py', pkg: 'frr-pythontools', dir: '/usr/lib/frr' },
];

export const PURPOSES = ['lab', 'test'];

/**
 * `npm test` needs kubectl whoever runs it: the deploy tests render deploy/ with
 * `kubectl kustomize` (the reference renderer, not a copy of it) and
 * test/integration/kubectl.test.ts runs it against the API server double.
 * Debian does not package it (bookworm has no kubectl), so it is never
 * installed here: the check stops naming where to get it. The deploy tests
 * throw this same text when run on their own without kubectl.
 */
export const KUBECTL_MISSING =
  'ironlb: npm test needs kubectl 1.27 or newer (the deploy tests render deploy/ with ' +
  '`kubectl kustomize`), and it is not on PATH. Debian does not package it: install it from ' +
  'https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/ (the pkgs.k8s.io apt repository, or the binary).';

/** The full path of an executable named `command` on `pathVar`, or undefined. */
export function findCommand(command, pathVar) {
  for (const dir of (pathVar ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The tools not found: on `pathVar`, or for a tool with its own `dir`, in that
 * folder under `root` (IRONLB_TOOLS_ROOT, for the tests of this check; default /).
 */
export function missingTools(pathVar, root = '/') {
  return TOOLS.filter((t) => findCommand(t.command, t.dir ? path.join(root, t.dir) : pathVar) === undefined);
}

const installLine = (missing) => `apt-get install -y ${missing.map((t) => t.pkg).join(' ')}`;
const commandList = (missing) => missing.map((t) => t.command).join(', ');

/**
 * What to do, decided from facts alone (no I/O):
 * { action: 'ok' } | { action: 'install', packages } | { action: 'note', message } | { action: 'stop', message }
 */
export function decide({ purpose, missing, isRoot, hasApt, mayInstall, hasKubectl }) {
  if (!PURPOSES.includes(purpose))
    return { action: 'stop', message: `ironlb set-up: unknown purpose "${purpose}" (use ${PURPOSES.join(' or ')})` };
  if (purpose === 'test' && !hasKubectl) return { action: 'stop', message: KUBECTL_MISSING };
  if (purpose === 'lab' && !isRoot) {
    const tools =
      missing.length === 0
        ? ''
        : ` It also needs ${commandList(missing)}, which it installs itself as root (${installLine(missing)}).`;
    return {
      action: 'stop',
      message:
        `ironlb: npm run lab needs root: it creates network namespaces, veth links and a bridge. ` +
        `Run it as root, e.g. \`sudo npm run lab\`.${tools}`,
    };
  }
  if (missing.length === 0) return { action: 'ok' };
  if (purpose === 'test' && !isRoot) {
    return {
      action: 'note',
      message:
        `ironlb: not root, so test/e2e is not run and its missing tools (${commandList(missing)}) ` +
        `are not needed; as root \`npm test\` installs them.`,
    };
  }
  if (hasApt && mayInstall) return { action: 'install', packages: missing.map((t) => t.pkg) };
  const why = !hasApt
    ? 'there is no apt-get here to install them with'
    : 'IRONLB_NO_INSTALL is set, so they are not installed';
  return {
    action: 'stop',
    message:
      `ironlb: missing commands: ${commandList(missing)} (${why}). ` +
      `Install these packages as root: ${installLine(missing)}`,
  };
}

/** The apt-get runs that install `packages`, in order. */
export function installSteps(packages) {
  return [
    ['apt-get', ['update']],
    ['apt-get', ['install', '-y', '--no-install-recommends', ...packages]],
  ];
}

function install(packages, env) {
  console.log(`ironlb: installing ${packages.join(' ')} with apt-get`);
  for (const [cmd, args] of installSteps(packages)) {
    const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.error || r.status !== 0) {
      const cause = r.error ? r.error.message : `exit status ${r.status ?? r.signal}`;
      return (
        `ironlb: \`${cmd} ${args.join(' ')}\` failed (${cause}); ` +
        `install these packages yourself: apt-get install -y ${packages.join(' ')}`
      );
    }
  }
  return undefined;
}

/** Runs the check for `purpose`; returns the exit status. */
export function main(purpose, env = process.env) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const root = env.IRONLB_TOOLS_ROOT || '/';
  const missing = missingTools(env.PATH, root);
  const decision = decide({
    purpose,
    missing,
    isRoot,
    hasApt: findCommand('apt-get', env.PATH) !== undefined,
    mayInstall: !env.IRONLB_NO_INSTALL,
    hasKubectl: findCommand('kubectl', env.PATH) !== undefined,
  });
  switch (decision.action) {
    case 'ok':
      return 0;
    case 'note':
      console.log(decision.message);
      return 0;
    case 'stop':
      console.error(decision.message);
      return 1;
    case 'install': {
      const failed = install(decision.packages, env);
      if (failed) {
        console.error(failed);
        return 1;
      }
      const still = missingTools(env.PATH, root);
      if (still.length > 0) {
        console.error(
          `ironlb: installed ${decision.packages.join(' ')} but ${commandList(still)} ` +
            `is still not on PATH (${env.PATH ?? ''}); add its folder (often /usr/sbin) to PATH`,
        );
        return 1;
      }
      return 0;
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv[2] ?? '');
}
