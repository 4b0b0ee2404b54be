// `npm run lab` runs as a newcomer would run it (test/lab/start.mjs, the
// process npm starts): it shows an IP answered on the wire by the owner's MAC,
// a measured failover to another node, and leaves nothing behind; SIGTERM to
// npm's own pid or SIGINT mid-run tear the lab down; --down removes what a
// killed run left. With --bgp: the router's ECMP route, the client's traffic
// through it, and the withdrawals with the router's own reasons. dist/ is
// built by `npm test` first, so these runs set IRONLB_LAB_BUILT=1 instead of
// compiling it again under the other tests' feet.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { frrRunFolders } from '../lab/down.mjs';
import { run } from '../lab/lab.js';

const execFileAsync = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = path.join(root, 'test', 'lab', 'start.mjs');
const demo = path.join(root, 'dist', 'test', 'lab', 'demo.js');
const env = { ...process.env, IRONLB_LAB_BUILT: '1' };

async function runLab(args: string[], timeout = 150_000): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(demo)) throw new Error(`${demo} is missing: run \`npm run build\` first`);
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [entry, ...args], {
      env,
      timeout,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A running lab process: its output so far, a wait for a line, its exit. */
function startLab(
  command: string,
  args: string[],
): {
  child: ChildProcess;
  output: () => string;
  printed: (text: string) => Promise<void>;
  exited: Promise<number | null>;
} {
  if (!existsSync(demo)) throw new Error(`${demo} is missing: run \`npm run build\` first`);
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const w of waiters.filter((w) => text.includes(w.text))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const printed = (wanted: string) =>
    text.includes(wanted)
      ? Promise.resolve()
      : Promise.race([
          new Promise<void>((resolve) => waiters.push({ text: wanted, resolve })),
          exited.then((code) => Promise.reject(new Error(`exited (${code}) before printing "${wanted}":\n${text}`))),
        ]);
  return { child, output: () => text, printed, exited };
}

async function labNamespaces(): Promise<string[]> {
  const namespaces = await run('ip', ['netns', 'list']);
  return namespaces.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith('ironlb-'));
}

/** The lab's temporary folders: ironlb-lab and ironlb-XXXXXX in the temp dir. */
function labFolders(): string[] {
  return readdirSync(os.tmpdir()).filter((n) => n === 'ironlb-lab' || /^ironlb-[A-Za-z0-9]{6}$/.test(n));
}

let running: ChildProcess | undefined;
afterEach(async () => {
  if (running?.exitCode === null && running.signalCode === null) {
    running.kill('SIGKILL');
    await runLab(['--down']);
  }
  running = undefined;
});

describe('npm run lab', () => {
  it('shows the IP answered by the owner, fails over to another node, measures it and tears down', async () => {
    const result = await runLab([]);
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;

    const ip = /The controller assigned (192\.0\.2\.\d+)/.exec(out)?.[1];
    expect(ip).toBeDefined();
    expect(Number(ip!.split('.')[3])).toBeGreaterThanOrEqual(200);
    const owner = /names the owner: (\S+) \(MAC ([0-9a-f:]{17})\)/.exec(out);
    expect(owner).not.toBeNull();
    // arping prints upper-case MACs.
    const replies = [...out.matchAll(/reply from \S+ \[([0-9A-F:]{17})\]/g)].map((m) => m[1]!.toLowerCase());
    expect(replies.length).toBeGreaterThan(0);
    expect(new Set(replies)).toEqual(new Set([owner![2]]));

    const next = /new owner: (\S+) \(MAC ([0-9a-f:]{17})\)/.exec(out);
    expect(next).not.toBeNull();
    expect(next![1]).not.toBe(owner![1]);
    const reply = Number(/first ping reply through the new owner:\s+(\d+) ms/.exec(out)?.[1]);
    const gap = Number(/longest gap in ping replies \(100\/s\):\s+(\d+) ms/.exec(out)?.[1]);
    expect(reply).toBeGreaterThan(0);
    expect(gap).toBeGreaterThan(0);
    expect(out).toContain(`lladdr ${next![2]}`);

    expect(await labNamespaces()).toEqual([]);
    expect(labFolders()).toEqual([]);
  }, 200_000);

  it('--bgp: a next hop per node on the router, traffic from the client behind it, withdrawals measured', async () => {
    const result = await runLab(['--bgp'], 300_000);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/the controller assigned 192\.0\.2\.2\d\d\n/);
    const ecmp = out.slice(out.indexOf('== 3.'), out.indexOf('== 4.'));
    expect([...ecmp.matchAll(/nexthop via (\S+) dev eth0/g)].map((m) => m[1])).toEqual([
      '192.0.2.11',
      '192.0.2.12',
      '192.0.2.13',
    ]);
    expect(out).toMatch(/ping -c 3 192\.0\.2\.\d+\n {2}3\/3 replies/);
    expect(out).toMatch(/answers in the last second, by the node that answered: ironlb-node\d \d+/);
    const withdrawn = [...out.matchAll(/the router withdrew (\S+) \((\S+)\) \d+ ms after it/g)].map((m) => m[2]);
    expect(withdrawn).toEqual(['ironlb-node2', 'ironlb-node3', 'ironlb-node1']);
    // The router's own reasons: BFD for node2, the hold timer for node3, the closed socket for node1.
    expect(out).toMatch(/session with ironlb-node2: .*BFD session down/);
    expect(out).toMatch(/session with ironlb-node3: .*Hold timer expired/);
    expect(out).toMatch(/session with ironlb-node1: .*Connection closed/);
    expect([...out.matchAll(/flow\(s\) were on \S+; all answered again through/g)]).toHaveLength(3);
    expect(out).toContain('the speaker saw it and configured it again');
    expect(await labNamespaces()).toEqual([]);
    expect(labFolders()).toEqual([]);
    expect(frrRunFolders('ironlb')).toEqual([]);
  }, 320_000);

  it('with --keep stays up until SIGTERM reaches npm itself, then tears down and exits 0', async () => {
    const npm = existsSync(path.join(path.dirname(process.execPath), 'npm'))
      ? path.join(path.dirname(process.execPath), 'npm')
      : 'npm';
    const lab = startLab(npm, ['run', 'lab', '--', '--keep']);
    running = lab.child;
    await lab.printed('The lab stays up');
    expect(await labNamespaces()).not.toEqual([]);
    lab.child.kill('SIGTERM'); // npm's pid, as `kill <pid of npm run lab>` would
    expect(await lab.exited, lab.output()).toBe(0);
    expect(lab.output()).toContain('SIGTERM: stopping');
    expect(lab.output()).toContain('the lab is removed');
    expect(await labNamespaces()).toEqual([]);
    expect(labFolders()).toEqual([]);
  }, 200_000);

  it('SIGINT in the middle of the demo tears the lab down and exits 130', async () => {
    const lab = startLab(process.execPath, [entry]);
    running = lab.child;
    await lab.printed('== 2. Applying the samples');
    lab.child.kill('SIGINT');
    expect(await lab.exited, lab.output()).toBe(130);
    expect(lab.output()).toContain('stopped by SIGINT');
    expect(lab.output()).not.toContain('== 4.');
    expect(await labNamespaces()).toEqual([]);
    expect(labFolders()).toEqual([]);
  }, 200_000);

  it("--down removes a killed run's namespaces, their processes and its temp folders, nothing else", async () => {
    expect(await labNamespaces(), 'another lab is up').toEqual([]);
    await run('ip', ['netns', 'add', 'ironlb-node1']);
    const sleeper = spawn('ip', ['netns', 'exec', 'ironlb-node1', 'sleep', '600'], { stdio: 'ignore' });
    const sleeperGone = new Promise((resolve) => sleeper.once('exit', resolve));
    const logs = path.join(os.tmpdir(), 'ironlb-lab');
    mkdirSync(path.join(logs, 'ironlb-apiserver-abc123'), { recursive: true });
    writeFileSync(path.join(logs, 'controller.log'), 'x');
    const captures = mkdtempSync(path.join(os.tmpdir(), 'ironlb-'));
    const notTheLabs = mkdtempSync(path.join(os.tmpdir(), 'ironlb-apiserver-'));
    try {
      const result = await runLab(['--down']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('removed namespaces: ironlb-node1');
      expect(result.stdout).toContain(`removed folders: ${[captures, logs].sort().join(' ')}`);
      expect(result.stdout).not.toContain('compiling');
      await sleeperGone;
      expect(await labNamespaces()).toEqual([]);
      expect(existsSync(logs) || existsSync(captures)).toBe(false);
      expect(existsSync(notTheLabs)).toBe(true);
    } finally {
      rmSync(notTheLabs, { recursive: true, force: true });
      await run('ip', ['netns', 'del', 'ironlb-node1'], true);
    }
  }, 60_000);
});
