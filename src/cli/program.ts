import type { Logger } from '../log/logger.js';

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits 0 (1 if stopping
 * failed). A second signal while stopping is ignored: the stop is what releases
 * Leases, and cutting it short is what would leave an IP dark.
 */
export function stopOnSignals(logger: Logger, message: string, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, message);
    stop().then(
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

/**
 * Parses the flags; a bad flag prints its message and exits 2, `--help` prints
 * the usage and returns undefined (the program then does nothing).
 */
export function readFlagsOrExit<T extends { help: boolean }>(parse: () => T, usage: string): T | undefined {
  let flags: T;
  try {
    flags = parse();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  if (flags.help) {
    process.stdout.write(`${usage}\n`);
    return undefined;
  }
  return flags;
}

/** Prints a startup failure on stderr and exits 1. */
export function exitOnStartupFailure(program: string): (err: unknown) => void {
  return (err: unknown) => {
    process.stderr.write(`ironlb ${program}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  };
}
