// The FRR container's start script (speaker/frr-start.sh, ironlb-frr-start in
// the image) run in a node namespace: the speaker's FRR adapter applies a
// configuration through the sockets it opens, and the BIRD router gets the
// route. A daemon that dies takes the whole script down (the kubelet then
// restarts the container), and the script's own daemons go with it.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrrDaemon, runCommand, type CommandRunner } from '../../src/bgp/frr-daemon.js';
import { renderFrrConfig } from '../../src/bgp/frr-config.js';
import { planNode } from '../../src/bgp/plan.js';
import { BgpLab, ROUTER_IPV4 } from '../lab/bgp.js';
import { createLab, run, type Lab } from '../lab/lab.js';
import { waitFor } from '../lab/system.js';
import { oneRouter } from '../unit/bgp/fixtures.js';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'speaker', 'frr-start.sh');
const IP = '203.0.113.30';
const IP2 = '203.0.113.31';

let lab: Lab;
let bgp: BgpLab;

/** node1 peering with the router, announcing `ips`. */
function configFor(ips: string[]): string {
  const plan = planNode(oneRouter(lab.node(1).name, ips, { peerAddress: ROUTER_IPV4, connectTime: '1s' }));
  return renderFrrConfig(plan, { hostname: lab.node(1).name });
}
let dir: string;
let script: ChildProcess;

beforeAll(async () => {
  lab = await createLab({ nodes: 1 });
  bgp = new BgpLab(lab);
  dir = mkdtempSync(path.join(os.tmpdir(), `${lab.prefix}-frrsock-`));
  try {
    await bgp.startRouter({ asn: 64513, neighbors: [{ name: 'node1', address: lab.node(1).ipv4, asn: 64512 }] });
    script = lab.spawn(lab.node(1).name, 'sh', [SCRIPT], { env: { ...process.env, FRR_VTY_SOCKET: dir } });
  } catch (err) {
    await bgp.teardown();
    await lab.teardown();
    throw err;
  }
}, 120_000);

afterAll(async () => {
  if (script) await lab.kill(script, 'SIGKILL');
  // The daemons by their own pid files (the script is gone or killed).
  for (const daemon of ['zebra', 'bgpd', 'bfdd']) {
    try {
      process.kill(Number(readFileSync(path.join(dir, `${daemon}.pid`), 'utf8')), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await bgp?.teardown();
  await lab?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('speaker/frr-start.sh', () => {
  it("FRR's sockets in the shared folder (frrvty, setgid); the adapter applies; the router has the route", async () => {
    await waitFor('the three vty sockets', async () =>
      ['zebra', 'bgpd', 'bfdd'].every((d) => {
        try {
          return statSync(path.join(dir, `${d}.vty`)).isSocket();
        } catch {
          return false;
        }
      })
        ? true
        : undefined,
    );
    const folder = statSync(dir);
    const frrvty = Number(/^frrvty:x:(\d+):/m.exec(readFileSync('/etc/group', 'utf8'))?.[1]);
    expect(folder.gid).toBe(frrvty);
    expect(folder.mode & 0o7777).toBe(0o2775);

    await new FrrDaemon({ socketDir: dir }).apply(configFor([IP]));
    await waitFor(
      'the route on the router',
      async () => ((await bgp.nextHops(`${IP}/32`)).length === 1 ? true : undefined),
      30_000,
    );
    expect(await bgp.nextHops(`${IP}/32`)).toEqual([lab.node(1).ipv4]);
  });

  it('the speaker as deploy/bgp runs it (root, NET_RAW only, group frrvty) reads and applies', async () => {
    const frrvty = /^frrvty:x:(\d+):/m.exec(readFileSync('/etc/group', 'utf8'))?.[1] ?? '';
    // Every capability but NET_RAW gone from the bounding set: no DAC_OVERRIDE, as in the pod.
    const asSpeaker: CommandRunner = (command, args, timeoutMs) =>
      runCommand('setpriv', ['--bounding-set', '-all,+net_raw', '--groups', frrvty, '--', command, ...args], timeoutMs);
    const caps = await asSpeaker('sh', ['-c', 'grep CapEff /proc/self/status'], 10_000);
    expect(caps.stdout.trim()).toBe('CapEff:\t0000000000002000'); // CAP_NET_RAW (13) only
    const denied = await runCommand(
      'setpriv',
      ['--bounding-set', '-all,+net_raw', '--clear-groups', '--', 'vtysh', '--vty_socket', dir, '-c', 'show version'],
      10_000,
    );
    expect(`${denied.stdout}${denied.stderr}`).toMatch(/Permission denied|failed to connect|Exiting/i);

    const speaker = new FrrDaemon({ socketDir: dir, run: asSpeaker });
    expect((await speaker.sessions()).get(ROUTER_IPV4)?.peer).toBe('tor');
    await speaker.apply(configFor([IP, IP2]));
    await waitFor(
      'the second route on the router',
      async () => ((await bgp.nextHops(`${IP2}/32`)).length === 1 ? true : undefined),
      30_000,
    );
  });

  it('a daemon killed: the script stops the others and exits non-zero', async () => {
    const bgpd = Number(readFileSync(path.join(dir, 'bgpd.pid'), 'utf8'));
    const zebra = Number(readFileSync(path.join(dir, 'zebra.pid'), 'utf8'));
    const exited = new Promise<number | null>((resolve) => script.once('exit', (code) => resolve(code)));
    process.kill(bgpd, 'SIGKILL');
    expect(await exited).toBe(1);
    await waitFor('zebra gone', async () =>
      (await run('kill', ['-0', String(zebra)], true)).code !== 0 ? true : undefined,
    );
    await waitFor('the route withdrawn', async () =>
      (await bgp.nextHops(`${IP}/32`)).length === 0 ? true : undefined,
    );
  });
});
