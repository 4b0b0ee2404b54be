// Just enough discovery (/api, /apis, /version, resource lists) for clients
// such as kubectl that look before they act.
import { apiVersionOf, type ResourceType } from './resources.js';

const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function resourceList(groupVersion: string, resources: ResourceType[]): unknown {
  const entries: unknown[] = [];
  for (const r of resources.filter((x) => apiVersionOf(x) === groupVersion)) {
    entries.push({
      name: r.plural,
      singularName: r.kind.toLowerCase(),
      namespaced: r.namespaced,
      kind: r.kind,
      verbs,
      shortNames: r.shortNames,
    });
    if (r.hasStatus)
      entries.push({
        name: `${r.plural}/status`,
        singularName: '',
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ['get', 'patch', 'update'],
      });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources: entries };
}

export function discovery(path: string, resources: ResourceType[], address: string): unknown {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '/version') {
    return { major: '1', minor: '31', gitVersion: 'v1.31.0-ironlb-double', platform: 'linux/amd64' };
  }
  if (trimmed === '/healthz' || trimmed === '/readyz' || trimmed === '/livez') return 'ok';
  if (trimmed === '/api') {
    return {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: address }],
    };
  }
  if (trimmed === '/apis') {
    const groups = [...new Set(resources.filter((r) => r.group !== '').map((r) => r.group))];
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: groups.map((name) => {
        const version = (resources.find((r) => r.group === name) as ResourceType).version;
        const gv = { groupVersion: `${name}/${version}`, version };
        return { name, versions: [gv], preferredVersion: gv };
      }),
    };
  }
  const core = /^\/api\/(v1)$/.exec(trimmed);
  if (core) return resourceList(core[1], resources);
  const group = /^\/apis\/([^/]+)\/([^/]+)$/.exec(trimmed);
  if (group) {
    const gv = `${group[1]}/${group[2]}`;
    if (resources.some((r) => apiVersionOf(r) === gv)) return resourceList(gv, resources);
  }
  return undefined;
}
