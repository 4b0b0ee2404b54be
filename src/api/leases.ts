// The controller–speaker contract written on Leases: their names, the role
// label and the annotations, and how each is parsed. The speakers write these
// Leases; the controller and `kubectl ironlb` read them. Every program imports
// the names from here, so no prefix or annotation key is spelled twice.

export const NODE_LEASE_PREFIX = 'ironlb-node-';
export const MEMBER_LEASE_PREFIX = 'ironlb-member-';
export const IP_LEASE_PREFIX = 'ironlb-ip-';
/**
 * Which of the election's Leases an object is, so each watcher asks the API
 * server for only what it needs: the heartbeats (renewed every
 * heartbeat-interval) reach no speaker's watch.
 */
export const ROLE_LABEL = 'ironlb.io/role';
export type LeaseRole = 'heartbeat' | 'member' | 'ip';

/** The label selector of the Leases of these roles: `ironlb.io/role=ip`, `ironlb.io/role in (ip,member)`. */
export function leaseRoleSelector(...roles: readonly [LeaseRole, ...LeaseRole[]]): string {
  return roles.length === 1 ? `${ROLE_LABEL}=${roles[0]}` : `${ROLE_LABEL} in (${roles.join(',')})`;
}

/** Member Leases: where a speaker's failure detector listens (`address:port`, `[v6]:port`). */
export const LIVENESS_ANNOTATION = 'ironlb.io/liveness';
/** Member Leases: whether the speaker hears the mesh (`ok`) or no peer at all (`isolated`). */
export const MESH_ANNOTATION = 'ironlb.io/mesh';
export const MACS_ANNOTATION = 'ironlb.io/macs';
/** Ownership Leases carry the IP itself too: the name loses ':' vs '.' and zero runs. */
export const IP_ANNOTATION = 'ironlb.io/ip';
/** Written on the ownership Lease by its holder when another host answers for the IP (read by the controller). */
export const CONFLICT_ANNOTATION = 'ironlb.io/conflict';

export function nodeLeaseName(node: string): string {
  if (node === '') throw new Error('node name is empty');
  return NODE_LEASE_PREFIX + node;
}

/** The node a heartbeat Lease belongs to, or undefined for any other Lease. */
export function nodeFromLeaseName(name: string): string | undefined {
  if (!name.startsWith(NODE_LEASE_PREFIX) || name.length === NODE_LEASE_PREFIX.length) return undefined;
  return name.slice(NODE_LEASE_PREFIX.length);
}

export function memberLeaseName(node: string): string {
  if (node === '') throw new Error('node name is empty');
  return MEMBER_LEASE_PREFIX + node;
}

/** The node a member Lease belongs to, or undefined for any other Lease. */
export function nodeFromMemberLeaseName(name: string): string | undefined {
  if (!name.startsWith(MEMBER_LEASE_PREFIX) || name.length === MEMBER_LEASE_PREFIX.length) return undefined;
  return name.slice(MEMBER_LEASE_PREFIX.length);
}

/** `192.0.2.11:7947`, `[2001:db8::11]:7947` */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Parses `address:port` / `[v6]:port`; throws on anything else. */
export function parseEndpoint(value: string): { address: string; port: number } {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(value) ?? /^([0-9.]+):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (m === null || !(port >= 1 && port <= 65535))
    throw new Error(`${LIVENESS_ANNOTATION}: ${JSON.stringify(value)} is not address:port`);
  return { address: m[1]!, port };
}

/** `ironlb-ip-192-0-2-10`, `ironlb-ip-2001-db8--1`: object names allow neither ':' nor (usefully) '.'. */
export function ipLeaseName(ip: string): string {
  if (!/^[0-9a-fA-F.:]+$/.test(ip) || !/[.:]/.test(ip)) throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
  // A name must end alphanumeric: `2001:db8::` is written as its equal `2001:db8::0`.
  const spelled = ip.endsWith(':') ? ip + '0' : ip;
  return IP_LEASE_PREFIX + spelled.toLowerCase().replace(/[:.]/g, '-');
}

export function isIpLeaseName(name: string): boolean {
  return name.startsWith(IP_LEASE_PREFIX) && name.length > IP_LEASE_PREFIX.length;
}

/** The role label of an election Lease, from its name (undefined: not one of ours). */
export function leaseRoleOf(name: string): LeaseRole | undefined {
  if (name.startsWith(NODE_LEASE_PREFIX)) return 'heartbeat';
  if (name.startsWith(MEMBER_LEASE_PREFIX)) return 'member';
  if (name.startsWith(IP_LEASE_PREFIX)) return 'ip';
  return undefined;
}

/** One interface a speaker may announce on, published so peers recognise its frames. */
export interface PublishedInterface {
  ifname: string;
  /** Lower-case, colon-separated, e.g. `02:00:5e:00:53:01`. */
  mac: string;
}

const MAC_PATTERN = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** `eth0=02:00:5e:00:53:01,eth1=02:00:5e:00:53:02` */
export function formatMacsAnnotation(interfaces: readonly PublishedInterface[]): string {
  return interfaces
    .map((i) => {
      const mac = i.mac.toLowerCase();
      if (!MAC_PATTERN.test(mac)) throw new Error(`bad MAC for ${i.ifname}: ${JSON.stringify(i.mac)}`);
      if (i.ifname === '' || /[=,]/.test(i.ifname)) throw new Error(`bad interface name: ${JSON.stringify(i.ifname)}`);
      return `${i.ifname}=${mac}`;
    })
    .join(',');
}

/** Parses the annotation; throws with the offending entry on malformed input. */
export function parseMacsAnnotation(value: string): PublishedInterface[] {
  if (value.trim() === '') return [];
  return value.split(',').map((entry) => {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new Error(`${MACS_ANNOTATION}: entry ${JSON.stringify(entry)} is not ifname=mac`);
    const ifname = entry.slice(0, eq).trim();
    const mac = entry
      .slice(eq + 1)
      .trim()
      .toLowerCase();
    if (!MAC_PATTERN.test(mac))
      throw new Error(`${MACS_ANNOTATION}: entry ${JSON.stringify(entry)} has a malformed MAC`);
    return { ifname, mac };
  });
}
