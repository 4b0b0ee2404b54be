import { describe, expect, it } from 'vitest';
import { parsePluginArgs } from '../../../src/plugin/args.js';
import { leaseLiveness } from '../../../src/plugin/nodes.js';
import { renderTable } from '../../../src/plugin/table.js';

describe('kubectl ironlb command line', () => {
  it('reads status, pools, nodes and migrate with their flags', () => {
    expect(parsePluginArgs(['status', 'web', '-n', 'apps', '-o', 'json'])).toMatchObject({
      command: 'status',
      service: 'web',
      namespace: 'apps',
      output: 'json',
      ironlbNamespace: 'ironlb-system',
    });
    expect(parsePluginArgs(['status', '-A'])).toMatchObject({ allNamespaces: true, output: 'table' });
    expect(parsePluginArgs(['migrate', '-f', 'a.yaml', '-f', 'b.yaml', '--dry-run'])).toMatchObject({
      files: ['a.yaml', 'b.yaml'],
      dryRun: true,
      output: 'yaml',
    });
    expect(
      parsePluginArgs(['migrate', '--from-cluster', '--metallb-namespace=mlb', '--context', 'prod']),
    ).toMatchObject({ fromCluster: true, metallbNamespace: 'mlb', context: 'prod' });
    expect(parsePluginArgs([])).toBe('help');
    expect(parsePluginArgs(['pools', '--help'])).toBe('help');
  });

  it('names the flag in every refusal', () => {
    const refusal = (argv: string[]) => {
      try {
        parsePluginArgs(argv);
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(refusal(['frob'])).toBe('unknown command "frob" (status, pools, nodes, migrate)');
    expect(refusal(['status', '-o', 'yaml'])).toBe('--output: "yaml" is not one of table, json for status');
    expect(refusal(['status', '-n', 'Bad_NS'])).toBe('--namespace: "Bad_NS" is not a namespace name');
    expect(refusal(['status', '-n', 'a', '-A'])).toBe('-n and -A exclude each other');
    expect(refusal(['status', 'web', '-A'])).toContain('drop -A');
    expect(refusal(['pools', 'extra'])).toBe('pools: unexpected argument "extra"');
    expect(refusal(['nodes', '--dry-run'])).toBe('--dry-run: only for migrate');
    expect(refusal(['migrate'])).toBe('migrate: give -f FILE (MetalLB YAML) or --from-cluster');
    expect(refusal(['migrate', '-f', 'x', '--from-cluster'])).toBe('migrate: -f and --from-cluster exclude each other');
    expect(refusal(['status', '--bogus'])).toMatch(/Unknown option '--bogus'/);
  });
});

describe('node liveness', () => {
  const lease = (renewedAgoMs: number | undefined, leaseDurationSeconds: number | undefined) => ({
    spec: {
      renewTime: renewedAgoMs !== undefined ? new Date(1_000_000 - renewedAgoMs) : undefined,
      leaseDurationSeconds,
    },
  });
  it("follows each Lease's own duration, not a fixed interval", () => {
    expect(leaseLiveness(lease(2999, 3), 1_000_000).live).toBe(true);
    expect(leaseLiveness(lease(3000, 3), 1_000_000).live).toBe(false);
    expect(leaseLiveness(lease(25_000, 30), 1_000_000)).toEqual({
      live: true,
      renewedAgoMs: 25_000,
      leaseDurationSeconds: 30,
    });
    expect(leaseLiveness(lease(undefined, 3), 1_000_000).live).toBe(false);
    expect(leaseLiveness(lease(10, undefined), 1_000_000).live).toBe(false);
  });
});

describe('plain tables', () => {
  it('pads columns like kubectl and shows <none> for empty cells', () => {
    expect(
      renderTable(
        ['NAME', 'IP'],
        [
          ['web', '192.0.2.10'],
          ['db', ''],
        ],
      ),
    ).toBe('NAME   IP\nweb    192.0.2.10\ndb     <none>\n');
  });
});
