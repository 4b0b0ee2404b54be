// Types for down.mjs (plain JavaScript: `npm run lab -- --down` runs it uncompiled).

export interface Removed {
  namespaces: string[];
  links: string[];
  folders: string[];
}

export function labTempFolders(prefix: string, tmp?: string): string[];
export function frrRunFolders(prefix: string, runDir?: string): string[];
export function cleanupStale(prefix: string, tmp?: string, frrRunDir?: string): Promise<Removed>;
