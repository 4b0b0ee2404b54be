// The speaker program: flags in, startSpeaker, signals. Nothing else.
import { exitOnStartupFailure, handleSignals, readFlagsOrExit } from '../src/cli/program.js';
import { createLogger } from '../src/log/logger.js';
import { USAGE, parseSpeakerFlags } from './flags.js';
import { startSpeaker } from './start.js';

async function main(): Promise<void> {
  const flags = readFlagsOrExit(() => parseSpeakerFlags(process.argv.slice(2)), USAGE);
  if (flags === undefined) return;
  const logger = createLogger('speaker', flags.logLevel ?? process.env.LOG_LEVEL ?? 'info').child({
    node: flags.nodeName,
  });
  // Signals are handled from here on: before the speaker has synced, one exits 0 at once.
  const signals = handleSignals(logger);
  const speaker = await startSpeaker(flags, logger, exitOnStartupFailure('speaker'));
  signals.started('stopping: withdrawing, releasing every held IP, telling the mesh, deleting the node Leases', () =>
    speaker.stop(),
  );
}

main().catch(exitOnStartupFailure('speaker'));
