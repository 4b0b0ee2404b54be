// deploy/samples: what a newcomer applies first. Each custom resource must pass
// ironlb's own parser (the API server's schema and CEL rules judge them in
// test/integration/deploy-apply.test.ts); each Service must use annotation
// names the controller reads.
import { describe, expect, it } from 'vitest';
import { parsePool } from '../../src/api/pool.js';
import { parseL2Advertisement } from '../../src/api/l2advertisement.js';
import {
  ANNOTATION_ADDRESS_POOL,
  ANNOTATION_ALLOW_SHARED_IP,
  ANNOTATION_LOAD_BALANCER_IPS,
} from '../../src/api/annotations.js';
import { parseIP } from '../../src/ip/address.js';
import { rangeContains } from '../../src/ip/range.js';
import { type KubeObject, renderKustomization } from './deploy-manifests.js';

const samples = renderKustomization('deploy/samples');
const ofKind = (kind: string) => samples.filter((o) => o.kind === kind);

interface ServiceSpec {
  type: string;
  ipFamilyPolicy?: string;
  ipFamilies?: string[];
  ports: Array<{ port: number; protocol: string }>;
}
const services = ofKind('Service') as Array<KubeObject & { spec: ServiceSpec }>;

describe('deploy/samples', () => {
  it('renders a pool, an L2Advertisement, a Service, a dual-stack Service and a shared-IP pair', () => {
    expect(ofKind('IPAddressPool').length).toBeGreaterThanOrEqual(1);
    expect(ofKind('L2Advertisement').length).toBeGreaterThanOrEqual(1);
    expect(
      services.some((s) => s.spec.ipFamilyPolicy === 'RequireDualStack' || s.spec.ipFamilyPolicy === 'PreferDualStack'),
    ).toBe(true);
    const shared = services.filter((s) => s.metadata.annotations?.[ANNOTATION_ALLOW_SHARED_IP] !== undefined);
    expect(shared.length).toBeGreaterThanOrEqual(2);
  });

  it('is not part of the install (deploy/ does not pull it in)', () => {
    const install = renderKustomization('deploy');
    expect(install.filter((o) => o.kind === 'IPAddressPool' || o.kind === 'L2Advertisement')).toEqual([]);
  });

  it('pools and L2Advertisements live in ironlb-system', () => {
    for (const object of [...ofKind('IPAddressPool'), ...ofKind('L2Advertisement')]) {
      expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe('ironlb-system');
    }
  });

  it("pools and L2Advertisements pass ironlb's own parser and use documentation addresses only", () => {
    for (const pool of ofKind('IPAddressPool')) {
      expect(parsePool(pool), pool.metadata.name).toMatchObject({ ok: true });
      for (const address of (pool.spec as { addresses: string[] }).addresses) {
        expect(address).toMatch(/^(192\.0\.2\.|198\.51\.100\.|203\.0\.113\.|2001:db8:)/);
      }
    }
    const poolNames = ofKind('IPAddressPool').map((p) => p.metadata.name);
    for (const advertisement of ofKind('L2Advertisement')) {
      expect(parseL2Advertisement(advertisement), advertisement.metadata.name).toMatchObject({ ok: true });
      for (const name of (advertisement.spec as { ipAddressPools?: string[] }).ipAddressPools ?? [])
        expect(poolNames).toContain(name);
    }
  });

  it('Services are valid LoadBalancer Services using only the annotations ironlb reads', () => {
    const known = new Set([ANNOTATION_ADDRESS_POOL, ANNOTATION_ALLOW_SHARED_IP, ANNOTATION_LOAD_BALANCER_IPS]);
    for (const s of services) {
      expect(s.spec.type).toBe('LoadBalancer');
      for (const key of Object.keys(s.metadata.annotations ?? {})) expect(known.has(key), key).toBe(true);
      const pool = s.metadata.annotations?.[ANNOTATION_ADDRESS_POOL];
      if (pool !== undefined) expect(ofKind('IPAddressPool').map((p) => p.metadata.name)).toContain(pool);
    }
  });

  it('the shared-IP pair asks for one IP with the same key and no port/protocol overlap', () => {
    const shared = services.filter((s) => s.metadata.annotations?.[ANNOTATION_ALLOW_SHARED_IP] !== undefined);
    const keys = new Set(shared.map((s) => s.metadata.annotations?.[ANNOTATION_ALLOW_SHARED_IP]));
    const ips = new Set(shared.map((s) => s.metadata.annotations?.[ANNOTATION_LOAD_BALANCER_IPS]));
    expect(keys.size).toBe(1);
    expect(ips.size).toBe(1);
    const ports = shared.flatMap((s) => s.spec.ports.map((p) => `${p.protocol}/${p.port}`));
    expect(new Set(ports).size).toBe(ports.length);
    const ip = parseIP([...ips][0] ?? '');
    if (!ip.ok) throw new Error(ip.error);
    const inSomePool = ofKind('IPAddressPool').some((p) => {
      const parsed = parsePool(p);
      return parsed.ok && parsed.pool.ranges.some((r) => rangeContains(r, ip.ip));
    });
    expect(inSomePool, `${[...ips][0]} is inside a sample pool`).toBe(true);
  });
});
