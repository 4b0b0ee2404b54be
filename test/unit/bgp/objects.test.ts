import { describe, expect, test } from 'vitest';
import { parseBGPAdvertisement } from '../../../src/bgp/advertisement.js';
import { parseBFDProfile } from '../../../src/bgp/bfd-profile.js';
import { parseCommunity, parseCommunityValue } from '../../../src/bgp/community.js';
import { parseGoDuration } from '../../../src/bgp/fields.js';
import { parseBGPPeer } from '../../../src/bgp/peer.js';

const named = (spec: unknown) => ({ metadata: { name: 'x' }, spec });

describe('parseBGPPeer', () => {
  test('every field, addresses made canonical, times in seconds', () => {
    const result = parseBGPPeer({
      metadata: { name: 'router-a' },
      spec: {
        myASN: 64512,
        peerASN: 4200000000,
        peerAddress: '2001:DB8:0::1',
        peerPort: 1179,
        sourceAddress: '2001:db8::a',
        holdTime: '1m30s',
        keepaliveTime: '30s',
        connectTime: '5s',
        routerID: '192.0.2.10',
        nodeSelectors: [{ matchLabels: { rack: 'r1' } }],
        password: 'pw',
        bfdProfile: 'fast',
        ebgpMultiHop: true,
        enableGracefulRestart: true,
      },
    });
    expect(result).toEqual({
      ok: true,
      peer: {
        name: 'router-a',
        myASN: 64512,
        peerASN: 4200000000,
        peerAddress: { text: '2001:db8::1', family: 'IPv6' },
        peerPort: 1179,
        sourceAddress: { text: '2001:db8::a', family: 'IPv6' },
        holdTime: 90,
        keepaliveTime: 30,
        connectTime: 5,
        routerID: '192.0.2.10',
        nodeSelectors: [{ matchLabels: { rack: 'r1' } }],
        password: 'pw',
        bfdProfile: 'fast',
        ebgpMultiHop: true,
        enableGracefulRestart: true,
      },
    });
  });

  test('defaults: port 179, no timers, no password, flags off; a passwordSecret and a dynamic ASN', () => {
    expect(
      parseBGPPeer(
        named({ myASN: 64512, dynamicASN: 'internal', peerAddress: '192.0.2.1', passwordSecret: { name: 'auth' } }),
      ),
    ).toEqual({
      ok: true,
      peer: {
        name: 'x',
        myASN: 64512,
        dynamicASN: 'internal',
        peerAddress: { text: '192.0.2.1', family: 'IPv4' },
        peerPort: 179,
        nodeSelectors: [],
        passwordSecret: 'auth',
        ebgpMultiHop: false,
        enableGracefulRestart: false,
      },
    });
  });

  test.each<[string, Record<string, unknown>, { holdTime: number; keepaliveTime: number }]>([
    ['hold alone sets keepalive to a third', { holdTime: '9s' }, { holdTime: 9, keepaliveTime: 3 }],
    ['keepalive alone sets hold to three times', { keepaliveTime: '20s' }, { holdTime: 60, keepaliveTime: 20 }],
    ['hold 0 turns keepalives off', { holdTime: '0s' }, { holdTime: 0, keepaliveTime: 0 }],
  ])('timers: %s', (_name, timers, expected) => {
    const result = parseBGPPeer(named({ myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1', ...timers }));
    expect(result.ok && { holdTime: result.peer.holdTime, keepaliveTime: result.peer.keepaliveTime }).toEqual(expected);
  });

  const base = { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1' };
  test.each<[string, unknown, string[]]>([
    ['not an object', 'peer', ['BGPPeer: must be an object']],
    ['no name, no spec', {}, ['metadata.name: required', 'spec: required']],
    [
      'nothing in spec',
      named({}),
      ['spec.myASN: required', 'spec.peerASN: required unless spec.dynamicASN is set', 'spec.peerAddress: required'],
    ],
    [
      'ASN out of range',
      named({ ...base, myASN: 0, peerASN: 4294967296 }),
      [
        'spec.myASN: must be a whole number from 1 to 4294967295 (got 0)',
        'spec.peerASN: must be a whole number from 1 to 4294967295 (got 4294967296)',
      ],
    ],
    [
      'both ASN kinds',
      named({ ...base, dynamicASN: 'external' }),
      ['spec.dynamicASN: set only one of spec.peerASN and spec.dynamicASN'],
    ],
    [
      'bad dynamicASN',
      named({ ...base, peerASN: undefined, dynamicASN: 'any' }),
      ['spec.dynamicASN: must be "internal" or "external" (got "any")'],
    ],
    [
      'bad address',
      named({ ...base, peerAddress: '192.0.2' }),
      ['spec.peerAddress: "192.0.2" is not a full IPv4 address (four decimal parts expected)'],
    ],
    [
      'port out of range',
      named({ ...base, peerPort: 70000 }),
      ['spec.peerPort: must be a whole number from 1 to 16384 (got 70000)'],
    ],
    [
      'source of the other family',
      named({ ...base, sourceAddress: '2001:db8::1' }),
      ['spec.sourceAddress: 2001:db8::1 is IPv6 but spec.peerAddress is IPv4'],
    ],
    ['hold time of 2s', named({ ...base, holdTime: '2s' }), ['spec.holdTime: "2s" must be 0 or at least 3s']],
    [
      'hold time not a duration',
      named({ ...base, holdTime: 90 }),
      ['spec.holdTime: 90 is not a duration (write it like "90s" or "1m30s")'],
    ],
    [
      'hold time in fractions',
      named({ ...base, holdTime: '3500ms' }),
      ['spec.holdTime: "3500ms" must be a whole number of seconds'],
    ],
    [
      'keepalive longer than hold',
      named({ ...base, holdTime: '9s', keepaliveTime: '10s' }),
      ['spec.keepaliveTime: "10s" must not be longer than spec.holdTime (9s)'],
    ],
    ['connect time 0', named({ ...base, connectTime: '0s' }), ['spec.connectTime: "0s" must be from 1s to 65535s']],
    [
      'IPv6 router ID',
      named({ ...base, routerID: '2001:db8::1' }),
      ['spec.routerID: must be an IPv4 address (got "2001:db8::1")'],
    ],
    [
      'bad node selector',
      named({ ...base, nodeSelectors: [{ matchLabels: { rack: 1 } }] }),
      ['spec.nodeSelectors[0].matchLabels["rack"]: must be a string'],
    ],
    [
      'password with a space',
      named({ ...base, password: 'two words' }),
      ['spec.password: must be 1 to 80 printable ASCII characters without spaces'],
    ],
    [
      'both password kinds',
      named({ ...base, password: 'pw', passwordSecret: { name: 'auth' } }),
      ['spec.passwordSecret: set only one of spec.password and spec.passwordSecret'],
    ],
    ['secret without a name', named({ ...base, passwordSecret: {} }), ['spec.passwordSecret.name: must name a Secret']],
    [
      'bad profile name',
      named({ ...base, bfdProfile: 'Fast Profile' }),
      ['spec.bfdProfile: "Fast Profile" is not a BFDProfile name'],
    ],
    [
      'multi-hop for iBGP',
      named({ ...base, peerASN: 64512, ebgpMultiHop: true }),
      ['spec.ebgpMultiHop: not allowed for an iBGP peer (peer AS equals myASN)'],
    ],
    [
      'flag not a boolean',
      named({ ...base, enableGracefulRestart: 'yes' }),
      ['spec.enableGracefulRestart: must be true or false (got "yes")'],
    ],
  ])('%s is refused with the field named', (_name, raw, errors) => {
    expect(parseBGPPeer(raw)).toEqual({ ok: false, errors });
  });
});

describe('Go durations', () => {
  test.each<[string, number]>([
    ['90s', 90_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['0', 0],
    ['2h0m1s', 7_201_000],
  ])('%s', (text, ms) => {
    const errors: string[] = [];
    expect(parseGoDuration(text, 'f', errors)).toBe(ms);
    expect(errors).toEqual([]);
  });
  test.each(['', '90', 's', '1d', '-1s', '1s ', '1 s'])('%j is refused', (text) => {
    const errors: string[] = [];
    expect(parseGoDuration(text, 'f', errors)).toBeUndefined();
    expect(errors).toEqual([`f: ${JSON.stringify(text)} is not a duration (write it like "90s" or "1m30s")`]);
  });
});

describe('parseBGPAdvertisement', () => {
  test('every field', () => {
    expect(
      parseBGPAdvertisement({
        metadata: { name: 'adv' },
        spec: {
          ipAddressPools: ['web'],
          ipAddressPoolSelectors: [{ matchLabels: { tier: 'web' } }],
          nodeSelectors: [{ matchLabels: { rack: 'r1' } }],
          peers: ['router-a'],
          aggregationLength: 24,
          aggregationLengthV6: 64,
          localPref: 200,
          communities: ['65535:65282', 'large:1:2:3', 'my-alias'],
        },
      }),
    ).toEqual({
      ok: true,
      advertisement: {
        name: 'adv',
        ipAddressPools: ['web'],
        ipAddressPoolSelectors: [{ matchLabels: { tier: 'web' } }],
        nodeSelectors: [{ matchLabels: { rack: 'r1' } }],
        peers: ['router-a'],
        aggregationLength: 24,
        aggregationLengthV6: 64,
        localPref: 200,
        communities: [
          { kind: 'standard', value: '65535:65282' },
          { kind: 'large', value: '1:2:3' },
          { kind: 'alias', name: 'my-alias' },
        ],
      },
    });
  });

  test('an empty spec: every pool, node and peer, host routes, no attributes', () => {
    expect(parseBGPAdvertisement({ metadata: { name: 'all' } })).toEqual({
      ok: true,
      advertisement: {
        name: 'all',
        ipAddressPools: [],
        ipAddressPoolSelectors: [],
        nodeSelectors: [],
        peers: [],
        aggregationLength: 32,
        aggregationLengthV6: 128,
        localPref: 0,
        communities: [],
      },
    });
  });

  test.each<[string, unknown, string[]]>([
    ['not an object', [], ['BGPAdvertisement: must be an object']],
    ['spec not an object', named('x'), ['spec: must be an object']],
    ['bad pool name', named({ ipAddressPools: ['Web'] }), ['spec.ipAddressPools[0]: "Web" is not an object name']],
    ['peers not a list', named({ peers: 'router-a' }), ['spec.peers: must be a list of names']],
    [
      'aggregation 33',
      named({ aggregationLength: 33 }),
      ['spec.aggregationLength: must be a whole number from 1 to 32 (got 33)'],
    ],
    [
      'aggregation v6 0',
      named({ aggregationLengthV6: 0 }),
      ['spec.aggregationLengthV6: must be a whole number from 1 to 128 (got 0)'],
    ],
    [
      'negative localPref',
      named({ localPref: -1 }),
      ['spec.localPref: must be a whole number from 0 to 4294967295 (got -1)'],
    ],
    [
      'community out of range',
      named({ communities: ['65536:1'] }),
      ['spec.communities[0]: "65536:1" is not a community (like 65535:65282 or large:1:2:3) nor an alias name'],
    ],
    [
      'large community with two parts',
      named({ communities: ['large:1:2'] }),
      ['spec.communities[0]: "large:1:2" is not a community (like 65535:65282 or large:1:2:3) nor an alias name'],
    ],
    [
      '64 communities',
      named({ communities: Array.from({ length: 64 }, (_, i) => `1:${i}`) }),
      ['spec.communities: at most 63 (got 64)'],
    ],
  ])('%s is refused with the field named', (_name, raw, errors) => {
    expect(parseBGPAdvertisement(raw)).toEqual({ ok: false, errors });
  });
});

describe('parseBFDProfile', () => {
  test('every field', () => {
    expect(
      parseBFDProfile(
        named({
          receiveInterval: 10,
          transmitInterval: 60000,
          detectMultiplier: 255,
          echoInterval: 20,
          echoMode: true,
          passiveMode: true,
          minimumTtl: 1,
        }),
      ),
    ).toEqual({
      ok: true,
      profile: {
        name: 'x',
        receiveInterval: 10,
        transmitInterval: 60000,
        detectMultiplier: 255,
        echoInterval: 20,
        echoMode: true,
        passiveMode: true,
        minimumTtl: 1,
      },
    });
  });

  test("MetalLB's defaults: 3 x 300 ms", () => {
    expect(parseBFDProfile({ metadata: { name: 'd' } })).toEqual({
      ok: true,
      profile: {
        name: 'd',
        receiveInterval: 300,
        transmitInterval: 300,
        detectMultiplier: 3,
        echoInterval: 50,
        echoMode: false,
        passiveMode: false,
        minimumTtl: 254,
      },
    });
  });

  test('out-of-range values are refused, each naming its field', () => {
    expect(
      parseBFDProfile(
        named({
          receiveInterval: 9,
          transmitInterval: 60001,
          detectMultiplier: 1,
          echoInterval: 1.5,
          echoMode: 1,
          minimumTtl: 255,
        }),
      ),
    ).toEqual({
      ok: false,
      errors: [
        'spec.receiveInterval: must be a whole number from 10 to 60000 (got 9)',
        'spec.transmitInterval: must be a whole number from 10 to 60000 (got 60001)',
        'spec.detectMultiplier: must be a whole number from 2 to 255 (got 1)',
        'spec.echoInterval: must be a whole number from 10 to 60000 (got 1.5)',
        'spec.echoMode: must be true or false (got 1)',
        'spec.minimumTtl: must be a whole number from 1 to 254 (got 255)',
      ],
    });
  });
});

describe('communities', () => {
  test('values are normalised, large ones marked', () => {
    expect(parseCommunityValue('065535:0')).toEqual({ kind: 'standard', value: '65535:0' });
    expect(parseCommunityValue('large:4294967295:0:1')).toEqual({ kind: 'large', value: '4294967295:0:1' });
    expect(parseCommunityValue('large:4294967296:0:1')).toBeUndefined();
    expect(parseCommunityValue('1:2:3')).toBeUndefined();
  });

  test('a Community object holds named aliases; bad ones are refused by index', () => {
    const ok = parseCommunity({
      metadata: { name: 'c' },
      spec: { communities: [{ name: 'no-export', value: '65535:65281' }] },
    });
    expect(ok.ok && [...ok.community.aliases]).toEqual([['no-export', { kind: 'standard', value: '65535:65281' }]]);
    expect(
      parseCommunity({
        metadata: { name: 'c' },
        spec: {
          communities: [{ name: 'a', value: '1:x' }, { name: 'a b', value: '1:1' }, { name: 'a', value: '1:1' }, 'x'],
        },
      }),
    ).toEqual({
      ok: false,
      errors: [
        'spec.communities[0].value: "1:x" is not a community (like 65535:65282 or large:1:2:3)',
        'spec.communities[1].name: "a b" is not an alias name (letters, digits, "-", "_", ".")',
        'spec.communities[3]: must be an object with name and value',
      ],
    });
  });
});
