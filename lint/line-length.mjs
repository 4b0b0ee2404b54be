// Fails when a source line is longer than 120 characters. Biome's formatter
// wraps code at that width, but it cannot wrap a comment, a string or a
// template literal, and Biome has no max-length rule: this check covers them.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX = 120;
// The repository, or the folder given (the test points it at a temporary one).
const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));
const skip = new Set(['.git', 'node_modules', 'dist', 'build']);
const checked = /\.(ts|mts|mjs|cc|h)$/;

function* files(dir) {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (skip.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (checked.test(entry.name)) yield path;
  }
}

let long = 0;
for (const path of files(root)) {
  const lines = readFileSync(path, 'utf8').split('\n');
  for (const [i, line] of lines.entries()) {
    // Code points, not UTF-16 units: '—' is one character on screen.
    const width = [...line].length;
    if (width <= MAX) continue;
    long++;
    console.log(`${relative(root, path)}:${i + 1}: ${width} characters (max ${MAX})`);
  }
}
if (long > 0) {
  console.log(`${long} line(s) over ${MAX} characters`);
  process.exit(1);
}
