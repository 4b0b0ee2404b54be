// Drives test/lab/l2-agent.js inside a lab node from a test: JSON commands in,
// JSON events out.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab, LabNode } from './lab.js';

export type AgentEvent = { event: string } & Record<string, unknown>;

/** A compiled program of test/lab (e.g. 'l2-agent.js'); tests run after `npm run build`. */
export function labScript(file: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // From test/lab (vitest) or dist/test/lab (compiled): both lead to dist/test/lab.
  const root = here.includes(`${path.sep}dist${path.sep}`)
    ? path.resolve(here, '../../..')
    : path.resolve(here, '../..');
  const script = path.join(root, 'dist', 'test', 'lab', file);
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first`);
  return script;
}

export class Agent {
  readonly events: AgentEvent[] = [];
  private waiters: Array<{ match: (e: AgentEvent) => boolean; resolve: (e: AgentEvent) => void }> = [];
  private stderr = '';

  constructor(
    readonly lab: Lab,
    readonly node: LabNode,
    readonly child: ChildProcess,
  ) {
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim()) this.push(JSON.parse(line) as AgentEvent);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  private push(e: AgentEvent): void {
    this.events.push(e);
    for (const w of [...this.waiters]) {
      if (w.match(e)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  }

  /** The first event (past or future) that matches. */
  waitFor(match: (e: AgentEvent) => boolean, timeoutMs = 15_000): Promise<AgentEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timeout = () => {
        const events = JSON.stringify(this.events);
        reject(
          new Error(
            `agent on ${this.node.name}: no matching event in ${timeoutMs} ms; events ${events}; stderr ${this.stderr}`,
          ),
        );
      };
      const timer = setTimeout(timeout, timeoutMs);
      this.waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  /** Sends a command and waits for the event it produces. */
  async command(cmd: Record<string, unknown>, reply: string, timeoutMs = 15_000): Promise<AgentEvent> {
    const before = this.events.length;
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
    return this.waitFor((e) => e.event === reply && this.events.indexOf(e) >= before, timeoutMs);
  }

  own(ip: string): Promise<AgentEvent> {
    return this.command({ op: 'own', ip }, 'owned');
  }

  release(ip: string): Promise<AgentEvent> {
    return this.command({ op: 'release', ip }, 'released');
  }

  /** Starts an announcement (default one round) and waits for its first round to go out. */
  announce(ip: string, options: { rounds?: number; intervalMs?: number } = {}): Promise<AgentEvent> {
    return this.command({ op: 'announce', ip, ...options }, 'announced');
  }

  probe(ip: string, waitMs = 1000): Promise<AgentEvent> {
    return this.command({ op: 'probe', ip, waitMs }, 'probed', waitMs + 15_000);
  }

  async stats(): Promise<Record<string, number>> {
    return (await this.command({ op: 'stats' }, 'stats')) as unknown as Record<string, number>;
  }

  errors(): AgentEvent[] {
    return this.events.filter((e) => e.event === 'error');
  }

  stop(): Promise<void> {
    return this.lab.kill(this.child);
  }
}

export async function startAgent(lab: Lab, node: LabNode, iface = 'eth0'): Promise<Agent> {
  const child = lab.spawn(node.name, process.execPath, [labScript('l2-agent.js'), '--iface', iface]);
  const agent = new Agent(lab, node, child);
  await agent.waitFor((e) => e.event === 'ready');
  return agent;
}
