// The FRR beside the speaker, driven through its own tools: frr-reload.py
// (package frr-pythontools) applies a configuration by sending FRR only the
// difference against the running one, so sessions whose lines did not change
// are not reset; vtysh reads the sessions back as JSON. The daemons run in
// another container; the two share the folder of FRR's vty sockets.
import { execFile } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseBfdPeers, parseBgpNeighbors, type BfdPeerState, type BgpSessionState } from './frr-state.js';

/** What the BGP runtime needs of FRR; the real one is FrrDaemon. */
export interface FrrControl {
  /** Makes FRR run `config` (changing only what differs). Throws FrrError when FRR refused it or did not answer. */
  apply(config: string): Promise<void>;
  /** `show running-config`. Throws FrrError when FRR does not answer. */
  runningConfig(): Promise<string>;
  /** Every configured neighbor, by address. Throws FrrError when bgpd does not answer. */
  sessions(): Promise<Map<string, BgpSessionState>>;
  /** Throws FrrError when bfdd does not answer. */
  bfdPeers(): Promise<BfdPeerState[]>;
}

export class FrrError extends Error {}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}
export type CommandRunner = (command: string, args: readonly string[], timeoutMs: number) => Promise<CommandResult>;

export interface FrrDaemonOptions {
  /** The folder of FRR's vty sockets (shared with the FRR container). */
  socketDir: string;
  /** Where the configuration file and frr-reload.py's temp files go; default socketDir. */
  workDir?: string;
  /** vtysh; frr-reload.py is given its folder. Default /usr/bin/vtysh. */
  vtysh?: string;
  /** Default /usr/lib/frr/frr-reload.py, run with python3. */
  reloadScript?: string;
  python?: string;
  /** A command not done by then is killed and reported (default 60 s: a reload with many prefixes is slow). */
  timeoutMs?: number;
  run?: CommandRunner;
}

export const DEFAULT_FRR_RELOAD = '/usr/lib/frr/frr-reload.py';
export const DEFAULT_VTYSH = '/usr/bin/vtysh';
const MAX_OUTPUT_IN_ERROR = 2000;

export class FrrDaemon implements FrrControl {
  private readonly workDir: string;
  private readonly vtyshPath: string;
  private readonly run: CommandRunner;
  private readonly timeoutMs: number;

  constructor(private readonly options: FrrDaemonOptions) {
    this.workDir = options.workDir ?? options.socketDir;
    this.vtyshPath = options.vtysh ?? DEFAULT_VTYSH;
    this.run = options.run ?? runCommand;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  async apply(config: string): Promise<void> {
    mkdirSync(this.workDir, { recursive: true });
    // Named frr.conf inside --confdir: frr-reload.py then does not `write` the running config back over it.
    const file = path.join(this.workDir, 'frr.conf');
    const temp = `${file}.tmp`;
    writeFileSync(temp, config);
    renameSync(temp, file);
    const dir = this.workDir;
    const args = [
      this.options.reloadScript ?? DEFAULT_FRR_RELOAD,
      '--reload',
      '--stdout',
      '--log-level',
      'warning',
      '--vty_socket',
      this.options.socketDir,
      '--rundir',
      dir,
      '--confdir',
      dir,
      '--bindir',
      path.dirname(this.vtyshPath),
      file,
    ];
    // A second pass checks the first: FRR 8.4 sets `neighbor … graceful-restart-disable`
    // on a new peer but then fails to tell zebra ("not valid at this moment",
    // exit 13; measured in the lab), so frr-reload.py fails although the line
    // took effect. The second pass finds nothing left to change and succeeds;
    // a line that really did not take effect fails it again.
    let result = await this.run(this.options.python ?? 'python3', args, this.timeoutMs);
    if (result.code !== 0) result = await this.run(this.options.python ?? 'python3', args, this.timeoutMs);
    if (result.code !== 0) {
      throw new FrrError(`frr-reload.py failed (exit ${result.code}): ${tail(result.stdout + result.stderr)}`);
    }
  }

  async runningConfig(): Promise<string> {
    return this.vtysh('show running-config');
  }

  async sessions(): Promise<Map<string, BgpSessionState>> {
    return parseOrThrow(() => this.vtysh('show bgp neighbors json'), parseBgpNeighbors);
  }

  async bfdPeers(): Promise<BfdPeerState[]> {
    return parseOrThrow(() => this.vtysh('show bfd peers json'), parseBfdPeers);
  }

  private async vtysh(command: string): Promise<string> {
    const args = ['--vty_socket', this.options.socketDir, '-c', command];
    const result = await this.run(this.vtyshPath, args, this.timeoutMs);
    // vtysh exits 0 with nothing on stdout when the daemon behind the command is not running.
    if (result.code !== 0 || result.stdout.trim() === '') {
      const output = tail(result.stderr + result.stdout) || 'no output';
      throw new FrrError(`vtysh -c "${command}" failed (exit ${result.code}): ${output}`);
    }
    return result.stdout;
  }
}

async function parseOrThrow<T>(read: () => Promise<string>, parse: (text: string) => T): Promise<T> {
  const text = await read();
  try {
    return parse(text);
  } catch (err) {
    throw new FrrError(err instanceof Error ? err.message : String(err));
  }
}

function tail(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > MAX_OUTPUT_IN_ERROR ? `...${trimmed.slice(-MAX_OUTPUT_IN_ERROR)}` : trimmed;
}

/** execFile with a timeout; a missing program is a result (code 127), not a throw. */
export const runCommand: CommandRunner = (command, args, timeoutMs) =>
  new Promise((resolve) => {
    execFile(command, [...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err === null) return resolve({ code: 0, stdout, stderr });
      const code = typeof err.code === 'number' ? err.code : err.code === 'ENOENT' ? 127 : 1;
      const why = err.killed ? `killed after ${timeoutMs} ms` : err.code === 'ENOENT' ? `${command} not found` : '';
      resolve({ code, stdout, stderr: why ? `${stderr}${why}` : stderr || err.message });
    });
  });
