// The BGP CRDs (generated from src/api/schema) at apply time, through the real
// client-node: on the double always, on a real kube-apiserver when
// IRONLB_TEST_KUBECONFIG is set. A malformed object is refused naming its
// field, as the parser in src/bgp refuses it; defaults are filled.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseBFDProfile } from '../../src/bgp/bfd-profile.js';
import { parseBGPAdvertisement } from '../../src/bgp/advertisement.js';
import { parseCommunity } from '../../src/bgp/community.js';
import { parseBGPPeer } from '../../src/bgp/peer.js';
import { apiTargets, failure, type ApiTarget, type StatusLike } from '../kube/targets.js';
import { useApiTarget } from '../kube/target-suite.js';

const group = 'ironlb.io';
const version = 'v1beta1';
type Spec = Record<string, unknown>;
interface Stored {
  metadata: { name: string };
  spec: Spec;
}

const kinds = {
  bgppeers: 'BGPPeer',
  bgpadvertisements: 'BGPAdvertisement',
  bfdprofiles: 'BFDProfile',
  communities: 'Community',
} as const;
type Plural = keyof typeof kinds;

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const peer = (spec: Spec): Spec => ({ myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.254', ...spec });

/** The fields a refusal names, and its whole message. */
function refusal(status: StatusLike): { code?: number; fields: string[]; message: string } {
  return {
    code: status.code,
    fields: (status.details?.causes ?? []).map((c) => c.field ?? ''),
    message: status.message ?? '',
  };
}

for (const factory of apiTargets()) {
  describe(`BGP CRDs at apply time (${factory.name})`, () => {
    let target: ApiTarget;
    let custom: CustomObjectsApi;
    let namespace: string;

    useApiTarget(factory, {
      started: (up) => {
        target = up;
        custom = target.kubeConfig.makeApiClient(CustomObjectsApi);
      },
      namespace: (name) => {
        namespace = name;
      },
    });

    const create = (plural: Plural, name: string, spec: Spec) =>
      custom.createNamespacedCustomObject({
        group,
        version,
        namespace,
        plural,
        body: { apiVersion: `${group}/${version}`, kind: kinds[plural], metadata: { name }, spec },
      }) as Promise<Stored>;

    it('fills the defaults of every BGP kind, and the parsers take what was stored', async () => {
      const stored = await create('bgppeers', 'router', peer({}));
      expect(stored.spec).toEqual({ ...peer({}), peerPort: 179, ebgpMultiHop: false, enableGracefulRestart: false });
      expect(parseBGPPeer(stored)).toMatchObject({ ok: true, peer: { peerPort: 179 } });

      const profile = await create('bfdprofiles', 'fast', {});
      expect(profile.spec).toEqual({
        receiveInterval: 300,
        transmitInterval: 300,
        detectMultiplier: 3,
        echoInterval: 50,
        echoMode: false,
        passiveMode: false,
        minimumTtl: 254,
      });
      expect(parseBFDProfile(profile).ok).toBe(true);

      const advertisement = await create('bgpadvertisements', 'all', {
        communities: ['65535:65282', 'large:1:2:3', 'no-export'],
      });
      expect(advertisement.spec).toMatchObject({ aggregationLength: 32, aggregationLengthV6: 128 });
      expect(parseBGPAdvertisement(advertisement).ok).toBe(true);

      const community = await create('communities', 'aliases', {
        communities: [{ name: 'no-export', value: '65535:65281' }],
      });
      expect(parseCommunity(community).ok).toBe(true);
    });

    it.each([
      ['no peerAddress', { myASN: 64512, peerASN: 64513 }, 'spec.peerAddress'],
      ['a port out of range', peer({ peerPort: 20000 }), 'spec.peerPort'],
      ['an ASN of 0', peer({ myASN: 0 }), 'spec.myASN'],
      ['both peerASN and dynamicASN', peer({ dynamicASN: 'external' }), 'spec.peerASN'],
      ['neither peerASN nor dynamicASN', { myASN: 64512, peerAddress: '192.0.2.254' }, 'spec.peerASN'],
      ['a hold time of 2s', peer({ holdTime: '2s' }), 'spec.holdTime'],
      ['a hold time in milliseconds', peer({ holdTime: '3500ms' }), 'spec.holdTime'],
      ['a hold time with a fraction of a millisecond', peer({ holdTime: '3.0005s' }), 'spec.holdTime'],
      ['a keepalive longer than the hold time', peer({ holdTime: '9s', keepaliveTime: '10s' }), 'spec.keepaliveTime'],
      ['a connect time of 0', peer({ connectTime: '0s' }), 'spec.connectTime'],
      ['a duration that is not one', peer({ holdTime: 'soon' }), 'spec.holdTime'],
      ['eBGP multi-hop to an iBGP peer', peer({ peerASN: 64512, ebgpMultiHop: true }), 'spec.ebgpMultiHop'],
      [
        'a password and a passwordSecret',
        peer({ password: 'secret', passwordSecret: { name: 'bgp' } }),
        'spec.passwordSecret',
      ],
      ['a password with a space', peer({ password: 'two words' }), 'spec.password'],
      ['a router ID that is no IPv4 address', peer({ routerID: '2001:db8::1' }), 'spec.routerID'],
      ['a peer address that is no address', peer({ peerAddress: 'router.example' }), 'spec.peerAddress'],
    ])('refuses a BGPPeer with %s, naming %s (as the parser does)', async (_what, spec, field) => {
      const status = refusal(await failure(create('bgppeers', 'bad', spec)));
      expect(status.code).toBe(422);
      expect(status.fields).toContain(field);
      expect(status.message).toContain(`BGPPeer.ironlb.io "bad" is invalid`);
      const parsed = parseBGPPeer({ metadata: { name: 'bad' }, spec });
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.errors.join('\n')).toContain(field);
    });

    it('keeps enableGracefulRestart as created (a transition rule), while other fields change', async () => {
      await create('bgppeers', 'router', peer({}));
      const changed = (await custom.patchNamespacedCustomObject(
        { group, version, namespace, plural: 'bgppeers', name: 'router', body: { spec: { holdTime: '90s' } } },
        mergePatch,
      )) as Stored;
      expect(changed.spec.holdTime).toBe('90s');
      const status = refusal(
        await failure(
          custom.patchNamespacedCustomObject(
            {
              group,
              version,
              namespace,
              plural: 'bgppeers',
              name: 'router',
              body: { spec: { enableGracefulRestart: true } },
            },
            mergePatch,
          ),
        ),
      );
      expect(status.code).toBe(422);
      expect(status.fields).toEqual(['spec.enableGracefulRestart']);
      expect(status.message).toContain('spec.enableGracefulRestart: cannot be changed');
    });

    it('refuses a community that is neither a value nor an alias name, and more than 63 of them', async () => {
      const bad = refusal(
        await failure(create('bgpadvertisements', 'bad', { communities: ['65535:65282', 'not a community'] })),
      );
      expect(bad.fields).toEqual(['spec.communities[1]']);
      const many = refusal(
        await failure(
          create('bgpadvertisements', 'many', { communities: Array.from({ length: 64 }, (_, i) => `65000:${i}`) }),
        ),
      );
      expect(many.fields).toEqual(['spec.communities']);
      const alias = refusal(
        await failure(create('communities', 'aliases', { communities: [{ name: 'no-export', value: 'no-export' }] })),
      );
      expect(alias.fields).toEqual(['spec.communities[0].value']);
      const twice = [
        { name: 'no-export', value: '65535:65281' },
        { name: 'no-export', value: '65535:65282' },
      ];
      const duplicate = await failure(create('communities', 'twice', { communities: twice }));
      expect(refusal(duplicate).fields).toEqual(['spec.communities[1]']);
      expect(duplicate.details?.causes?.[0]).toMatchObject({
        reason: 'FieldValueDuplicate',
        message: 'Duplicate value: map[string]interface {}{"name":"no-export"}',
      });
      expect(parseCommunity({ metadata: { name: 'twice' }, spec: { communities: twice } })).toMatchObject({
        ok: false,
      });
    });

    it('refuses BFD timers out of range, naming each', async () => {
      const status = refusal(await failure(create('bfdprofiles', 'bad', { receiveInterval: 5, detectMultiplier: 1 })));
      expect(status.fields.sort()).toEqual(['spec.detectMultiplier', 'spec.receiveInterval']);
    });
  });
}
