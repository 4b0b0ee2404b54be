import type { Logger } from '../log/logger.js';

export interface SignalHandling {
  /**
   * The program is up: from now on the first signal logs `message`, runs `stop`
   * and exits 0 (1 if stopping failed). With `synced`, a signal while it says
   * false still exits at once (for a program that is up before it has synced).
   */
  started(message: string, stop: () => Promise<void>, synced?: () => boolean): void;
}

/**
 * The one signal path of both programs. Call it before the first await, so no
 * SIGTERM is ever lost (as PID 1 in a container, node would otherwise ignore
 * it until the grace period ends in SIGKILL). Until the program has synced, a
 * signal exits 0 at once: nothing is announced or allocated yet that a stop
 * would have to hand over, and a stop could hang on an API server that does
 * not answer. After that, the first signal runs the stop; a second signal
 * while stopping is ignored: the stop is what releases Leases, and cutting it
 * short is what would leave an IP dark.
 */
export function handleSignals(logger: Logger): SignalHandling {
  let stop: { message: string; run: () => Promise<void>; synced: () => boolean } | undefined;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    if (stop === undefined || !stop.synced()) {
      logger.info({ signal }, 'stopping before sync: nothing held yet');
      logger.flush();
      process.exit(0);
    }
    logger.info({ signal }, stop.message);
    stop.run().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: String(err) }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    started: (message, run, synced = () => true) => {
      stop = { message, run, synced };
    },
  };
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
