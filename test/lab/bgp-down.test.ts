// `npm run lab -- --down` also removes the run folders FRR made for a BGP
// lab's namespaces (`-N <namespace>` creates /var/run/frr/<namespace>), by
// prefix, and nothing of another prefix. Uses a stand-in run folder: no root.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { frrRunFolders } from './down.mjs';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('frrRunFolders', () => {
  it('lists only folders named <prefix>-*, sorted; a missing run folder lists nothing', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ironlb-frr-run-'));
    for (const name of ['ilbabc12-node2', 'ilbabc12-node1', 'ilbabc123-node1', 'other-node1'])
      mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, 'ilbabc12-file'), '');
    expect(frrRunFolders('ilbabc12', dir)).toEqual([
      path.join(dir, 'ilbabc12-node1'),
      path.join(dir, 'ilbabc12-node2'),
    ]);
    expect(frrRunFolders('ilbabc12', path.join(dir, 'missing'))).toEqual([]);
  });
});
