// `npm run lab` runs as a newcomer would run it (the built demo, as a
// process): it shows an IP answered on the wire by the owner's MAC, a
// measured failover to another node, and leaves nothing behind.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { run } from '../lab/lab.js';

const execFileAsync = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const demo = path.join(root, 'dist', 'test', 'lab', 'demo.js');

async function runDemo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(demo)) throw new Error(`${demo} is missing: run \`npm run build\` first`);
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [demo, ...args], { timeout: 150_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('npm run lab', () => {
  it('refuses an unknown argument and a --kubeconfig without a file, with the usage', async () => {
    const unknown = await runDemo(['--fast']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown argument "--fast"');
    expect(unknown.stderr).toContain('usage: npm run lab');
    const missing = await runDemo(['--kubeconfig']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--kubeconfig needs a file');
  });

  it('shows the IP answered by the owner, fails over to another node, measures it and tears down', async () => {
    const result = await runDemo([]);
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

    const namespaces = await run('ip', ['netns', 'list']);
    expect(namespaces.stdout.split('\n').filter((l) => l.startsWith('ironlb-'))).toEqual([]);
  }, 200_000);
});
