// npm run crds: writes deploy/crds/*.yaml from the schema source in
// src/api/schema/ (compiled to dist/ by `npm run build` first).
//   node deploy/crds.mjs            write the files
//   node deploy/crds.mjs --check    exit 1 naming the files that differ
//   node deploy/crds.mjs --out DIR  write (or check) DIR instead
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const check = args.includes('--check');
const outAt = args.indexOf('--out');
const dir = outAt >= 0 ? args[outAt + 1] : join(here, 'crds');
if (
  !dir ||
  args.some((a) => a.startsWith('-') && a !== '--check' && a !== '--out') ||
  (outAt >= 0 && outAt + 1 >= args.length)
) {
  console.error('usage: node deploy/crds.mjs [--check] [--out DIR]');
  process.exit(2);
}

const { renderCrdFiles, driftedFiles } = await import('../dist/src/api/schema/crds.js');
const rendered = renderCrdFiles();
mkdirSync(dir, { recursive: true });
const committed = new Map(
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
);
const drifted = driftedFiles(rendered, committed);

if (check) {
  if (drifted.length > 0) {
    console.error(`deploy/crds differs from src/api/schema in: ${drifted.join(', ')}; run npm run crds`);
    process.exit(1);
  }
  console.log(`${rendered.size} files match src/api/schema`);
} else {
  for (const file of drifted) {
    const text = rendered.get(file);
    if (text === undefined) rmSync(join(dir, file));
    else writeFileSync(join(dir, file), text);
  }
  console.log(drifted.length === 0 ? 'deploy/crds is up to date' : `wrote ${drifted.join(', ')}`);
}
