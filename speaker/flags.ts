// Command-line flags of the speaker. Parsing is pure so every bad input has a
// test; main.ts only wires the result.

import { parseDuration, parseNamespace, parsePort, walkFlags } from '../src/cli/flags.js';

export interface SpeakerFlags {
  nodeName: string;
  kubeconfig?: string;
  namespace: string;
  /** Undefined: only Services with no spec.loadBalancerClass. */
  lbClass?: string;
  /** Announce only on these interfaces (overrides L2Advertisements and subnet choice). */
  interfaces?: string[];
  metricsPort: number;
  heartbeatIntervalMs: number;
  leaseDurationMs: number;
  staggerMs: number;
  garpRounds: number;
  /** 0: no periodic re-announcement. */
  garpRefreshMs: number;
  logLevel?: string;
  help: boolean;
}

export const USAGE = `usage: node dist/speaker/main.js [flags]
  --node-name NAME            this node (default $NODE_NAME)
  --kubeconfig PATH           kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)
  --namespace NAME            namespace of pools, L2Advertisements and Leases (default ironlb-system)
  --lb-class CLASS            serve Services with this spec.loadBalancerClass (default: only Services with none)
  --interfaces A,B            announce only on these interfaces (default: from the L2Advertisement, else by subnet)
  --metrics-port PORT         /metrics, /healthz, /readyz port; 0 disables (default 7472)
  --heartbeat-interval DUR    node Lease renewal period (default 1s)
  --lease-duration DUR        a node not renewed for this long is dead (default 3s)
  --stagger DUR               delay per rank before a takeover attempt (default 150ms)
  --garp-rounds N             gratuitous ARP / unsolicited NA rounds on takeover (default 3)
  --garp-refresh DUR          re-announce owned IPs this often; 0 disables (default 0)
  --log-level LEVEL           pino level (default $LOG_LEVEL or info)
  --help                      this text`;

const INTERFACE_NAME = /^[^\s/:,]{1,15}$/;
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

const WITH_VALUE = new Set([
  '--node-name', '--kubeconfig', '--namespace', '--lb-class', '--interfaces', '--metrics-port',
  '--heartbeat-interval', '--lease-duration', '--stagger', '--garp-rounds', '--garp-refresh', '--log-level',
]);

export function parseSpeakerFlags(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): SpeakerFlags {
  const flags: SpeakerFlags = {
    nodeName: env.NODE_NAME ?? '',
    namespace: 'ironlb-system',
    metricsPort: 7472,
    heartbeatIntervalMs: 1000,
    leaseDurationMs: 3000,
    staggerMs: 150,
    garpRounds: 3,
    garpRefreshMs: 0,
    help: false,
  };
  walkFlags(argv, { withValue: WITH_VALUE, usage: USAGE }, (name, given) => {
    const value = given ?? '';
    switch (name) {
      case '--help': flags.help = true; break;
      case '--node-name': flags.nodeName = value; break;
      case '--kubeconfig': flags.kubeconfig = value; break;
      case '--namespace': flags.namespace = parseNamespace(name, value); break;
      case '--lb-class': flags.lbClass = value === '' ? undefined : value; break;
      case '--interfaces': {
        const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
        const bad = names.find((n) => !INTERFACE_NAME.test(n));
        if (bad !== undefined) throw new Error(`--interfaces: "${bad}" is not an interface name (1-15 characters, no "/", ":" or spaces)`);
        flags.interfaces = names.length > 0 ? names : undefined;
        break;
      }
      case '--metrics-port': flags.metricsPort = parsePort(name, value); break;
      case '--heartbeat-interval': flags.heartbeatIntervalMs = parseDuration(name, value); break;
      case '--lease-duration': flags.leaseDurationMs = parseDuration(name, value); break;
      case '--stagger': flags.staggerMs = parseDuration(name, value, true); break;
      case '--garp-rounds':
        if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100) throw new Error(`--garp-rounds: expected a whole number 1..100, got "${value}"`);
        flags.garpRounds = Number(value);
        break;
      case '--garp-refresh': flags.garpRefreshMs = parseDuration(name, value, true); break;
      case '--log-level': flags.logLevel = value; break;
    }
  });
  if (flags.help) return flags;
  if (flags.nodeName === '') throw new Error('--node-name: required (or set NODE_NAME)');
  if (!NODE_NAME.test(flags.nodeName)) throw new Error(`--node-name: "${flags.nodeName}" is not a valid node name`);
  if (flags.leaseDurationMs <= flags.heartbeatIntervalMs) {
    throw new Error(`--lease-duration (${flags.leaseDurationMs} ms) must be longer than --heartbeat-interval (${flags.heartbeatIntervalMs} ms)`);
  }
  return flags;
}
