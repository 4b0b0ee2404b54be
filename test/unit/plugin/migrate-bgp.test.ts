import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { checkBgpObject } from '../../../src/plugin/migrate-bgp.js';
import { migrate, type ReportLine } from '../../../src/plugin/migrate.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'bgp');
const run = (file: string) =>
  migrate(
    parseAllDocuments(readFileSync(path.join(dir, file), 'utf8')).map((d) => ({
      source: file,
      object: d.toJS() as unknown,
    })),
    { namespace: 'ironlb-system' },
  );
const lines = (report: ReportLine[], object: string) =>
  report.filter((l) => l.object === object).map((l) => `${l.field} ${l.outcome}`);

describe('migrate: MetalLB BGP configurations', () => {
  it("converts every BGP sample's fields into objects ironlb accepts; only apiVersion and namespace change", () => {
    const input = parseAllDocuments(readFileSync(path.join(dir, 'samples.yaml'), 'utf8')).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string }; spec?: Record<string, unknown> },
    );
    const { objects, report, failed } = run('samples.yaml');
    expect(report.filter((l) => l.outcome === 'error' || l.outcome === 'dropped')).toEqual([]);
    expect(failed).toBe(false);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      input.map((o) => `${o.kind}/${o.metadata.name}`),
    );
    for (const [i, object] of objects.entries()) {
      expect(object.apiVersion).toBe('ironlb.io/v1beta1');
      expect(object.metadata).toEqual({ name: input[i]!.metadata.name, namespace: 'ironlb-system' });
      // MetalLB's field names and values, unchanged: a migration is apiVersion and namespace.
      expect(object.spec, object.metadata.name).toEqual(input[i]!.spec ?? {});
      if (object.kind !== 'IPAddressPool') expect(checkBgpObject(object), object.metadata.name).toEqual([]);
    }
  });

  it('says which password Secret to copy, from where to where', () => {
    const { report } = run('samples.yaml');
    const secret = report.find((l) => l.object === 'BGPPeer metallb-system/tor-secret' && l.field.includes('Secret'));
    expect(secret).toMatchObject({ field: 'spec.passwordSecret', outcome: 'changed' });
    expect(secret?.detail).toContain('copy the Secret metallb-system/tor-md5 (kubernetes.io/basic-auth, key password)');
    expect(secret?.detail).toContain('into ironlb-system');
    expect(lines(report, 'BGPPeer metallb-system/tor-secret')).toEqual([
      'apiVersion changed',
      'metadata.namespace changed',
      'spec.holdTime carried',
      'spec.keepaliveTime carried',
      'spec.myASN carried',
      'spec.passwordSecret changed',
      'spec.peerASN carried',
      'spec.peerAddress carried',
      'spec.peerPort carried',
    ]);
  });

  it("takes MetalLB's v1beta1 BGPPeer, its node selector type and every field it had", () => {
    const { objects, failed } = run('v1beta1.yaml');
    expect(failed).toBe(false);
    expect(objects).toEqual([
      {
        apiVersion: 'ironlb.io/v1beta1',
        kind: 'BGPPeer',
        metadata: { name: 'edge', namespace: 'ironlb-system' },
        spec: {
          myASN: 4200000001,
          peerASN: 4200000002,
          peerAddress: '198.51.100.254',
          sourceAddress: '198.51.100.10',
          holdTime: '30s',
          keepaliveTime: '10s',
          routerID: '198.51.100.10',
          password: 'not-a-real-key',
          ebgpMultiHop: true,
          nodeSelectors: [{ matchExpressions: [{ key: 'rack', operator: 'In', values: ['r1', 'r2'] }] }],
        },
      },
    ]);
    expect(checkBgpObject(objects[0]!)).toEqual([]);
  });

  it('warns of references to objects not converted in the same run, and still converts', () => {
    const doc = (kind: string, name: string, spec: Record<string, unknown>) => ({
      source: 'y.yaml',
      object: { apiVersion: 'metallb.io/v1beta1', kind, metadata: { name, namespace: 'metallb-system' }, spec },
    });
    const alone = migrate(
      [
        doc('BGPPeer', 'tor', { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1', bfdProfile: 'slow' }),
        doc('BGPAdvertisement', 'adv', { peers: ['tor', 'nobody'], communities: ['64512:1', 'gone', 'kept'] }),
        doc('Community', 'names', { communities: [{ name: 'kept', value: '64512:2' }] }),
      ],
      { namespace: 'ironlb-system' },
    );
    expect(alone.failed).toBe(false);
    expect(alone.objects).toHaveLength(3);
    expect(
      alone.report.filter((l) => l.outcome === 'warning').map((l) => `${l.object} ${l.field}: ${l.detail}`),
    ).toEqual([
      'BGPPeer metallb-system/tor spec.bfdProfile: BFDProfile slow is not among the objects converted here: ' +
        'it must exist in ironlb-system, or the peer is left out (InvalidBGPConfiguration)',
      'BGPAdvertisement metallb-system/adv spec.peers[1]: BGPPeer nobody is not among the objects converted here: ' +
        'it must exist in ironlb-system, or this entry matches no peer',
      'BGPAdvertisement metallb-system/adv spec.communities[1]: the Community alias gone is not among the objects ' +
        'converted here: it must exist in ironlb-system, or the advertisement is left out (InvalidBGPConfiguration)',
    ]);
  });

  it('refuses a peer ironlb cannot honour, names the field, and writes nothing', () => {
    const { objects, report, failed } = run('refused.yaml');
    expect(failed).toBe(true);
    const errors = report.filter((l) => l.outcome === 'error').map((l) => `${l.object} ${l.field}: ${l.detail}`);
    expect(errors).toEqual([
      expect.stringMatching(/^BGPPeer metallb-system\/in-vrf spec\.vrf: no equivalent: .*default VRF/),
      expect.stringMatching(/^BGPPeer metallb-system\/unnumbered spec\.interface: no equivalent: .*unnumbered/),
      expect.stringMatching(/^BGPPeer metallb-system\/unnumbered spec\.localASN: no equivalent: .*local-as/),
      // Without interface the peer has no address: ironlb's own parser says so too.
      'BGPPeer metallb-system/unnumbered -: ironlb would refuse it: spec.peerAddress: required',
    ]);
    // The caller writes nothing when failed; the objects that did convert are these.
    expect(objects.map((o) => o.metadata.name)).toEqual(['families', 'picky-bgp']);
    expect(objects[0]!.spec).toEqual({ myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.249' });
    const dropped = report.filter((l) => l.outcome === 'dropped').map((l) => `${l.field}: ${l.detail}`);
    expect(dropped).toEqual([
      expect.stringMatching(/^spec\.disableMP: not needed/),
      expect.stringMatching(/^spec\.dualStackAddressFamily: .*add a BGPPeer for the router's other address/),
      expect.stringMatching(/^spec\.serviceSelectors: no equivalent/),
    ]);
  });

  it("refuses a converted object that ironlb would refuse, with its parser's words", () => {
    const { failed, report } = migrate(
      [
        {
          source: 'x.yaml',
          object: {
            apiVersion: 'metallb.io/v1beta2',
            kind: 'BGPPeer',
            metadata: { name: 'bad', namespace: 'metallb-system' },
            spec: { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1', holdTime: '2s', passwordSecret: 'md5' },
          },
        },
      ],
      { namespace: 'ironlb-system' },
    );
    expect(failed).toBe(true);
    expect(report.filter((l) => l.outcome === 'error').map((l) => `${l.field}: ${l.detail}`)).toEqual([
      '-: ironlb would refuse it: spec.holdTime: "2s" must be 0 or at least 3s',
      '-: ironlb would refuse it: spec.passwordSecret.name: must name a Secret',
    ]);
  });

  it('reads an empty passwordSecret as none, as MetalLB does (what its v1beta1 -> v1beta2 conversion writes)', () => {
    const { failed, objects, report } = migrate(
      [
        {
          source: 'cluster',
          object: {
            apiVersion: 'metallb.io/v1beta2',
            kind: 'BGPPeer',
            metadata: { name: 'converted', namespace: 'metallb-system' },
            spec: { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1', passwordSecret: {} },
          },
        },
      ],
      { namespace: 'ironlb-system' },
    );
    expect(failed).toBe(false);
    expect(objects[0]?.spec).toEqual({ myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1' });
    expect(report.find((l) => l.field === 'spec.passwordSecret')).toMatchObject({ outcome: 'dropped' });
  });
});
