// Finds the repository's deploy/crds from wherever this file runs (src tree or dist).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function findCrdDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'deploy', 'crds');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('deploy/crds not found above test/kube; pass crdDir');
}
