// The controller program: flags in, startController, signals. Nothing else.

import { loadKubeConfig } from '../src/kube/config.js';
import { exitOnStartupFailure, handleSignals, readFlagsOrExit } from '../src/cli/program.js';
import { createLogger } from '../src/log/logger.js';
import { USAGE, parseControllerFlags } from './flags.js';
import { startController } from './start.js';

async function main(): Promise<void> {
  const flags = readFlagsOrExit(() => parseControllerFlags(process.argv.slice(2)), USAGE);
  if (flags === undefined) return;
  const logger = createLogger('controller', flags.logLevel ?? process.env.LOG_LEVEL ?? 'info');
  const signals = handleSignals(logger);
  const kubeConfig = loadKubeConfig(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {});
  const controller = await startController({
    kubeConfig,
    namespace: flags.namespace,
    lbClass: flags.lbClass,
    metricsPort: flags.metricsPort,
    leaderElect: flags.leaderElect,
    leaseDurationMs: flags.leaderLeaseDurationMs,
    renewDeadlineMs: flags.leaderRenewDeadlineMs,
    retryPeriodMs: flags.leaderRetryPeriodMs,
    identity: flags.identity || undefined,
    logger,
  });
  logger.info(
    {
      identity: controller.identity,
      namespace: flags.namespace,
      lbClass: flags.lbClass || '(none)',
      metricsPort: controller.metricsPort,
    },
    'controller started',
  );

  signals.started(
    'stopping: releasing the leader Lease',
    () => controller.stop(),
    () => controller.synced(),
  );
}

main().catch(exitOnStartupFailure('controller'));
