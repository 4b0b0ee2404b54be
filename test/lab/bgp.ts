// BGP in the lab: a router namespace running BIRD 2, the witness, and FRR
// (zebra, bgpd, bfdd) in node namespaces, fed the configuration ironlb's
// generator writes. Two implementations, so the judge shares no code with
// what it judges. Added beside a Lab (test/lab/lab.ts), torn down by name:
//
//   <p>-router  eth0 192.0.2.254/24 and 2001:db8::fe/64 on the lab bridge, BIRD with its own
//               config, control socket and pid file in the BGP temp folder,
//               installing what it learns into its own kernel table with
//               `merge paths on` (ECMP: one next hop per announcing node)
//   <p>-node<i> one FRR per namespace (`-N <namespace>`), each daemon with its
//               own vty socket folder, zebra socket and pid file
//
// The temp folder is `<prefix>-XXXXXX`, like the lab's own, so `npm run lab --
// --down` finds it after a crash.
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, type Lab, type LabNode } from './lab.js';
import { GiveUp, waitFor } from './system.js';

export const ROUTER_IPV4 = '192.0.2.254';
export const ROUTER_IPV6 = '2001:db8::fe';
/** The network behind the router (`<p>-outside`): the router's side and the outside client. */
export const OUTSIDE_ROUTER_IPV4 = '203.0.113.1';
export const OUTSIDE_CLIENT_IPV4 = '203.0.113.100';
export const OUTSIDE_NET_IPV4 = '203.0.113.0/24';
export const FRR_DIR = '/usr/lib/frr';
/** Package frr-pythontools; applies only the difference between the running and a new configuration. */
export const FRR_RELOAD = path.join(FRR_DIR, 'frr-reload.py');
/** FRR's daemons drop to this user; their folders must be theirs. */
const FRR_USER = 'frr';

export interface RouterNeighbor {
  /** BIRD protocol name, e.g. the node's short name. */
  name: string;
  address: string;
  asn: number;
  password?: string;
  bfd?: boolean;
  /**
   * An iBGP session from a second router address, into a BIRD table of its
   * own (`ibgp4`) so its routes never reach the kernel or the ECMP route.
   * BIRD locks a session by neighbour address and port, so a second session
   * with the same node needs a port of its own (on both ends).
   */
  ibgp?: { localAddress: string; port: number };
}

/** The BIRD table holding the iBGP neighbours' routes. */
export const IBGP_TABLE = 'ibgp4';

export interface RouterOptions {
  asn: number;
  neighbors: RouterNeighbor[];
  /** BFD timers the router offers (ms); MetalLB's defaults. */
  bfdIntervalMs?: number;
  bfdMultiplier?: number;
}

export interface ProtocolState {
  name: string;
  proto: string;
  state: string;
  /** When the state last changed, as BIRD prints it. */
  since: string;
  info: string;
}

export interface FrrInstance {
  node: LabNode;
  dir: string;
  /** The daemons by name, as started (their pids are the daemons' own: `ip netns exec` execs). */
  daemons: Map<'zebra' | 'bgpd' | 'bfdd', ChildProcess>;
}

/** BIRD 2's configuration for the router: BGP from every node, BFD where asked, ECMP into the kernel. */
export function birdConfig(options: RouterOptions, logFile: string): string {
  const interval = options.bfdIntervalMs ?? 300;
  const lines = [
    `router id ${ROUTER_IPV4};`,
    `log "${logFile}" all;`,
    'protocol device { scan time 10; }',
    'protocol kernel kernel4 {',
    '  ipv4 { import none; export all; };',
    '  merge paths on;',
    '}',
    'protocol kernel kernel6 {',
    '  ipv6 { import none; export all; };',
    '  merge paths on;',
    '}',
    'protocol bfd {',
    `  interface "eth0" { min rx interval ${interval} ms; min tx interval ${interval} ms; ` +
      `multiplier ${options.bfdMultiplier ?? 3}; };`,
    '}',
    'template bgp node {',
    `  local ${ROUTER_IPV4} as ${options.asn};`,
    '  connect delay time 1; connect retry time 1; error wait time 1, 2;',
    '  ipv4 { import all; export none; };',
    '}',
    // IPv6 sessions: the node's global address as the next hop (not its link-local one), so routes name the node.
    'template bgp node6 {',
    `  local ${ROUTER_IPV6} as ${options.asn};`,
    '  connect delay time 1; connect retry time 1; error wait time 1, 2;',
    '  ipv6 { import all; export none; next hop prefer global; };',
    '}',
  ];
  if (options.neighbors.some((n) => n.ibgp)) lines.push(`ipv4 table ${IBGP_TABLE};`);
  for (const n of options.neighbors) {
    lines.push(
      `protocol bgp ${n.name} from ${n.address.includes(':') ? 'node6' : 'node'} {`,
      `  neighbor ${n.address}${n.ibgp ? ` port ${n.ibgp.port}` : ''} as ${n.asn};`,
    );
    if (n.ibgp) {
      lines.push(
        `  local ${n.ibgp.localAddress} port ${n.ibgp.port} as ${n.asn};`,
        '  direct;',
        `  ipv4 { table ${IBGP_TABLE}; gateway direct; import all; export none; };`,
      );
    }
    if (n.password !== undefined) lines.push(`  password "${n.password}";`);
    if (n.bfd) lines.push('  bfd on;');
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}

export class BgpLab {
  readonly router: string;
  readonly dir: string;
  private readonly frr: FrrInstance[] = [];
  private bird: ChildProcess | undefined;
  /** A client namespace behind the router (addOutsideClient), reaching the Service IPs only through it. */
  readonly outside: string;

  constructor(readonly lab: Lab) {
    this.router = `${lab.prefix}-router`;
    this.outside = `${lab.prefix}-outside`;
    this.dir = mkdtempSync(path.join(os.tmpdir(), `${lab.prefix}-`));
    chmodSync(this.dir, 0o755); // FRR, once it dropped to its user, must reach its folders inside
  }

  get birdSocket(): string {
    return path.join(this.dir, 'bird.ctl');
  }

  /** The router namespace on the lab's bridge, running BIRD. */
  async startRouter(options: RouterOptions): Promise<void> {
    await namespaceWithLink(this.router, 'eth0', this.lab.lan, 'rtr');
    await run('ip', ['-n', this.lab.lan, 'link', 'set', 'rtr', 'master', 'br0', 'up']);
    await run('ip', ['-n', this.router, 'addr', 'add', `${ROUTER_IPV4}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', this.router, 'addr', 'add', `${ROUTER_IPV6}/64`, 'dev', 'eth0', 'nodad']);
    for (const n of options.neighbors) {
      if (n.ibgp) await run('ip', ['-n', this.router, 'addr', 'replace', `${n.ibgp.localAddress}/24`, 'dev', 'eth0']);
    }
    await run('ip', ['-n', this.router, 'link', 'set', 'eth0', 'up']);
    const config = path.join(this.dir, 'bird.conf');
    writeFileSync(config, birdConfig(options, path.join(this.dir, 'bird.log')));
    const out = this.logFile('bird.out');
    this.bird = this.lab.spawn(
      this.router,
      'bird',
      ['-f', '-c', config, '-s', this.birdSocket, '-P', path.join(this.dir, 'bird.pid')],
      { stdio: ['ignore', out, out] },
    );
    closeSync(out);
    const bird = this.bird;
    await waitFor(
      'BIRD to answer on its socket',
      async () => {
        if (bird.exitCode !== null)
          throw new GiveUp(`BIRD exited (${bird.exitCode}): ${this.readLog('bird.out').trim()}`);
        return (await this.birdc(['show', 'status'])).includes('Daemon is up') ? true : undefined;
      },
      20_000,
    );
  }

  /**
   * Starts zebra, bgpd and bfdd in a node's namespace and loads `config` with
   * vtysh. `dir`: their socket folder, when a speaker was told it beforehand
   * (default one in the BGP temp folder); emptied first.
   */
  async startFrr(node: LabNode, config: string, dir = path.join(this.dir, `frr-${node.index}`)): Promise<FrrInstance> {
    // A restart starts clean. The speaker may be writing there meanwhile (frr-reload.py's files while it
    // retries an FRR not yet up), which fails one pass of the removal with ENOTEMPTY: retry it.
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    mkdirSync(dir);
    const { uid, gid } = frrIds();
    chownSync(dir, uid, gid);
    const zserv = path.join(dir, 'zserv.api');
    const common = (daemon: string) => [
      '-N',
      node.name,
      '--vty_socket',
      dir,
      '-z',
      zserv,
      '-i',
      path.join(dir, `${daemon}.pid`),
      '-P',
      '0',
      '--log',
      `file:${path.join(dir, `${daemon}.log`)}`,
    ];
    const daemons = new Map<'zebra' | 'bgpd' | 'bfdd', ChildProcess>();
    const instance: FrrInstance = { node, dir, daemons };
    this.frr.push(instance);
    const start = async (daemon: 'zebra' | 'bgpd' | 'bfdd', extra: string[]) => {
      const out = this.logFile(`frr-${node.index}-${daemon}.out`);
      daemons.set(
        daemon,
        this.lab.spawn(node.name, path.join(FRR_DIR, daemon), [...common(daemon), ...extra], {
          stdio: ['ignore', out, out],
        }),
      );
      closeSync(out);
      await waitFor(
        `${daemon} of ${node.name} to open its vty socket`,
        async () => (existsSync(path.join(dir, `${daemon}.vty`)) ? true : undefined),
        20_000,
      );
    };
    await start('zebra', []);
    await start('bgpd', []);
    await start('bfdd', ['--bfdctl', path.join(dir, 'bfdd.sock')]);
    await this.loadFrrConfig(instance, config);
    return instance;
  }

  /**
   * Loads a configuration into a freshly started FRR with `vtysh -f`. Not a
   * reload: vtysh replays every line, and FRR refuses some repeated lines on a
   * live peer (a per-peer graceful-restart mode); the speaker will reload with
   * frr-reload.py, which sends only the difference.
   */
  async loadFrrConfig(instance: FrrInstance, config: string): Promise<void> {
    const file = path.join(instance.dir, 'frr.conf');
    writeFileSync(file, config);
    const result = await this.lab.exec(instance.node.name, ['vtysh', '--vty_socket', instance.dir, '-f', file]);
    if (result.code !== 0)
      throw new Error(
        `vtysh refused the configuration of ${instance.node.name} (${result.code}): ${result.stdout}${result.stderr}`,
      );
  }

  /** Applies a changed configuration as the speaker will: frr-reload.py sends FRR only the difference. */
  async reloadFrr(instance: FrrInstance, config: string): Promise<void> {
    const file = path.join(instance.dir, 'frr.conf');
    writeFileSync(file, config);
    const dir = instance.dir;
    const args = [
      'python3',
      FRR_RELOAD,
      '--reload',
      '--vty_socket',
      dir,
      '--rundir',
      dir,
      '--confdir',
      dir,
      '--bindir',
      '/usr/bin',
      file,
    ];
    const result = await this.lab.exec(instance.node.name, args);
    if (result.code !== 0)
      throw new Error(
        `frr-reload.py failed in ${instance.node.name} (${result.code}): ${result.stdout}${result.stderr}`,
      );
  }

  /**
   * The outside client: namespace `<p>-outside` on a link of its own to the
   * router (203.0.113.0/24), its default route through the router. The router
   * forwards, hashing flows on addresses and ports (fib_multipath_hash_policy
   * 1) so UDP flows spread over the ECMP next hops; each node routes the
   * outside network back through the router. Call after startRouter.
   */
  async addOutsideClient(): Promise<void> {
    await namespaceWithLink(this.outside, 'eth0', this.router, 'eth1');
    await run('ip', ['-n', this.router, 'addr', 'add', `${OUTSIDE_ROUTER_IPV4}/24`, 'dev', 'eth1']);
    await run('ip', ['-n', this.router, 'link', 'set', 'eth1', 'up']);
    await run('ip', ['-n', this.outside, 'addr', 'add', `${OUTSIDE_CLIENT_IPV4}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', this.outside, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', this.outside, 'route', 'add', 'default', 'via', OUTSIDE_ROUTER_IPV4]);
    await this.lab.exec(this.router, [
      'sysctl',
      '-qw',
      'net.ipv4.ip_forward=1',
      'net.ipv4.fib_multipath_hash_policy=1',
      // The nodes share the router's LAN: no redirects telling them to bypass it.
      'net.ipv4.conf.all.send_redirects=0',
    ]);
    for (const node of this.lab.nodes) await this.routeOutsideBack(node);
  }

  /** The node's route to the outside network through the router (again after its link was down: it went with it). */
  async routeOutsideBack(node: LabNode): Promise<void> {
    await run('ip', ['-n', node.name, 'route', 'replace', OUTSIDE_NET_IPV4, 'via', ROUTER_IPV4]);
  }

  /** Watches the router's kernel routes for `prefix` (`ip monitor route` in its namespace). */
  watchRoute(prefix: string): RouteWatch {
    return new RouteWatch(this, this.lab.spawn(this.router, 'ip', ['monitor', 'route']), prefix);
  }

  /** The node's FRR, as last started. */
  frrOf(node: LabNode): FrrInstance {
    const instance = this.frr.filter((f) => f.node === node).pop();
    if (!instance) throw new Error(`no FRR started on ${node.name}`);
    return instance;
  }

  /** How many sessions BIRD has logged as reset by an expired hold timer so far. */
  holdTimerExpiries(): number {
    const file = path.join(this.dir, 'bird.log');
    if (!existsSync(file)) return 0;
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.includes('Hold timer expired')).length;
  }

  /** Ends a node's FRR daemons by pid (SIGKILL: no goodbye to the router). */
  async stopFrr(instance: FrrInstance): Promise<void> {
    await Promise.all([...instance.daemons.values()].map((c) => this.lab.kill(c, 'SIGKILL')));
  }

  /** A `vtysh -c` command against a node's FRR. */
  async vtysh(instance: FrrInstance, command: string): Promise<string> {
    const result = await this.lab.exec(instance.node.name, ['vtysh', '--vty_socket', instance.dir, '-c', command]);
    if (result.code !== 0)
      throw new Error(`vtysh -c "${command}" in ${instance.node.name} failed (${result.code}): ${result.stderr}`);
    return result.stdout;
  }

  async birdc(args: string[]): Promise<string> {
    const result = await this.lab.exec(this.router, ['birdc', '-s', this.birdSocket, ...args]);
    if (result.code !== 0)
      throw new Error(`birdc ${args.join(' ')} failed (${result.code}): ${result.stdout}${result.stderr}`);
    return result.stdout;
  }

  /** The router's own view of its protocols (`birdc show protocols`). */
  async protocols(): Promise<Map<string, ProtocolState>> {
    const out = await this.birdc(['show', 'protocols']);
    const result = new Map<string, ProtocolState>();
    for (const line of out.split('\n').slice(2)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 5) continue;
      result.set(cols[0]!, {
        name: cols[0]!,
        proto: cols[1]!,
        state: cols[3]!,
        since: cols[4]!,
        info: cols.slice(5).join(' '),
      });
    }
    return result;
  }

  /** Next hops of the router's kernel route for `prefix`, sorted; [] when it has none. */
  async nextHops(prefix: string): Promise<string[]> {
    const out = await run('ip', [
      '-n',
      this.router,
      prefix.includes(':') ? '-6' : '-4',
      '-j',
      'route',
      'show',
      'exact',
      prefix,
    ]);
    const routes = JSON.parse(out.stdout || '[]') as Array<{
      gateway?: string;
      nexthops?: Array<{ gateway?: string }>;
    }>;
    const hops = routes.flatMap((r) => (r.nexthops ? r.nexthops.map((h) => h.gateway) : [r.gateway]));
    return hops.filter((h): h is string => h !== undefined).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  }

  /** A TcpExt counter of the router's kernel, e.g. TCPMD5Failure (segments dropped for a wrong TCP MD5 signature). */
  async tcpExtCounter(name: string): Promise<number> {
    const out = await run('ip', ['netns', 'exec', this.router, 'cat', '/proc/net/netstat']);
    const lines = out.stdout.split('\n').filter((l) => l.startsWith('TcpExt:'));
    const keys = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const index = keys.indexOf(name);
    if (index < 0) throw new Error(`the router's kernel has no TcpExt counter ${name}`);
    return Number(values[index]);
  }

  /**
   * Ends every daemon this BGP lab started (by pid), removes the router and
   * outside namespaces, FRR's run folders and the temp folder. Never throws.
   */
  async teardown(): Promise<void> {
    const children = [...this.frr.flatMap((f) => [...f.daemons.values()]), ...(this.bird ? [this.bird] : [])];
    await Promise.all(children.map((c) => this.lab.kill(c, 'SIGKILL').catch(() => undefined)));
    await run('ip', ['netns', 'del', this.router], true);
    await run('ip', ['netns', 'del', this.outside], true);
    // `-N <name>` makes FRR create /var/run/frr/<name>; it is empty, and named after our namespace.
    for (const f of this.frr) rmSync(path.join('/var/run/frr', f.node.name), { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A log file in the temp folder, for a daemon's stdout and stderr. */
  private logFile(name: string): number {
    return openSync(path.join(this.dir, name), 'a');
  }

  /** What a daemon wrote, for failure messages. */
  readLog(name: string): string {
    try {
      return readFileSync(path.join(this.dir, name), 'utf8');
    } catch {
      return '';
    }
  }
}

/**
 * Watches the router's kernel routes for one prefix; `withdrawn(hop)` resolves
 * with the time (performance.now()) of the first route change after which
 * `hop` is no longer a next hop.
 */
export class RouteWatch {
  private waiter: { gone: string; resolve: (t: number) => void } | undefined;
  private checking = Promise.resolve();

  constructor(
    private readonly bgp: BgpLab,
    private readonly monitor: ChildProcess,
    private readonly prefix: string,
  ) {
    const address = prefix.split('/')[0]!;
    monitor.stdout!.on('data', (chunk: Buffer) => {
      const at = performance.now();
      if (!chunk.toString().includes(address)) return;
      // Checks run one after another, each stamped with the time its event arrived.
      this.checking = this.checking.then(async () => {
        const w = this.waiter;
        if (w && !(await this.bgp.nextHops(this.prefix)).includes(w.gone)) {
          this.waiter = undefined;
          w.resolve(at);
        }
      });
    });
  }

  withdrawn(gone: string): Promise<number> {
    return new Promise((resolve) => {
      this.waiter = { gone, resolve };
    });
  }

  async stop(): Promise<void> {
    await this.bgp.lab.kill(this.monitor);
  }
}

/** Adds namespace `ns` (lo up) and a veth from its `dev` to `peerDev` in the existing namespace `peerNs`. */
async function namespaceWithLink(ns: string, dev: string, peerNs: string, peerDev: string): Promise<void> {
  await run('ip', ['netns', 'add', ns]);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  await run('ip', ['link', 'add', dev, 'netns', ns, 'type', 'veth', 'peer', 'name', peerDev, 'netns', peerNs]);
}

function frrIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${FRR_USER}:`));
  if (!line)
    throw new Error(
      `no user "${FRR_USER}": is FRR installed? \`node test/setup/tools.mjs lab\` installs it (package frr)`,
    );
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
