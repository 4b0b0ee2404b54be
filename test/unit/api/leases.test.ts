import { describe, expect, it } from 'vitest';
import {
  CONFLICT_ANNOTATION,
  formatEndpoint,
  formatMacsAnnotation,
  IP_ANNOTATION,
  ipLeaseName,
  isIpLeaseName,
  leaseRoleOf,
  leaseRoleSelector,
  LIVENESS_ANNOTATION,
  MACS_ANNOTATION,
  memberLeaseName,
  MESH_ANNOTATION,
  nodeFromLeaseName,
  nodeFromMemberLeaseName,
  nodeLeaseName,
  parseEndpoint,
  parseMacsAnnotation,
  ROLE_LABEL,
} from '../../../src/api/leases.js';

// The controller–speaker contract. The strings are spelled out here on
// purpose: a speaker and a controller of different versions must still agree,
// so changing one of them has to fail a test.

describe('lease contract keys', () => {
  it('are the names both programs and kubectl ironlb agree on', () => {
    const keys = [
      ROLE_LABEL,
      IP_ANNOTATION,
      CONFLICT_ANNOTATION,
      MACS_ANNOTATION,
      LIVENESS_ANNOTATION,
      MESH_ANNOTATION,
    ];
    expect(keys).toEqual([
      'ironlb.io/role',
      'ironlb.io/ip',
      'ironlb.io/conflict',
      'ironlb.io/macs',
      'ironlb.io/liveness',
      'ironlb.io/mesh',
    ]);
  });

  it('select Leases by role', () => {
    expect(leaseRoleSelector('ip')).toBe('ironlb.io/role=ip');
    expect(leaseRoleSelector('ip', 'member')).toBe('ironlb.io/role in (ip,member)');
    expect(leaseRoleOf('ironlb-node-a')).toBe('heartbeat');
    expect(leaseRoleOf('ironlb-member-a')).toBe('member');
    expect(leaseRoleOf('ironlb-ip-192-0-2-1')).toBe('ip');
    expect(leaseRoleOf('kube-controller-manager')).toBeUndefined();
  });
});

describe('lease names', () => {
  it('names node and IP Leases', () => {
    expect(nodeLeaseName('worker-1')).toBe('ironlb-node-worker-1');
    expect(nodeFromLeaseName('ironlb-node-worker-1')).toBe('worker-1');
    expect(nodeFromLeaseName('ironlb-ip-192-0-2-1')).toBeUndefined();
    expect(nodeFromLeaseName('ironlb-node-')).toBeUndefined();
    expect(ipLeaseName('192.0.2.10')).toBe('ironlb-ip-192-0-2-10');
    expect(ipLeaseName('2001:DB8::1')).toBe('ironlb-ip-2001-db8--1');
    expect(ipLeaseName('2001:db8::')).toBe('ironlb-ip-2001-db8--0');
    expect(isIpLeaseName('ironlb-ip-192-0-2-10')).toBe(true);
    expect(isIpLeaseName('ironlb-node-a')).toBe(false);
    expect(memberLeaseName('worker-1')).toBe('ironlb-member-worker-1');
    expect(nodeFromMemberLeaseName('ironlb-member-worker-1')).toBe('worker-1');
    expect(nodeFromMemberLeaseName('ironlb-node-worker-1')).toBeUndefined();
  });

  it('rejects an empty node name and things that are not IPs', () => {
    expect(() => nodeLeaseName('')).toThrow(/empty/);
    expect(() => ipLeaseName('evil/name')).toThrow(/not an IP/);
    expect(() => ipLeaseName('1234')).toThrow(/not an IP/);
    expect(() => memberLeaseName('')).toThrow(/empty/);
  });
});

describe('ironlb.io/macs annotation', () => {
  it('round-trips interfaces and lower-cases MACs', () => {
    const text = formatMacsAnnotation([
      { ifname: 'eth0', mac: '02:00:5E:00:53:01' },
      { ifname: 'eth1', mac: '02:00:5e:00:53:02' },
    ]);
    expect(text).toBe('eth0=02:00:5e:00:53:01,eth1=02:00:5e:00:53:02');
    expect(parseMacsAnnotation(text)).toEqual([
      { ifname: 'eth0', mac: '02:00:5e:00:53:01' },
      { ifname: 'eth1', mac: '02:00:5e:00:53:02' },
    ]);
    expect(parseMacsAnnotation('')).toEqual([]);
  });

  it('says which entry is malformed', () => {
    expect(() => parseMacsAnnotation('eth0')).toThrow(/"eth0" is not ifname=mac/);
    expect(() => parseMacsAnnotation('eth0=02:00:5e:00:53')).toThrow(/malformed MAC/);
    expect(() => formatMacsAnnotation([{ ifname: 'eth0', mac: 'zz' }])).toThrow(/bad MAC for eth0/);
    expect(() => formatMacsAnnotation([{ ifname: 'a,b', mac: '02:00:5e:00:53:01' }])).toThrow(/bad interface name/);
  });
});

describe('ironlb.io/liveness annotation', () => {
  it('round-trips IPv4 and bracketed IPv6 endpoints', () => {
    expect(formatEndpoint('192.0.2.11', 7947)).toBe('192.0.2.11:7947');
    expect(formatEndpoint('2001:db8::11', 7947)).toBe('[2001:db8::11]:7947');
    expect(parseEndpoint('[2001:db8::11]:7947')).toEqual({ address: '2001:db8::11', port: 7947 });
    expect(parseEndpoint('192.0.2.11:7947')).toEqual({ address: '192.0.2.11', port: 7947 });
  });

  it('names the annotation when the value is not address:port', () => {
    expect(() => parseEndpoint('192.0.2.11')).toThrow('ironlb.io/liveness: "192.0.2.11" is not address:port');
    expect(() => parseEndpoint('192.0.2.11:0')).toThrow(/not address:port/);
    expect(() => parseEndpoint('2001:db8::11:7947')).toThrow(/not address:port/);
  });
});
