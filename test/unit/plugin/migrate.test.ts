import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseL2Advertisement } from '../../../src/api/l2advertisement.js';
import { parsePool } from '../../../src/api/pool.js';
import { convertAddress, migrate, type ReportLine } from '../../../src/plugin/migrate.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'metallb');
const read = (file: string) =>
  parseAllDocuments(readFileSync(path.join(dir, file), 'utf8')).map((d) => ({
    source: file,
    object: d.toJS() as unknown,
  }));
const run = (...files: string[]) => migrate(files.flatMap(read), { namespace: 'ironlb-system' });
const lines = (report: ReportLine[], object: string) =>
  report.filter((l) => l.object === object).map((l) => `${l.field} ${l.outcome}`);

describe('migrate: MetalLB sample configurations', () => {
  it('converts every MetalLB L2 sample into objects ironlb itself accepts', () => {
    // One file at a time: several samples reuse the name `example`.
    const samples = readdirSync(dir).filter((f) => f.endsWith('.yaml') && !f.includes('bgp'));
    expect(samples.length).toBe(6);
    for (const sample of samples) {
      const result = run(sample);
      expect(result.failed, sample).toBe(false);
      expect(result.objects.length, sample).toBeGreaterThan(0);
      for (const object of result.objects) {
        const check = object.kind === 'IPAddressPool' ? parsePool(object) : parseL2Advertisement(object);
        expect(check, `${sample}: ${object.kind} ${object.metadata.name}`).toMatchObject({ ok: true });
        expect(object.metadata.namespace).toBe('ironlb-system');
      }
    }
  });

  it('carries the pool sample field by field', () => {
    const { objects, report } = run('ipaddresspool_with_selector.yaml');
    expect(objects).toEqual([
      {
        apiVersion: 'ironlb.io/v1beta1',
        kind: 'IPAddressPool',
        metadata: { name: 'ippool-ns-service-alloc-sample', namespace: 'ironlb-system' },
        spec: {
          addresses: ['192.168.20.0/24'],
          avoidBuggyIPs: true,
          serviceAllocation: {
            priority: 50,
            namespaces: ['namespace-a', 'namespace-b'],
            namespaceSelectors: [{ matchLabels: { foo: 'bar' } }],
            serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['bar'] }] }],
          },
        },
      },
    ]);
    expect(lines(report, 'IPAddressPool metallb-system/ippool-ns-service-alloc-sample')).toEqual([
      'apiVersion changed',
      'metadata.namespace changed',
      'spec.addresses[0] carried',
      'spec.avoidBuggyIPs carried',
      'spec.serviceAllocation.priority carried',
      'spec.serviceAllocation.namespaces carried',
      'spec.serviceAllocation.namespaceSelectors carried',
      'spec.serviceAllocation.serviceSelectors carried',
    ]);
  });

  it('says what changed and what has no equivalent', () => {
    const { objects, report, failed } = run('edge-cases.yaml', 'bgppeer_simple.yaml', 'simple_pool_adv_bgp.yaml');
    expect(failed).toBe(false);
    expect(objects.find((o) => o.metadata.name === 'hostbits')?.spec.addresses).toEqual([
      '192.0.2.64/26',
      '198.51.100.10-198.51.100.20',
      '2001:db8::/120',
    ]);
    expect(objects.find((o) => o.metadata.name === 'picky')?.spec).toEqual({
      ipAddressPoolSelectors: [{ matchLabels: { zone: 'a' } }],
      interfaces: ['eth1'],
    });
    const hostbits = report.filter((l) => l.object === 'IPAddressPool metallb-system/hostbits');
    expect(hostbits.find((l) => l.field === 'spec.addresses[0]')).toMatchObject({
      outcome: 'changed',
      detail: expect.stringContaining('192.0.2.77/26 -> 192.0.2.64/26'),
    });
    expect(hostbits.find((l) => l.field === 'metadata.annotations')?.outcome).toBe('dropped');
    expect(lines(report, 'L2Advertisement metallb-system/picky')).toContain('spec.serviceSelectors dropped');
    expect(lines(report, 'L2Advertisement metallb-system/picky')).toContain('spec.preferredNodeSelectors dropped');
    // MetalLB's own BGP samples convert too (test/unit/plugin/migrate-bgp.test.ts has the BGP cases).
    expect(
      report.filter((l) => l.object.startsWith('BGP') && l.field.startsWith('spec') && l.outcome !== 'carried'),
    ).toEqual([]);
    expect(objects.filter((o) => o.kind.startsWith('BGP')).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'BGPPeer/peer',
      'BGPAdvertisement/empty',
    ]);
  });

  it('refuses what it cannot convert, and writes none of it', () => {
    const bad = migrate(
      [
        {
          source: 'a.yaml',
          object: {
            apiVersion: 'metallb.io/v1beta1',
            kind: 'IPAddressPool',
            metadata: { name: 'p' },
            spec: { addresses: ['192.0.2.9-192.0.2.1'] },
          },
        },
        {
          source: 'a.yaml',
          object: {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'config', namespace: 'metallb-system' },
            data: { config: 'address-pools: []' },
          },
        },
        { source: 'a.yaml', object: 'just text' },
        {
          source: 'b.yaml',
          object: {
            apiVersion: 'metallb.io/v1beta1',
            kind: 'IPAddressPool',
            metadata: { name: 'q', namespace: 'one' },
            spec: { addresses: ['192.0.2.0/30'] },
          },
        },
        {
          source: 'b.yaml',
          object: {
            apiVersion: 'metallb.io/v1beta1',
            kind: 'IPAddressPool',
            metadata: { name: 'q', namespace: 'two' },
            spec: { addresses: ['192.0.2.4/30'] },
          },
        },
        { source: 'b.yaml', object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } } },
      ],
      { namespace: 'ironlb-system' },
    );
    expect(bad.failed).toBe(true);
    expect(bad.objects.map((o) => o.metadata.name)).toEqual(['q']);
    expect(bad.report.filter((l) => l.outcome === 'error').map((l) => l.detail)).toEqual([
      expect.stringContaining('range start is after end'),
      expect.stringContaining('configmaptocrs'),
      'not a Kubernetes object (a YAML mapping expected)',
      expect.stringContaining('already converted from one'),
    ]);
    expect(bad.report.find((l) => l.object === 'Deployment x')?.outcome).toBe('skipped');
  });

  it('masks host bits as MetalLB did and leaves clean entries alone', () => {
    expect(convertAddress('192.0.2.77/26')).toMatchObject({ value: '192.0.2.64/26' });
    expect(convertAddress('2001:db8::1:5/112')).toMatchObject({ value: '2001:db8::1:0/112' });
    expect(convertAddress('192.0.2.0/24')).toEqual({ value: '192.0.2.0/24' });
    expect(convertAddress('192.0.2.1 -192.0.2.3')).toMatchObject({ value: '192.0.2.1-192.0.2.3' });
    expect(convertAddress('192.0.2.1/33')).toEqual({ error: '"192.0.2.1/33" is not a CIDR' });
  });
});
