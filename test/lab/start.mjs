// `npm run lab`: the one process a user starts (package.json runs it with
// `exec`, so npm's signal reaches it). It reads the arguments and answers a
// bad one or --down at once, before compiling anything; otherwise it checks
// the lab's tools (test/setup/tools.mjs), compiles with tsc, and runs the
// demo (dist/test/lab/demo.js). SIGINT or SIGTERM at any point stops it: tsc
// is stopped, or the demo tears the lab down.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { main as checkTools } from '../setup/tools.mjs';
import { cleanupStale } from './down.mjs';

/** The demo's lab prefix (PREFIX in demo.ts). */
export const PREFIX = 'ironlb';
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const USAGE = `usage: npm run lab [-- --bgp] [-- --keep] [-- --kubeconfig FILE] | npm run lab -- --down
  (no flag)          build the lab, show an IP answered on the wire, fail over, tear down
  --bgp              BGP mode instead: a BIRD router peering with every node's FRR, a client behind
                     it; show the ECMP route, the client's traffic, and a node's link cut withdrawn
                     by BFD and by the hold time, measured
  --keep             leave everything running to explore; Ctrl-C (or SIGTERM) tears it down
  --kubeconfig FILE  use this real API server instead of the double (speakers still run in the lab)
  --down             remove a lab left over by a crashed or killed demo: namespaces and links
                     ${PREFIX}-*, their processes, and its temporary folders ${PREFIX}-lab, ${PREFIX}-XXXXXX
  --help             this text
As root, missing tools (ip, arping, ndisc6, ping, tcpdump, ...) are installed with apt-get first.`;

/** The arguments as { help, down, keep, bgp, kubeconfig? }; a bad one throws with the usage. */
export function parseLabArgs(argv) {
  const args = { help: false, down: false, keep: false, bgp: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--keep') args.keep = true;
    else if (arg === '--bgp') args.bgp = true;
    else if (arg === '--down') args.down = true;
    else if (arg === '--help' || arg === '-h') args.help = true;
    else if (arg === '--kubeconfig') {
      const file = argv[++i];
      if (file === undefined || file === '') throw new Error(`--kubeconfig needs a file\n${USAGE}`);
      args.kubeconfig = file;
    } else if (arg.startsWith('--kubeconfig=')) {
      args.kubeconfig = arg.slice('--kubeconfig='.length);
      if (args.kubeconfig === '') throw new Error(`--kubeconfig needs a file\n${USAGE}`);
    } else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  if (args.down && (args.keep || args.bgp || args.kubeconfig !== undefined))
    throw new Error(`--down takes no other flag\n${USAGE}`);
  if (args.kubeconfig !== undefined && !existsSync(args.kubeconfig))
    throw new Error(`--kubeconfig: ${args.kubeconfig} does not exist`);
  return args;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs tsc on the repository; resolves its exit code (a signal while it runs stops it). */
function compile(stop) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  console.log('compiling (tsc -p tsconfig.json)...');
  const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  const onStop = () => child.kill('SIGTERM');
  stop.addEventListener('abort', onStop, { once: true });
  return new Promise((resolve) => {
    child.once('error', (err) => {
      console.error(`cannot run tsc: ${err.message}`);
      resolve(1);
    });
    child.once('exit', (code) => {
      stop.removeEventListener('abort', onStop);
      resolve(code ?? 1);
    });
  });
}

const exitCodeOf = (signal) => 128 + (os.constants.signals[signal] ?? 0);

/** Returns the exit status. */
export async function main(argv, env = process.env) {
  let args;
  try {
    args = parseLabArgs(argv);
  } catch (err) {
    console.error(err.message);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }

  // One signal path from here on: the first SIGINT/SIGTERM stops whatever runs.
  // Later ones are ignored (a Ctrl-C in a terminal reaches this process twice:
  // from the terminal and forwarded by npm) so the teardown is never cut short.
  const stop = new AbortController();
  const onSignal = (signal) => {
    if (stop.signal.aborted) return;
    console.log(`\n${signal}: stopping`);
    stop.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (args.down) {
    if (!isRoot()) {
      console.error(
        'npm run lab -- --down needs root: it deletes network namespaces and links. ' +
          'Run it as root, e.g. `sudo npm run lab -- --down`.',
      );
      return 1;
    }
    const removed = await cleanupStale(PREFIX);
    const list = (items) => (items.length === 0 ? 'none' : items.join(' '));
    console.log(`removed namespaces: ${list(removed.namespaces)}`);
    console.log(`removed links: ${list(removed.links)}`);
    console.log(`removed folders: ${list(removed.folders)}`);
    return 0;
  }

  const tools = checkTools('lab', env);
  if (tools !== 0) return tools;
  if (stop.signal.aborted) return exitCodeOf(stop.signal.reason);
  // IRONLB_LAB_BUILT=1: dist/ is already built by this very checkout (npm test
  // builds first; its e2e tests run the lab without compiling it twice).
  if (!env.IRONLB_LAB_BUILT) {
    const built = await compile(stop.signal);
    if (stop.signal.aborted) return exitCodeOf(stop.signal.reason);
    if (built !== 0) {
      console.error(`npm run lab: compiling failed (tsc exit ${built})`);
      return 1;
    }
  }
  const demo = await import(pathToFileURL(path.join(ROOT, 'dist', 'test', 'lab', 'demo.js')).href);
  try {
    return await demo.runDemo(
      { keep: args.keep, bgp: args.bgp, kubeconfig: args.kubeconfig || undefined },
      stop.signal,
    );
  } catch (err) {
    console.error(`\nnpm run lab failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // exit() rather than exitCode: pieces of an interrupted demo may still hold the event loop.
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
