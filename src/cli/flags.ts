// Flag parsing shared by the controller and the speaker. Pure: every bad input
// becomes an Error whose message names the flag, and main.ts prints it.

/** `1.5s`, `500ms`, `2m` in milliseconds; `0` only where `allowZero`. */
export function parseDuration(flag: string, text: string, allowZero = false): number {
  if (allowZero && text.trim() === '0') return 0;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (!match) throw new Error(`${flag}: "${text}" is not a duration (examples: 500ms, 3s, 1m)`);
  const value = Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 's' ? 1000 : 60_000);
  if (value <= 0 && !allowZero) throw new Error(`${flag}: must be greater than zero, got "${text}"`);
  return value;
}

export function parseBool(flag: string, text: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new Error(`${flag}: expected true or false, got "${text}"`);
}

export function parsePort(flag: string, text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    throw new Error(`${flag}: expected a port 0..65535 (0 disables), got "${text}"`);
  return port;
}

export function parseNamespace(flag: string, text: string): string {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(text))
    throw new Error(`${flag}: "${text}" is not a valid namespace name`);
  return text;
}

/** The flags every ironlb program takes, parsed the same way in each. */
export interface CommonFlags {
  kubeconfig?: string;
  namespace: string;
  metricsPort: number;
  logLevel?: string;
  help: boolean;
}

/** The common flags' defaults. */
export function commonFlagDefaults(): CommonFlags {
  return { namespace: 'ironlb-system', metricsPort: 7472, help: false };
}

/** The common flags that take a value (`--help` is walkFlags' own). */
export const COMMON_WITH_VALUE: readonly string[] = ['--kubeconfig', '--namespace', '--metrics-port', '--log-level'];

/** Sets `name` on `flags` when it is a common flag; false when it is not one. */
export function setCommonFlag(flags: CommonFlags, name: string, given: string | undefined): boolean {
  const value = given ?? '';
  switch (name) {
    case '--help':
      flags.help = true;
      return true;
    case '--kubeconfig':
      flags.kubeconfig = value;
      return true;
    case '--namespace':
      flags.namespace = parseNamespace(name, value);
      return true;
    case '--metrics-port':
      flags.metricsPort = parsePort(name, value);
      return true;
    case '--log-level':
      flags.logLevel = value;
      return true;
    default:
      return false;
  }
}

export interface FlagSyntax {
  /** Flags that take a value, as `--flag value` or `--flag=value`. */
  withValue: ReadonlySet<string>;
  /** Flags whose value is optional (`--flag` alone means true). */
  booleans?: ReadonlySet<string>;
  usage: string;
}

/**
 * Walks argv and calls `onFlag` once per flag with its value (undefined for a
 * bare boolean). `--help`/`-h` are reported as `--help`. Unknown flags and
 * missing values throw.
 */
export function walkFlags(
  argv: readonly string[],
  syntax: FlagSyntax,
  onFlag: (name: string, value: string | undefined) => void,
): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (name === '--help' || name === '-h') {
      onFlag('--help', undefined);
      continue;
    }
    if (syntax.booleans?.has(name)) {
      onFlag(name, value);
      continue;
    }
    if (!syntax.withValue.has(name)) throw new Error(`unknown flag "${arg}"\n${syntax.usage}`);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new Error(`${name}: needs a value`);
    }
    onFlag(name, value);
  }
}
