// Benchmark runner: `npm run bench -- <name> [<name>...]` imports ./<name>.js
// (compiled to dist/test/bench/) and calls its `run()`. It prints each result as
// a table and ends with one JSON line holding every result, keyed by name.
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface BenchModule {
  run: () => Promise<object>;
}

const here = dirname(fileURLToPath(import.meta.url));
const NAME = /^[a-z0-9-]+$/;

function availableBenches(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.js') && f !== 'run.js')
    .map((f) => f.slice(0, -'.js'.length))
    .sort();
}

function flatten(value: unknown, prefix: string, rows: Array<[string, string]>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, rows);
  } else {
    rows.push([prefix, typeof value === 'number' && !Number.isInteger(value) ? value.toPrecision(4) : String(value)]);
  }
}

function printTable(name: string, result: object): void {
  const rows: Array<[string, string]> = [];
  flatten(result, '', rows);
  const width = Math.max(...rows.map(([key]) => key.length), 6);
  console.log(`\n== ${name} ==`);
  for (const [key, value] of rows) console.log(`${key.padEnd(width)}  ${value}`);
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  const names = requested.length > 0 ? requested : availableBenches();
  const known = availableBenches();
  for (const name of names) {
    if (!NAME.test(name) || !known.includes(name)) {
      console.error(`unknown benchmark "${name}"; available: ${known.join(', ')}`);
      process.exit(2);
    }
  }
  const results: Record<string, object> = {};
  for (const name of names) {
    const module = (await import(pathToFileURL(`${here}/${name}.js`).href)) as BenchModule;
    const result = await module.run();
    results[name] = result;
    printTable(name, result);
  }
  console.log(JSON.stringify(results));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
