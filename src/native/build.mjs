// Builds build/Release/ironlb_packet.node (run by `npm ci` / `npm install`).
// Uses the Node headers installed next to the running node when they exist, so
// the build needs no download (and matches the runtime exactly); otherwise
// node-gyp fetches the headers for this Node version as usual.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const prefix = path.resolve(path.dirname(process.execPath), '..');
const args = ['rebuild'];
if (existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

// npm puts its bundled node-gyp on PATH while running scripts; outside npm,
// fall back to the copy bundled with npm next to this node.
const bundled = path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const viaPath = spawnSync('node-gyp', args, { stdio: 'inherit' });
let status = viaPath.status;
if (viaPath.error && existsSync(bundled)) {
  status = spawnSync(process.execPath, [bundled, ...args], { stdio: 'inherit' }).status;
} else if (viaPath.error) {
  console.error(`ironlb: cannot run node-gyp (${viaPath.error.message}); install node-gyp or build tools`);
  status = 1;
}
process.exit(status ?? 1);
