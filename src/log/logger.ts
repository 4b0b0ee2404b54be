import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout, one line per decision; level from LOG_LEVEL. */
export function createLogger(component: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { component } });
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
