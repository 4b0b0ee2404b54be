// The lab's command wrapper: a command that cannot start is an error of its
// own, at once, even where a non-zero exit is allowed (no root needed here;
// the namespace cases are in test/e2e/l2-lab.test.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertRunnable, CannotStartError, run } from './lab.js';
import { waitFor } from './system.js';

const MISSING = 'ironlb-no-such-command';
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('run', () => {
  it('reports a command that is not installed as that, even when a failure is allowed', async () => {
    await expect(run(MISSING, ['-c', '1'], true)).rejects.toThrow(
      `cannot start "${MISSING}": ENOENT; is it installed? \`node test/setup/tools.mjs lab\``,
    );
    await expect(run(MISSING, [])).rejects.toBeInstanceOf(CannotStartError);
  });

  it('output over the buffer limit is not mistaken for a command that cannot start', async () => {
    const big = run(process.execPath, ['-e', 'process.stdout.write("x".repeat(65 * 1024 * 1024))'], true);
    await expect(big).resolves.toMatchObject({ code: 1 });
  });

  it('still returns a non-zero exit of a command that did start, when allowed', async () => {
    const result = await run(process.execPath, ['-e', 'process.stderr.write("no"); process.exit(3)'], true);
    expect(result).toEqual({ stdout: '', stderr: 'no', code: 3 });
    await expect(run(process.execPath, ['-e', 'process.exit(3)'])).rejects.toThrow(/failed \(3\)/);
  });

  it('reports a file that is not executable as a command that cannot start', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ironlb-run-test-'));
    const file = path.join(dir, 'tool');
    writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
    expect(() => assertRunnable(file)).toThrow(`cannot start "${file}": no executable file there`);
    expect(() => assertRunnable(MISSING, ' in namespace x')).toThrow(
      `cannot start "${MISSING}" in namespace x: not found on PATH`,
    );
    expect(() => assertRunnable(process.execPath)).not.toThrow();
  });

  it('ends a wait at once when the check cannot start its command, instead of timing out', async () => {
    let tries = 0;
    const waiting = waitFor(
      'an answer',
      async () => {
        tries++;
        await run(MISSING, [], true);
        return 'never';
      },
      600_000,
    );
    await expect(waiting).rejects.toThrow(`cannot start "${MISSING}"`);
    expect(tries).toBe(1);
  });
});
