// Command-line flags of the controller. Parsing is pure so every bad input has
// a test; main.ts only wires the result.

export interface ControllerFlags {
  kubeconfig?: string;
  namespace: string;
  /** Empty: only Services with no spec.loadBalancerClass. */
  lbClass: string;
  metricsPort: number;
  leaderElect: boolean;
  leaderLeaseDurationMs: number;
  leaderRenewDeadlineMs: number;
  leaderRetryPeriodMs: number;
  /** This replica's name in the leader Lease (default: POD_NAME or the hostname). */
  identity?: string;
  logLevel?: string;
  help: boolean;
}

export const USAGE = `usage: node dist/controller/main.js [flags]
  --kubeconfig PATH             kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)
  --namespace NAME              namespace of pools, Leases and the leader Lease (default ironlb-system)
  --lb-class CLASS              handle Services with this spec.loadBalancerClass (default: only Services with none)
  --metrics-port PORT           /metrics, /healthz, /readyz port; 0 disables (default 7472)
  --leader-elect BOOL           elect one active replica through Lease ironlb-controller (default true)
  --leader-lease-duration DUR   leader Lease duration (default 15s)
  --leader-renew-deadline DUR   the leader gives up when it cannot renew within this (default 10s)
  --leader-retry-period DUR     how often to try to acquire or renew (default 2s)
  --identity NAME               name in the leader Lease (default $POD_NAME or the hostname)
  --log-level LEVEL             pino level (default $LOG_LEVEL or info)
  --help                        this text`;

/** Parses `1.5s`, `500ms`, `2m` into milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (!match) throw new Error(`${flag}: "${text}" is not a duration (examples: 500ms, 15s, 1m)`);
  const value = Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 's' ? 1000 : 60_000);
  if (value <= 0) throw new Error(`${flag}: must be greater than zero, got "${text}"`);
  return value;
}

function parseBool(flag: string, text: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new Error(`${flag}: expected true or false, got "${text}"`);
}

function parsePort(flag: string, text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new Error(`${flag}: expected a port 0..65535 (0 disables), got "${text}"`);
  return port;
}

const WITH_VALUE = new Set([
  '--kubeconfig', '--namespace', '--lb-class', '--metrics-port', '--leader-lease-duration',
  '--leader-renew-deadline', '--leader-retry-period', '--identity', '--log-level',
]);

export function parseControllerFlags(argv: readonly string[]): ControllerFlags {
  const flags: ControllerFlags = {
    namespace: 'ironlb-system',
    lbClass: '',
    metricsPort: 7472,
    leaderElect: true,
    leaderLeaseDurationMs: 15_000,
    leaderRenewDeadlineMs: 10_000,
    leaderRetryPeriodMs: 2_000,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (name === '--help' || name === '-h') {
      flags.help = true;
      continue;
    }
    if (name === '--leader-elect') {
      // A bare --leader-elect means true, as in client-go programs.
      flags.leaderElect = value === undefined ? true : parseBool(name, value);
      continue;
    }
    if (!WITH_VALUE.has(name)) throw new Error(`unknown flag "${arg}"\n${USAGE}`);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new Error(`${name}: needs a value`);
    }
    switch (name) {
      case '--kubeconfig': flags.kubeconfig = value; break;
      case '--namespace':
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value)) throw new Error(`--namespace: "${value}" is not a valid namespace name`);
        flags.namespace = value;
        break;
      case '--lb-class': flags.lbClass = value; break;
      case '--metrics-port': flags.metricsPort = parsePort(name, value); break;
      case '--leader-lease-duration': flags.leaderLeaseDurationMs = parseDuration(name, value); break;
      case '--leader-renew-deadline': flags.leaderRenewDeadlineMs = parseDuration(name, value); break;
      case '--leader-retry-period': flags.leaderRetryPeriodMs = parseDuration(name, value); break;
      case '--identity': flags.identity = value; break;
      case '--log-level': flags.logLevel = value; break;
    }
  }
  if (flags.leaderRenewDeadlineMs >= flags.leaderLeaseDurationMs) {
    throw new Error('--leader-renew-deadline must be shorter than --leader-lease-duration');
  }
  if (flags.leaderRetryPeriodMs >= flags.leaderRenewDeadlineMs) {
    throw new Error('--leader-retry-period must be shorter than --leader-renew-deadline');
  }
  return flags;
}
