// The two checks of `npm run lint` that are this repository's own: the
// 120-character line check and the GritQL rule against conditional spreads.
// Each is run as `npm run lint` runs it, on files made here, so a check that
// stopped finding anything would fail this test rather than pass in silence.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string | undefined;

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function tree(files: Record<string, string>): string {
  dir = mkdtempSync(path.join(tmpdir(), 'ironlb-lint-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function lineLength(folder: string) {
  const r = spawnSync(process.execPath, [path.join(root, 'lint', 'line-length.mjs'), folder], { encoding: 'utf8' });
  return { code: r.status, lines: r.stdout.trimEnd().split('\n') };
}

describe('lint/line-length.mjs', () => {
  it('names each line over 120 characters in ts/mts/mjs/cc/h files, and fails', () => {
    const folder = tree({
      'a.ts': `const ok = 1;\n// ${'x'.repeat(117)}\n`,
      'sub/b.mjs': `// ${'y'.repeat(119)}\n`,
      'c.cc': `// ${'z'.repeat(200)}\n`,
      'notes.md': `${'w'.repeat(200)}\n`,
      'node_modules/d.ts': `// ${'v'.repeat(200)}\n`,
    });
    expect(lineLength(folder)).toEqual({
      code: 1,
      lines: [
        'c.cc:1: 203 characters (max 120)',
        'sub/b.mjs:1: 122 characters (max 120)',
        '2 line(s) over 120 characters',
      ],
    });
  });

  it('counts characters, not UTF-16 units: 120 astral characters pass', () => {
    const folder = tree({ 'a.ts': `// ${'𝑥'.repeat(117)}\n` });
    expect(lineLength(folder)).toEqual({ code: 0, lines: [''] });
  });
});

describe('lint/conditional-spread.grit (through biome.json)', () => {
  it('flags `...(c ? { x } : {})` and accepts it under a biome-ignore that gives a reason', () => {
    const folder = tree({
      'spread.ts': 'export const f = (a?: string) => ({ ...(a ? { a } : {}) });\n',
      'kept.ts':
        'export function f(a?: string) {\n' +
        '  // biome-ignore lint/plugin/conditional-spread: an absent key differs here\n' +
        '  return { ...(a ? { a } : {}) };\n' +
        '}\n',
      'plain.ts': 'export const f = (a?: string) => ({ a });\n',
    });
    const biome = path.join(root, 'node_modules', '.bin', 'biome');
    const args = ['lint', `--config-path=${path.join(root, 'biome.json')}`, '--vcs-enabled=false', '--reporter=github'];
    const r = spawnSync(biome, [...args, 'spread.ts', 'kept.ts', 'plain.ts'], { cwd: folder, encoding: 'utf8' });
    const findings = r.stdout.split('\n').filter((l) => l.startsWith('::'));
    expect(findings.map((l) => /file=[^,]*\/([^/,]+),line=(\d+)/.exec(l)?.slice(1).join(':'))).toEqual(['spread.ts:1']);
    expect(findings[0]).toContain('title=plugin');
    expect(r.status).toBe(1);
  });
});
