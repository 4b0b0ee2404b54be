// Types for tools.mjs (plain JavaScript: it runs before anything is compiled).

export interface Tool {
  command: string;
  pkg: string;
  /** Looked up in this folder instead of on PATH. */
  dir?: string;
}

export type Purpose = 'lab' | 'test';

export type Decision =
  | { action: 'ok' }
  | { action: 'install'; packages: string[] }
  | { action: 'note'; message: string }
  | { action: 'stop'; message: string };

export const TOOLS: readonly Tool[];
export const PURPOSES: readonly Purpose[];
export const KUBECTL_MISSING: string;
export function findCommand(command: string, pathVar: string | undefined): string | undefined;
export function missingTools(pathVar: string | undefined, root?: string): Tool[];
export function decide(facts: {
  purpose: string;
  missing: readonly Tool[];
  isRoot: boolean;
  hasApt: boolean;
  mayInstall: boolean;
  /** kubectl on PATH: `npm test` needs it whoever runs it. */
  hasKubectl: boolean;
}): Decision;
export function installSteps(packages: readonly string[]): Array<[string, string[]]>;
export function main(purpose: string, env?: NodeJS.ProcessEnv): number;
