// Bearer-token RBAC: each token maps to PolicyRules, checked like the real
// authorizer (apiGroups, resources incl. `services/status`, verbs, resourceNames).
import { ApiError } from './status.js';
import type { ResourceType } from './resources.js';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  /** Set for rules that come from a Role: they apply in this namespace only. */
  namespace?: string;
}

export interface RbacUser {
  /** The user name in Forbidden messages, e.g. `system:serviceaccount:ironlb-system:speaker`. */
  name: string;
  rules: PolicyRule[];
}

export interface RbacOptions {
  /** token -> rules (user named after the token) or a named user. */
  users: Record<string, PolicyRule[] | RbacUser>;
}

interface Target {
  resource: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

function covers(list: readonly string[] | undefined, value: string): boolean {
  return (list ?? []).includes('*') || (list ?? []).includes(value);
}

/** A request as the RBAC authorizer matches it against one rule. */
export interface RuleRequest {
  verb: string;
  apiGroup: string;
  /** With a subresource: `services/status`. */
  resource: string;
  name?: string;
}

/** The authorizer's match of one rule (no namespace: the caller picks the rules that apply there). */
export function ruleMatches(
  rule: {
    apiGroups?: readonly string[];
    resources?: readonly string[];
    verbs: readonly string[];
    resourceNames?: readonly string[];
  },
  request: RuleRequest,
): boolean {
  if (!covers(rule.apiGroups, request.apiGroup)) return false;
  const slash = request.resource.indexOf('/');
  const subresource = slash < 0 ? undefined : request.resource.slice(slash + 1);
  if (
    !covers(rule.resources, request.resource) &&
    !(subresource !== undefined && (rule.resources ?? []).includes(`*/${subresource}`))
  )
    return false;
  if (!covers(rule.verbs, request.verb)) return false;
  // resourceNames cannot restrict list/watch/create/deletecollection (no name in the request).
  if (rule.resourceNames && rule.resourceNames.length > 0)
    return request.name !== undefined && rule.resourceNames.includes(request.name);
  return true;
}

export function ruleAllows(rule: PolicyRule, verb: string, target: Target): boolean {
  if (rule.namespace !== undefined && rule.namespace !== target.namespace) return false;
  const resource = target.subresource ? `${target.resource.plural}/${target.subresource}` : target.resource.plural;
  return ruleMatches(rule, { verb, apiGroup: target.resource.group, resource, name: target.name });
}

/** Throws 401 for an unknown token and 403 (the real message) when no rule allows. */
export function authorize(options: RbacOptions, header: string | undefined, verb: string, target: Target): void {
  let user: RbacUser = { name: 'system:anonymous', rules: [] };
  if (header !== undefined) {
    const token = /^Bearer\s+(.+)$/i.exec(header)?.[1];
    const entry = token === undefined ? undefined : options.users[token];
    if (entry === undefined) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    user = Array.isArray(entry) ? { name: `token-${(token as string).slice(0, 8)}`, rules: entry } : entry;
  }
  if (user.rules.some((rule) => ruleAllows(rule, verb, target))) return;
  const { resource } = target;
  const what = target.subresource ? `${resource.plural}/${target.subresource}` : resource.plural;
  const subject =
    target.name !== undefined
      ? `${resource.group ? `${resource.plural}.${resource.group}` : resource.plural} "${target.name}"`
      : resource.group
        ? `${resource.plural}.${resource.group}`
        : resource.plural;
  const scope = target.namespace !== undefined ? ` in the namespace "${target.namespace}"` : ' at the cluster scope';
  const details: { name?: string; kind: string; group?: string } = { kind: resource.plural };
  if (target.name !== undefined) details.name = target.name;
  if (resource.group) details.group = resource.group;
  throw new ApiError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user.name}" ` +
      `cannot ${verb} resource "${what}" in API group "${resource.group}"${scope}`,
    details,
  );
}
