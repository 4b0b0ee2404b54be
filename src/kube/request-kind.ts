/**
 * Names an API request by Kubernetes verb and resource, the way the API server's
 * own metrics do, so `ironlb_api_requests_total{verb,resource}` reads like
 * `apiserver_request_total`. Subresources are kept (`services/status`).
 */
export interface RequestKind {
  verb: string;
  resource: string;
}

export function describeRequest(method: string, url: string): RequestKind {
  const parsed = new URL(url, 'http://placeholder');
  const segments = parsed.pathname.split('/').filter((s) => s.length > 0);
  const rest = resourceSegments(segments);
  // After the group/version prefix: [namespaces, ns]? resource [name [subresource]]
  let resourcePart = rest;
  if (rest[0] === 'namespaces' && rest.length >= 3) resourcePart = rest.slice(2);
  const resource = resourcePart[0] ?? 'unknown';
  const hasName = resourcePart.length >= 2;
  const subresource = resourcePart.length >= 3 ? `/${resourcePart[2]}` : '';
  const upper = method.toUpperCase();
  return {
    verb: requestVerb(upper, hasName, parsed.searchParams.get('watch') === 'true') ?? upper.toLowerCase(),
    resource: resource + subresource,
  };
}

function resourceSegments(segments: string[]): string[] {
  if (segments[0] === 'api') return segments.slice(2); // /api/v1/...
  if (segments[0] === 'apis') return segments.slice(3); // /apis/group/version/...
  return segments;
}

/** The Kubernetes verb of a request (what RBAC and audit call it); undefined for a method the API has no verb for. */
export function requestVerb(method: string, hasName: boolean, watch: boolean): RequestVerb | undefined {
  switch (method) {
    case 'GET':
      if (watch) return 'watch';
      return hasName ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

export type RequestVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
