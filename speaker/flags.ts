// Command-line flags of the speaker. Parsing is pure so every bad input has a
// test; main.ts only wires the result.

import { isIP } from 'node:net';
import {
  COMMON_WITH_VALUE,
  commonFlagDefaults,
  parseDuration,
  parsePort,
  setCommonFlag,
  walkFlags,
  type CommonFlags,
} from '../src/cli/flags.js';
import { OBJECT_NAME } from '../src/api/object.js';
import { DEFAULT_LIVENESS_PORT } from '../src/liveness/udp.js';

export interface SpeakerFlags extends CommonFlags {
  nodeName: string;
  /** Undefined: only Services with no spec.loadBalancerClass. */
  lbClass?: string;
  /** Announce only on these interfaces (overrides L2Advertisements and subnet choice). */
  interfaces?: string[];
  heartbeatIntervalMs: number;
  leaseDurationMs: number;
  staggerMs: number;
  garpRounds: number;
  /** 0: no periodic re-announcement. */
  garpRefreshMs: number;
  /** UDP port of the liveness mesh; 0: no mesh (every peer judged by its heartbeat Lease). */
  livenessPort: number;
  /** The address peers reach this node's mesh on (default $HOST_IP). */
  livenessAddress: string;
  livenessIntervalMs: number;
  livenessDetectMultiplier: number;
  /** BGP mode: FRR's vty socket folder; undefined = no BGP. */
  frrVtySocket?: string;
  /** How often FRR's sessions are read back. */
  bgpPollIntervalMs: number;
}

export const USAGE = `usage: node dist/speaker/main.js [flags]
  --node-name NAME            this node (default $NODE_NAME)
  --kubeconfig PATH           kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)
  --namespace NAME            namespace of pools, L2Advertisements and Leases (default ironlb-system)
  --lb-class CLASS            serve Services with this spec.loadBalancerClass (default: only Services with none)
  --interfaces A,B            announce only on these interfaces (default: from the L2Advertisement, else by subnet)
  --metrics-port PORT         /metrics, /healthz, /readyz port; 0 disables (default 7472)
  --heartbeat-interval DUR    heartbeat Lease renewal period (default 10s)
  --lease-duration DUR        without a mesh verdict, a node not renewed for this long is dead (default 40s)
  --liveness-port PORT        UDP port of the liveness mesh, the same on every node; 0: no mesh (default 7947)
  --liveness-address IP       the address other nodes reach this one on (default $HOST_IP)
  --liveness-interval DUR     mesh heartbeat interval (default 100ms)
  --liveness-detect-multiplier N  missed intervals before a monitor suspects a peer (default 4)
  --stagger DUR               delay per rank before a takeover attempt (default 150ms)
  --garp-rounds N             gratuitous ARP / unsolicited NA rounds on takeover (default 3)
  --garp-refresh DUR          re-announce owned IPs this often; 0 disables (default 0)
  --frr-vty-socket DIR        BGP mode: drive the FRR whose vty sockets are in DIR (default: no BGP mode)
  --bgp-poll-interval DUR     BGP mode: read FRR's sessions this often (default 5s)
  --log-level LEVEL           pino level (default $LOG_LEVEL or info)
  --help                      this text`;

const INTERFACE_NAME = /^[^\s/:,]{1,15}$/;
/** Node names are object names (DNS subdomains). */
const NODE_NAME = OBJECT_NAME;

const WITH_VALUE = new Set([
  ...COMMON_WITH_VALUE,
  '--node-name',
  '--lb-class',
  '--interfaces',
  '--heartbeat-interval',
  '--lease-duration',
  '--stagger',
  '--garp-rounds',
  '--garp-refresh',
  '--liveness-port',
  '--liveness-address',
  '--liveness-interval',
  '--liveness-detect-multiplier',
  '--frr-vty-socket',
  '--bgp-poll-interval',
]);

export function parseSpeakerFlags(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): SpeakerFlags {
  const flags: SpeakerFlags = {
    ...commonFlagDefaults(),
    nodeName: env.NODE_NAME ?? '',
    heartbeatIntervalMs: 10_000,
    leaseDurationMs: 40_000,
    staggerMs: 150,
    garpRounds: 3,
    garpRefreshMs: 0,
    livenessPort: DEFAULT_LIVENESS_PORT,
    livenessAddress: env.HOST_IP ?? '',
    livenessIntervalMs: 100,
    livenessDetectMultiplier: 4,
    bgpPollIntervalMs: 5000,
  };
  walkFlags(argv, { withValue: WITH_VALUE, usage: USAGE }, (name, given) => {
    if (setCommonFlag(flags, name, given)) return;
    const value = given ?? '';
    switch (name) {
      case '--node-name':
        flags.nodeName = value;
        break;
      case '--lb-class':
        flags.lbClass = value === '' ? undefined : value;
        break;
      case '--interfaces': {
        const names = value
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        const bad = names.find((n) => !INTERFACE_NAME.test(n));
        if (bad !== undefined)
          throw new Error(`--interfaces: "${bad}" is not an interface name (1-15 characters, no "/", ":" or spaces)`);
        flags.interfaces = names.length > 0 ? names : undefined;
        break;
      }
      case '--heartbeat-interval':
        flags.heartbeatIntervalMs = parseDuration(name, value);
        break;
      case '--lease-duration':
        flags.leaseDurationMs = parseDuration(name, value);
        break;
      case '--stagger':
        flags.staggerMs = parseDuration(name, value, true);
        break;
      case '--garp-rounds':
        if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100)
          throw new Error(`--garp-rounds: expected a whole number 1..100, got "${value}"`);
        flags.garpRounds = Number(value);
        break;
      case '--garp-refresh':
        flags.garpRefreshMs = parseDuration(name, value, true);
        break;
      case '--frr-vty-socket':
        if (!value.startsWith('/')) {
          throw new Error(`--frr-vty-socket: expected an absolute folder path, got "${value}"`);
        }
        flags.frrVtySocket = value;
        break;
      case '--bgp-poll-interval':
        flags.bgpPollIntervalMs = parseDuration(name, value);
        break;
      case '--liveness-port':
        flags.livenessPort = parsePort(name, value);
        break;
      case '--liveness-address':
        if (isIP(value) === 0) throw new Error(`--liveness-address: "${value}" is not an IP address`);
        flags.livenessAddress = value;
        break;
      case '--liveness-interval': {
        const ms = parseDuration(name, value);
        if (ms < 10) throw new Error(`--liveness-interval: at least 10ms, got "${value}"`);
        flags.livenessIntervalMs = ms;
        break;
      }
      case '--liveness-detect-multiplier':
        if (!/^\d+$/.test(value) || Number(value) < 2 || Number(value) > 100)
          throw new Error(`--liveness-detect-multiplier: expected a whole number 2..100, got "${value}"`);
        flags.livenessDetectMultiplier = Number(value);
        break;
    }
  });
  if (flags.help) return flags;
  if (flags.nodeName === '') throw new Error('--node-name: required (or set NODE_NAME)');
  if (!NODE_NAME.test(flags.nodeName)) throw new Error(`--node-name: "${flags.nodeName}" is not a valid node name`);
  if (flags.livenessPort !== 0 && isIP(flags.livenessAddress) === 0) {
    throw new Error(
      flags.livenessAddress === ''
        ? '--liveness-address: required for the liveness mesh (set HOST_IP from status.hostIP, or --liveness-port 0 ' +
            'for none)'
        : `--liveness-address: "${flags.livenessAddress}" (from HOST_IP) is not an IP address`,
    );
  }
  if (flags.leaseDurationMs <= flags.heartbeatIntervalMs) {
    throw new Error(
      `--lease-duration (${flags.leaseDurationMs} ms) must be longer than --heartbeat-interval ` +
        `(${flags.heartbeatIntervalMs} ms)`,
    );
  }
  return flags;
}
