// The BGP CRDs and the parsers in src/bgp judge the same input alike: what a
// parser takes, the CRD (as the API server double applies it, with its CEL
// rules) takes too, and what the CRD takes, the parser refuses only for what
// CEL of Kubernetes 1.29 cannot check (an address's exact text and family).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBFDProfile } from '../../../src/bgp/bfd-profile.js';
import { parseBGPAdvertisement } from '../../../src/bgp/advertisement.js';
import { parseBGPPeer } from '../../../src/bgp/peer.js';
import { findCrdDir } from '../../kube/crd-dir.js';
import type { JsonObject } from '../../kube/patch.js';
import { loadCrdDir } from '../../kube/resources.js';
import { admitCustomResource, type Schema } from '../../kube/schema.js';

const types = loadCrdDir(findCrdDir());
const schemaOf = (plural: string): Schema => types.find((t) => t.plural === plural)?.schema as Schema;

/** Field errors of the CRD for a spec (defaults applied first, as on create). */
function crdErrors(plural: string, kind: string, spec: JsonObject): string[] {
  // A copy: admission fills defaults in place, and the parser must see the input as written.
  const object: JsonObject = {
    apiVersion: 'ironlb.io/v1beta1',
    kind,
    metadata: { name: 'x' },
    spec: structuredClone(spec),
  };
  return admitCustomResource(object, schemaOf(plural)).map((e) => e.text);
}

/** Absent, a good value or a bad one, by weight (default: mostly good). */
const field = <T>(good: T[], bad: T[], absent = 4) =>
  fc.oneof(
    { weight: absent, arbitrary: fc.constant(undefined) },
    { weight: 12, arbitrary: fc.constantFrom(...good) },
    { weight: 1, arbitrary: fc.constantFrom(...bad) },
  );
const duration = (good: string[]) => field(good, ['0', '1.5s', '3.0005s', '500ms', '65536s', '-5s', '+5s', 'soon', '']);

const peerSpec = fc.record(
  {
    myASN: field([1, 64512, 4294967295], [0, 4294967296, 1.5], 0),
    peerASN: field([64512, 64513, 4294967295], [0, 4294967296], 1),
    dynamicASN: field(['internal', 'external'], ['other'], 60),
    peerAddress: field(['192.0.2.1', '2001:db8::1', 'fe80::1'], ['192.0.2', 'router', '2001:db8::1%eth0'], 0),
    peerPort: field([1, 179, 16384], [0, 16385]),
    sourceAddress: field(['192.0.2.2'], ['2001:db8::2'], 24),
    holdTime: duration(['0s', '3s', '9s', '90s', '1m30s', '1h', '65535s']),
    keepaliveTime: duration(['0s', '1s', '3s', '30s', '1h']),
    connectTime: duration(['1s', '10s', '2m', '65535s']),
    routerID: field(['10.0.0.1'], ['2001:db8::1', '10.0.0']),
    password: field(['secret', 'x'.repeat(80)], ['two words', '', 'x'.repeat(81)], 24),
    passwordSecret: field([{ name: 'bgp' }], [{ name: 'Bad_Name' }], 36),
    bfdProfile: field(['fast'], ['Bad_Name']),
    ebgpMultiHop: field([true, false], ['yes'] as unknown as boolean[]),
    enableGracefulRestart: field([true, false], ['no'] as unknown as boolean[]),
  },
  { requiredKeys: [] },
);

/** Parser errors the 1.29 schema cannot see: the exact text and family of addresses. */
const addressOnly = /^spec\.(peerAddress|sourceAddress|routerID): /;

describe('BGPPeer: the CRD and parseBGPPeer agree', () => {
  it('on every combination of good and bad field values', () => {
    fc.assert(
      fc.property(peerSpec, (spec) => {
        const clean = JSON.parse(JSON.stringify(spec)) as JsonObject;
        const crd = crdErrors('bgppeers', 'BGPPeer', clean);
        const parsed = parseBGPPeer({ metadata: { name: 'x' }, spec: clean });
        if (parsed.ok) expect(crd, 'the CRD refuses what the parser takes').toEqual([]);
        else if (crd.length === 0) {
          const unexplained = parsed.errors.filter((e) => !addressOnly.test(e));
          expect(unexplained, 'the parser refuses what the CRD takes').toEqual([]);
        }
      }),
      { numRuns: 3000, seed: 14 },
    );
  });
});

describe('BFDProfile and BGPAdvertisement: the CRDs and the parsers agree', () => {
  it('on BFD timers at and beyond their bounds', () => {
    // One set of values for every timer: each field's bounds differ, so some are in and some out for each.
    const value = field([2, 10, 254, 255, 60000], [0, 1, 9, 256, 60001, true] as number[]);
    const passiveMode = field([true, false], ['yes'] as unknown as boolean[]);
    const spec = fc.record(
      {
        receiveInterval: value,
        transmitInterval: value,
        detectMultiplier: value,
        echoInterval: value,
        minimumTtl: value,
        passiveMode,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(spec, (raw) => {
        const clean = JSON.parse(JSON.stringify(raw)) as JsonObject;
        const ok = crdErrors('bfdprofiles', 'BFDProfile', clean).length === 0;
        expect(parseBFDProfile({ metadata: { name: 'x' }, spec: clean }).ok).toBe(ok);
      }),
      { numRuns: 1000, seed: 14 },
    );
  });

  it('on aggregation lengths, local preferences and communities', () => {
    const spec = fc.record(
      {
        aggregationLength: field([1, 24, 32], [0, 33]),
        aggregationLengthV6: field([1, 64, 128], [0, 129]),
        localPref: field([0, 100, 4294967295], [-1, 4294967296]),
        communities: field(
          [['65535:65282'], ['large:1:2:3'], ['no-export']],
          [['65536:1'], ['large:1:2'], ['a b'], ['1:2:3']],
        ),
        peers: field([['router']], [['Bad_Name']]),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(spec, (raw) => {
        const clean = JSON.parse(JSON.stringify(raw)) as JsonObject;
        const crd = crdErrors('bgpadvertisements', 'BGPAdvertisement', clean);
        const parsed = parseBGPAdvertisement({ metadata: { name: 'x' }, spec: clean });
        if (parsed.ok) expect(crd).toEqual([]);
        // The pattern cannot range-check numbers: 65536:1 passes the CRD and only the parser refuses it.
        else if (crd.length === 0) {
          const unexplained = parsed.errors.filter((e) => !/^spec\.communities\[\d+\]: "65536:1"/.test(e));
          expect(unexplained).toEqual([]);
        }
      }),
      { numRuns: 1000, seed: 14 },
    );
  });
});
