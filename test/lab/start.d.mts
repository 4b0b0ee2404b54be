// Types for start.mjs (plain JavaScript: it runs before anything is compiled).

export interface LabArgs {
  help: boolean;
  down: boolean;
  keep: boolean;
  bgp: boolean;
  kubeconfig?: string;
}

export const PREFIX: string;
export const ROOT: string;
export const USAGE: string;
export function parseLabArgs(argv: readonly string[]): LabArgs;
export function main(argv: readonly string[], env?: NodeJS.ProcessEnv): Promise<number>;
