// Command-line flags of the controller. Parsing is pure so every bad input has
// a test; main.ts only wires the result.

import {
  COMMON_WITH_VALUE,
  commonFlagDefaults,
  parseBool,
  parseDuration,
  setCommonFlag,
  walkFlags,
  type CommonFlags,
} from '../src/cli/flags.js';

export interface ControllerFlags extends CommonFlags {
  /** Empty: only Services with no spec.loadBalancerClass. */
  lbClass: string;
  leaderElect: boolean;
  leaderLeaseDurationMs: number;
  leaderRenewDeadlineMs: number;
  leaderRetryPeriodMs: number;
  /** This replica's name in the leader Lease (default: POD_NAME or the hostname). */
  identity?: string;
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

const WITH_VALUE = new Set([
  ...COMMON_WITH_VALUE,
  '--lb-class',
  '--leader-lease-duration',
  '--leader-renew-deadline',
  '--leader-retry-period',
  '--identity',
]);
const BOOLEANS = new Set(['--leader-elect']);

export function parseControllerFlags(argv: readonly string[]): ControllerFlags {
  const flags: ControllerFlags = {
    ...commonFlagDefaults(),
    lbClass: '',
    leaderElect: true,
    leaderLeaseDurationMs: 15_000,
    leaderRenewDeadlineMs: 10_000,
    leaderRetryPeriodMs: 2_000,
  };
  walkFlags(argv, { withValue: WITH_VALUE, booleans: BOOLEANS, usage: USAGE }, (name, given) => {
    if (setCommonFlag(flags, name, given)) return;
    const value = given ?? '';
    switch (name) {
      // A bare --leader-elect means true, as in client-go programs.
      case '--leader-elect':
        flags.leaderElect = given === undefined ? true : parseBool(name, given);
        break;
      case '--lb-class':
        flags.lbClass = value;
        break;
      case '--leader-lease-duration':
        flags.leaderLeaseDurationMs = parseDuration(name, value);
        break;
      case '--leader-renew-deadline':
        flags.leaderRenewDeadlineMs = parseDuration(name, value);
        break;
      case '--leader-retry-period':
        flags.leaderRetryPeriodMs = parseDuration(name, value);
        break;
      case '--identity':
        flags.identity = value;
        break;
    }
  });
  if (flags.leaderRenewDeadlineMs >= flags.leaderLeaseDurationMs) {
    throw new Error('--leader-renew-deadline must be shorter than --leader-lease-duration');
  }
  if (flags.leaderRetryPeriodMs >= flags.leaderRenewDeadlineMs) {
    throw new Error('--leader-retry-period must be shorter than --leader-renew-deadline');
  }
  return flags;
}
