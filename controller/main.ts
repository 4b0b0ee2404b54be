// The controller program: flags in, startController, signals. Nothing else.

import { loadKubeConfig } from '../src/kube/config.js';
import { createLogger } from '../src/log/logger.js';
import { USAGE, parseControllerFlags, type ControllerFlags } from './flags.js';
import { startController } from './start.js';

async function main(): Promise<void> {
  let flags: ControllerFlags;
  try {
    flags = parseControllerFlags(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const logger = createLogger('controller', flags.logLevel ?? process.env.LOG_LEVEL ?? 'info');
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
    ...(flags.identity ? { identity: flags.identity } : {}),
    logger,
  });
  logger.info({ identity: controller.identity, namespace: flags.namespace, lbClass: flags.lbClass || '(none)', metricsPort: controller.metricsPort }, 'controller started');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: releasing the leader Lease');
    controller.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: String(err) }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`ironlb controller: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
