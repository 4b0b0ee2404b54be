// The lab itself: host access for an API server double, teardown and
// stale-run cleanup by name, and clear errors for bad options.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { cleanupStale } from '../lab/down.mjs';
import { CannotStartError, createLab, defaultPrefix, run, ROOT_ACCESS_IPV4 } from '../lab/lab.js';

async function namespacesWith(prefix: string): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(prefix));
}

async function rootLinksWith(prefix: string): Promise<string[]> {
  const out = await run('ip', ['-j', 'link', 'show']);
  return (JSON.parse(out.stdout) as Array<{ ifname: string }>).map((l) => l.ifname).filter((n) => n.startsWith(prefix));
}

describe('lab', () => {
  it('with host access a node reaches a server on the host at 198.51.100.1; teardown removes everything', async () => {
    const lab = await createLab({ nodes: 2, hostAccess: true });
    const server = createServer((socket) => socket.end('hello from the host\n'));
    try {
      await new Promise<void>((resolve) => server.listen(0, ROOT_ACCESS_IPV4, resolve));
      const port = (server.address() as { port: number }).port;
      const connect = `require('net').connect(${port}, '${ROOT_ACCESS_IPV4}')`;
      const script = `${connect}.on('data', (d) => process.stdout.write(d))`;
      const out = await lab.exec(lab.node(2).name, [process.execPath, '-e', script]);
      expect(out.stdout).toBe('hello from the host\n');
      expect(await namespacesWith(lab.prefix)).toHaveLength(4);
      expect(await rootLinksWith(lab.prefix)).toEqual([lab.hostLink]);
    } finally {
      server.close();
      await lab.teardown();
    }
    expect(await namespacesWith(lab.prefix)).toEqual([]);
    expect(await rootLinksWith(lab.prefix)).toEqual([]);
  });

  it('teardown kills the processes it started', async () => {
    const lab = await createLab({ nodes: 1 });
    const child = lab.spawn(lab.node(1).name, 'sleep', ['600']);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await lab.teardown();
    await exited;
    expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
  });

  it('a command that cannot start inside a namespace is that error at once, for exec and spawn', async () => {
    const lab = await createLab({ nodes: 1 });
    try {
      const ns = lab.node(1).name;
      // `ip netns exec` itself starts, prints `exec of "..." failed` and exits non-zero.
      await expect(lab.exec(ns, ['ironlb-no-such-command', '-c', '1'])).rejects.toThrow(
        `cannot start "ironlb-no-such-command" in namespace ${ns}: No such file or directory`,
      );
      await expect(lab.exec(ns, ['ironlb-no-such-command'])).rejects.toBeInstanceOf(CannotStartError);
      expect(() => lab.spawn(ns, 'ironlb-no-such-command', [])).toThrow(
        `cannot start "ironlb-no-such-command" in namespace ${ns}: not found on PATH`,
      );
      // A command that starts and fails is still an allowed result.
      expect((await lab.exec(ns, ['sh', '-c', 'exit 255'])).code).toBe(255);
    } finally {
      await lab.teardown();
    }
  });

  it('cleanupStale removes by prefix what a crashed run left: namespaces, processes, temp folders', async () => {
    const prefix = defaultPrefix();
    const lab = await createLab({ nodes: 2, prefix }); // never torn down: a "crash"
    const child = lab.spawn(lab.node(1).name, 'sleep', ['600']);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const captures = lab.tmp;
    expect(existsSync(captures)).toBe(true);
    expect(await namespacesWith(prefix)).toHaveLength(4);
    const removed = await cleanupStale(prefix);
    expect(removed.namespaces.sort()).toEqual([
      `${prefix}-client`,
      `${prefix}-lan`,
      `${prefix}-node1`,
      `${prefix}-node2`,
    ]);
    expect(removed.folders).toEqual([captures]);
    expect(await namespacesWith(prefix)).toEqual([]);
    expect(existsSync(captures)).toBe(false);
    await exited;
  });

  it('rejects bad options with the reason', async () => {
    await expect(createLab({ nodes: 0 })).rejects.toThrow(/nodes must be an integer from 1 to 80, got 0/);
    await expect(createLab({ nodes: 1.5 })).rejects.toThrow(/nodes must be an integer/);
    await expect(createLab({ nodes: 1, prefix: 'this-prefix-is-too-long' })).rejects.toThrow(
      /prefix "this-prefix-is-too-long" must be 1-10/,
    );
    await expect(createLab({ nodes: 1, prefix: 'Bad' })).rejects.toThrow(/must be 1-10 lower-case/);
    await expect(cleanupStale('il')).rejects.toThrow(/too short to be safe/);
  });
});
