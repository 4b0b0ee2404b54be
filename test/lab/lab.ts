// The network lab: N node namespaces and one client namespace on a Linux
// bridge, documentation addresses only, everything named with a per-run
// prefix and removed by name at teardown (even after a failure).
//
//   <p>-lan     holds bridge br0 and the bridge-side veth ends (n1.., client, host)
//   <p>-node<i> eth0 192.0.2.(10+i)/24, 2001:db8::(10+i)/64; Service IPs go on lo
//   <p>-client  eth0 192.0.2.100/24, 2001:db8::100/64
//   root ns     only with hostAccess: <p>h with 198.51.100.1/24, 2001:db8:1::1/64, and
//               every node/client gets a second address in those subnets, so an API
//               server double on the host is reachable from the nodes. A separate
//               subnet because the root namespace may already sit on 192.0.2.0/24
//               (this very machine's uplink does): the lab must never touch its routes.
//
// Node namespaces use arp_ignore=1 / arp_announce=2 (kube-proxy IPVS strictARP):
// the kernel accepts traffic for a VIP on lo but never answers ARP for it, so
// only the program under test does. For IPv6 the kernel answers NS only for
// addresses on the receiving interface, so a VIP on lo gets no kernel NA
// (checked by test/e2e/l2-lab.test.ts).
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeFrame, type WireFrame } from './frames.js';
import { acquireHostLock, type HostLock } from './host-lock.js';
import { parsePcap } from './pcap.js';

const execFileAsync = promisify(execFile);

export interface LabOptions {
  nodes: number;
  /** Names every namespace/link; default ilb<pid%1000><2 random chars>. Max 10 chars. */
  prefix?: string;
  /** Join the root namespace to the bridge as 198.51.100.1 (serialised across labs by a lock). */
  hostAccess?: boolean;
}

export interface LabNode {
  name: string; // namespace
  index: number; // 1-based
  ipv4: string;
  ipv6: string;
  mac: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface Capture {
  /** Stops tcpdump and returns every captured frame, decoded where it is ARP/NS/NA. */
  stop(): Promise<CapturedFrame[]>;
}

export interface CapturedFrame {
  timeUs: number;
  data: Buffer;
  decoded?: WireFrame;
}

export interface ArpingResult {
  /** MAC of every reply, in order (upper or lower case normalised to lower). */
  macs: string[];
  /** Round-trip times in ms as printed by arping. */
  rttMs: number[];
  output: string;
}

/**
 * The lab's own address for the API side, inside 192.0.2.0/24: kept free of
 * nodes and client for a namespace on the bridge that serves the API
 * (test/lab/system.ts puts its relay there).
 */
export const HOST_IPV4 = '192.0.2.1';
export const HOST_IPV6 = '2001:db8::1';
/** Where the root namespace itself is reachable from the lab with hostAccess. */
export const ROOT_ACCESS_IPV4 = '198.51.100.1';
export const ROOT_ACCESS_IPV6 = '2001:db8:1::1';
const ROOT_NET_V4 = '198.51.100.';
const ROOT_NET_V6 = '2001:db8:1::';
export const CLIENT_IPV4 = '192.0.2.100';
export const CLIENT_IPV6 = '2001:db8::100';

export function defaultPrefix(): string {
  const rand = Math.random().toString(36).slice(2, 4).padEnd(2, '0');
  return `ilb${String(process.pid % 1000).padStart(3, '0')}${rand}`;
}

/** No lab command may hang a test run: killed after this long. */
const COMMAND_TIMEOUT_MS = 120_000;

/** Where the fix for a missing tool is: the set-up check `npm run lab` and `npm test` run first. */
const TOOLS_HINT = 'is it installed? `node test/setup/tools.mjs lab` names the package (as root it installs it)';

/** A command that could not be started at all: an error of its own, never a silent non-zero exit. */
export class CannotStartError extends Error {
  constructor(
    readonly command: string,
    detail: string,
    where = '',
  ) {
    super(`cannot start "${command}"${where}: ${detail}; ${TOOLS_HINT}`);
    this.name = 'CannotStartError';
  }
}

/**
 * Fails at once when `cmd` is not an executable file on PATH (or at its own path).
 * Plain lookup rather than test/setup/tools.mjs's: this file also runs from dist/.
 */
export function assertRunnable(cmd: string, where = ''): void {
  const candidates = cmd.includes('/')
    ? [cmd]
    : (process.env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, cmd));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return;
    } catch {
      // not this one
    }
  }
  throw new CannotStartError(cmd, cmd.includes('/') ? 'no executable file there' : 'not found on PATH', where);
}

/** What `ip netns exec` prints (and then exits non-zero) when the command itself cannot start. */
const NETNS_EXEC_FAILED = /^exec of "([^"]+)" failed: (.+)/;

export async function run(cmd: string, args: string[], allowFailure = false): Promise<ExecResult> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, {
      maxBuffer: 64 * 1024 * 1024,
      timeout: COMMAND_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number | string; syscall?: string };
    // ENOENT, EACCES from spawn: the command never ran, so there is no exit code to allow.
    if (typeof e.code === 'string' && e.syscall?.startsWith('spawn')) throw new CannotStartError(cmd, e.code);
    const result = { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
    const inNamespace = cmd === 'ip' && args[0] === 'netns' && args[1] === 'exec';
    const failedExec = inNamespace ? NETNS_EXEC_FAILED.exec(result.stderr) : null;
    if (failedExec) throw new CannotStartError(failedExec[1]!, failedExec[2]!, ` in namespace ${args[2]}`);
    if (!allowFailure)
      throw new Error(
        `${cmd} ${args.join(' ')} failed (${result.code}): ${result.stderr.trim() || result.stdout.trim()}`,
      );
    return result;
  }
}

export class Lab {
  readonly nodes: LabNode[] = [];
  readonly client: string;
  readonly lan: string;
  readonly hostLink: string;
  private readonly children = new Set<ChildProcess>();
  /** The lab's own temporary folder (captures): `<prefix>-XXXXXX`, removed at teardown. */
  readonly tmp: string;
  private hostLock: HostLock | undefined;

  constructor(
    readonly prefix: string,
    nodeCount: number,
  ) {
    this.client = `${prefix}-client`;
    this.lan = `${prefix}-lan`;
    this.hostLink = `${prefix}h`;
    for (let i = 1; i <= nodeCount; i++) {
      this.nodes.push({
        name: `${prefix}-node${i}`,
        index: i,
        ipv4: `192.0.2.${10 + i}`,
        ipv6: `2001:db8::${10 + i}`,
        mac: '',
      });
    }
    this.tmp = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  }

  /** Every namespace this lab creates. */
  namespaces(): string[] {
    return [this.lan, this.client, ...this.nodes.map((n) => n.name)];
  }

  node(i: number): LabNode {
    const n = this.nodes[i - 1];
    if (!n) throw new Error(`lab has no node ${i} (it has ${this.nodes.length})`);
    return n;
  }

  async build(hostAccess: boolean): Promise<void> {
    for (const ns of this.namespaces()) await run('ip', ['netns', 'add', ns]);
    const inLan = (...a: string[]) => run('ip', ['-n', this.lan, ...a]);
    await inLan('link', 'set', 'lo', 'up');
    await inLan('link', 'add', 'br0', 'type', 'bridge');
    await inLan('link', 'set', 'br0', 'up');
    for (const node of this.nodes) {
      await this.attach(node.name, `n${node.index}`, `${node.ipv4}/24`, `${node.ipv6}/64`, true);
      node.mac = await this.macOf(node.name, 'eth0');
    }
    await this.attach(this.client, 'client', `${CLIENT_IPV4}/24`, `${CLIENT_IPV6}/64`, false);
    if (hostAccess) {
      this.hostLock = await acquireHostLock(this.prefix);
      await refuseIfHostUses(ROOT_NET_V4, ROOT_NET_V6);
      await run('ip', ['link', 'add', this.hostLink, 'type', 'veth', 'peer', 'name', 'host', 'netns', this.lan]);
      await inLan('link', 'set', 'host', 'master', 'br0', 'up');
      await run('sysctl', ['-qw', `net.ipv6.conf.${this.hostLink}.accept_dad=0`]);
      await run('ip', ['addr', 'add', `${ROOT_ACCESS_IPV4}/24`, 'dev', this.hostLink]);
      await run('ip', ['addr', 'add', `${ROOT_ACCESS_IPV6}/64`, 'dev', this.hostLink, 'nodad']);
      await run('ip', ['link', 'set', this.hostLink, 'up']);
      for (const node of this.nodes) await this.addHostNetAddresses(node.name, 10 + node.index);
      await this.addHostNetAddresses(this.client, 100);
    }
  }

  private async addHostNetAddresses(ns: string, host: number): Promise<void> {
    await run('ip', ['-n', ns, 'addr', 'add', `${ROOT_NET_V4}${host}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', ns, 'addr', 'add', `${ROOT_NET_V6}${host}/64`, 'dev', 'eth0', 'nodad']);
  }

  private async attach(ns: string, bridgePort: string, v4: string, v6: string, strictArp: boolean): Promise<void> {
    await run('ip', [
      'link',
      'add',
      'eth0',
      'netns',
      ns,
      'type',
      'veth',
      'peer',
      'name',
      bridgePort,
      'netns',
      this.lan,
    ]);
    await run('ip', ['-n', this.lan, 'link', 'set', bridgePort, 'master', 'br0', 'up']);
    const sysctls = [
      'net.ipv6.conf.all.accept_dad=0',
      'net.ipv6.conf.default.accept_dad=0',
      'net.ipv6.conf.eth0.accept_dad=0',
      // Keeps the IPv6 address through linkDown/linkUp, as IPv4 does.
      'net.ipv6.conf.all.keep_addr_on_down=1',
      'net.ipv6.conf.eth0.keep_addr_on_down=1',
      // No router solicitations: they would only add noise to captures.
      'net.ipv6.conf.eth0.router_solicitations=0',
    ];
    if (strictArp) sysctls.push('net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2');
    await this.exec(ns, ['sysctl', '-qw', ...sysctls]);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', ns, 'addr', 'add', v4, 'dev', 'eth0']);
    await run('ip', ['-n', ns, 'addr', 'add', v6, 'dev', 'eth0', 'nodad']);
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }

  async macOf(ns: string, dev: string): Promise<string> {
    const out = await run('ip', ['-n', ns, '-j', 'link', 'show', 'dev', dev]);
    const links = JSON.parse(out.stdout) as Array<{ address: string }>;
    return links[0]!.address.toLowerCase();
  }

  /** Runs a command inside a namespace; throws only when it cannot start, never on a non-zero exit. */
  exec(ns: string, cmd: string[]): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', ns, ...cmd], true);
  }

  /** Starts a process inside a namespace; teardown kills it by pid. Throws at once if `cmd` is not there. */
  spawn(ns: string, cmd: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    assertRunnable('ip');
    assertRunnable(cmd, ` in namespace ${ns}`);
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Stops one spawned process: SIGTERM (or the given signal), SIGKILL after 3 s. */
  async kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  /** Adds a Service IP to a node's lo (the kube-proxy data plane). */
  async addVip(node: LabNode, ip: string): Promise<void> {
    await run('ip', ['-n', node.name, 'addr', 'add', ip.includes(':') ? `${ip}/128` : `${ip}/32`, 'dev', 'lo']);
  }

  /** `arping` from the client; count requests, one per second (arping's pace). */
  async arping(ip: string, options: { count?: number; timeoutS?: number; ns?: string } = {}): Promise<ArpingResult> {
    const count = options.count ?? 1;
    const args = ['arping', '-I', 'eth0', '-c', String(count), '-w', String(options.timeoutS ?? count + 1), ip];
    const out = await this.exec(options.ns ?? this.client, args);
    const macs: string[] = [];
    const rttMs: number[] = [];
    for (const m of out.stdout.matchAll(/reply from \S+ \[([0-9A-Fa-f:]{17})\]\s+([\d.]+)ms/g)) {
      macs.push(m[1]!.toLowerCase());
      rttMs.push(Number(m[2]));
    }
    return { macs, rttMs, output: out.stdout + out.stderr };
  }

  /** `ndisc6` from the client: the Target link-layer addresses of the NAs received. */
  async ndisc6(ip: string, options: { tries?: number; ns?: string } = {}): Promise<{ macs: string[]; output: string }> {
    const args = ['ndisc6', '-m', '-n', '-r', String(options.tries ?? 1), '-w', '1000', ip, 'eth0'];
    const out = await this.exec(options.ns ?? this.client, args);
    const macs = [...out.stdout.matchAll(/Target link-layer address:\s*([0-9A-Fa-f:]{17})/g)].map((m) =>
      m[1]!.toLowerCase(),
    );
    return { macs, output: out.stdout + out.stderr };
  }

  /** The client's neighbour entry for ip: MAC and NUD state, or undefined. */
  async neigh(ip: string, ns = this.client): Promise<{ mac?: string; state: string[] } | undefined> {
    const out = await run('ip', ['-n', ns, '-j', 'neigh', 'show', 'to', ip, 'dev', 'eth0']);
    const entries = JSON.parse(out.stdout || '[]') as Array<{ lladdr?: string; state?: string[] }>;
    const e = entries[0];
    return e ? { mac: e.lladdr?.toLowerCase(), state: e.state ?? [] } : undefined;
  }

  async flushNeigh(ns = this.client): Promise<void> {
    await run('ip', ['-n', ns, 'neigh', 'flush', 'dev', 'eth0']);
  }

  /** Pings from the client; returns how many replies came back. */
  async ping(
    ip: string,
    options: { count?: number; intervalS?: number; ns?: string } = {},
  ): Promise<{ received: number; output: string }> {
    const count = options.count ?? 1;
    const args = ['ping', '-n', '-c', String(count), '-i', String(options.intervalS ?? 0.2), '-W', '1', ip];
    const out = await this.exec(options.ns ?? this.client, args);
    const m = /(\d+) received/.exec(out.stdout);
    return { received: m ? Number(m[1]) : 0, output: out.stdout + out.stderr };
  }

  /** tcpdump on eth0 of a namespace (default the client), ARP and ICMPv6 only. */
  async startCapture(ns = this.client, filter = 'arp or icmp6'): Promise<Capture> {
    const file = path.join(this.tmp, `capture-${Date.now()}-${Math.random().toString(36).slice(2, 6)}.pcap`);
    // -Z root: tcpdump would otherwise drop to its own user and fail to write the file.
    // --immediate-mode: frames reach the file as they arrive, not when a ring
    // block fills, so stop() loses nothing that was on the wire.
    const child = this.spawn(ns, 'tcpdump', [
      '-i',
      'eth0',
      '-n',
      '-U',
      '--immediate-mode',
      '-Z',
      'root',
      '-s',
      '512',
      '-w',
      file,
      filter,
    ]);
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr}`)), 10_000);
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`tcpdump exited (${code}): ${stderr}`));
      });
    });
    return {
      stop: async () => {
        // Frames still in flight through the bridge get a moment to arrive.
        await new Promise((r) => setTimeout(r, 200));
        await this.kill(child, 'SIGINT');
        const pcap = parsePcap(readFileSync(file));
        rmSync(file, { force: true });
        return pcap.records.map((r) => ({ timeUs: r.timeUs, data: r.data, decoded: decodeFrame(r.data) }));
      },
    };
  }

  async linkDown(node: LabNode): Promise<void> {
    await run('ip', ['-n', node.name, 'link', 'set', 'eth0', 'down']);
  }

  async linkUp(node: LabNode): Promise<void> {
    await run('ip', ['-n', node.name, 'link', 'set', 'eth0', 'up']);
  }

  /** Deletes the node's eth0 and creates it again: same name and addresses, new ifindex and MAC. */
  async recreateLink(node: LabNode): Promise<void> {
    await run('ip', ['-n', node.name, 'link', 'del', 'eth0']);
    await this.attach(node.name, `n${node.index}`, `${node.ipv4}/24`, `${node.ipv6}/64`, true);
    node.mac = await this.macOf(node.name, 'eth0');
  }

  /** Kills every spawned process and deletes every namespace and link by name. Never throws. */
  async teardown(): Promise<void> {
    await Promise.all([...this.children].map((c) => this.kill(c, 'SIGKILL').catch(() => undefined)));
    for (const ns of this.namespaces()) await removeNamespace(ns);
    await run('ip', ['link', 'del', this.hostLink], true);
    this.hostLock?.release();
    this.hostLock = undefined;
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

export async function createLab(options: LabOptions): Promise<Lab> {
  if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > 80) {
    throw new Error(`createLab: nodes must be an integer from 1 to 80, got ${options.nodes}`);
  }
  const prefix = options.prefix ?? defaultPrefix();
  if (!/^[a-z][a-z0-9]{0,9}$/.test(prefix)) {
    throw new Error(
      `createLab: prefix "${prefix}" must be 1-10 lower-case letters/digits ` +
        `starting with a letter (interface names max 15)`,
    );
  }
  const lab = new Lab(prefix, options.nodes);
  try {
    await lab.build(options.hostAccess ?? false);
  } catch (err) {
    await lab.teardown();
    throw err;
  }
  return lab;
}

/** Host access must not shadow a subnet the host already uses (it would hijack its routes). */
async function refuseIfHostUses(v4Prefix: string, v6Prefix: string): Promise<void> {
  const out = await run('ip', ['-j', 'addr', 'show']);
  const links = JSON.parse(out.stdout) as Array<{ ifname: string; addr_info?: Array<{ local: string }> }>;
  for (const link of links) {
    for (const a of link.addr_info ?? []) {
      if (a.local.startsWith(v4Prefix) || a.local.startsWith(v6Prefix)) {
        throw new Error(
          `lab host access: the host already has ${a.local} on ${link.ifname}; ` +
            `refusing to add a second route for that subnet`,
        );
      }
    }
  }
}

/**
 * Kills what still runs in a namespace, then deletes it (its links go with it). down.mjs does the same for --down,
 * uncompiled.
 */
async function removeNamespace(ns: string): Promise<void> {
  const pids = await run('ip', ['netns', 'pids', ns], true);
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await run('ip', ['netns', 'del', ns], true);
}
