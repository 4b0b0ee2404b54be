// Removes what a lab left behind, by name: its network namespaces (and the
// processes still in them), its root-namespace links, and its temporary
// folders. Plain JavaScript so `npm run lab -- --down` works before (and
// without) compiling anything.
import { execFile } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

async function ip(args) {
  try {
    return (await execFileAsync('ip', args)).stdout;
  } catch (err) {
    if (typeof err.code === 'string') throw new Error(`cannot start "ip": ${err.code}; install iproute2`);
    return '';
  }
}

/**
 * The temporary folders a lab with this prefix makes: `<prefix>-lab` (the
 * demo's logs, with the API server double's kubeconfig inside), `<prefix>-logs`
 * (a system lab's default logs) and `<prefix>-XXXXXX` (a lab's captures, from
 * mkdtemp: six letters or digits).
 */
export function labTempFolders(prefix, tmp = os.tmpdir()) {
  const captures = new RegExp(`^${prefix}-[A-Za-z0-9]{6}$`);
  const own = new Set([`${prefix}-lab`, `${prefix}-logs`]);
  let names;
  try {
    names = readdirSync(tmp, { withFileTypes: true });
  } catch {
    return [];
  }
  return names
    .filter((e) => e.isDirectory() && (own.has(e.name) || captures.test(e.name)))
    .map((e) => path.join(tmp, e.name))
    .sort();
}

/**
 * FRR's run folders a BGP lab leaves: FRR started with `-N <namespace>`
 * creates `/var/run/frr/<namespace>` (test/lab/bgp.ts), i.e. `<prefix>-*`.
 */
export function frrRunFolders(prefix, runDir = '/var/run/frr') {
  try {
    return readdirSync(runDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name.startsWith(`${prefix}-`))
      .map((e) => path.join(runDir, e.name))
      .sort();
  } catch {
    return [];
  }
}

/**
 * Removes every namespace named `<prefix>-*` (killing what runs in it), every
 * root-namespace link whose name starts with prefix, and the lab's temporary
 * folders (FRR's run folders too). Returns what it removed.
 */
export async function cleanupStale(prefix, tmp = os.tmpdir(), frrRunDir = '/var/run/frr') {
  if (!/^[a-z][a-z0-9]{2,9}$/.test(prefix))
    throw new Error(`cleanupStale: prefix "${prefix}" is too short to be safe (3-10 lower-case letters/digits)`);
  const namespaces = (await ip(['netns', 'list']))
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(`${prefix}-`) || n === prefix);
  for (const ns of namespaces) {
    for (const pid of (await ip(['netns', 'pids', ns])).split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await ip(['netns', 'del', ns]);
  }
  const links = JSON.parse((await ip(['-j', 'link', 'show'])) || '[]')
    .map((l) => l.ifname)
    .filter((n) => n.startsWith(prefix));
  for (const link of links) await ip(['link', 'del', link]);
  const folders = [...labTempFolders(prefix, tmp), ...frrRunFolders(prefix, frrRunDir)];
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  return { namespaces, links, folders };
}
