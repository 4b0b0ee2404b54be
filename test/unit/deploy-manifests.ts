// Reads the shipped manifests the way a cluster would get them: rendered by
// `kubectl kustomize`, then parsed. Shared by the deploy tests and the RBAC
// integration test, so both judge exactly what `kubectl apply -k deploy/` sends.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { KUBECTL_MISSING, findCommand } from '../setup/tools.mjs';
import { ruleMatches } from '../kube/rbac.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export function parseManifests(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`YAML error: ${doc.errors[0].message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (
      !isRecord(value) ||
      typeof value.apiVersion !== 'string' ||
      typeof value.kind !== 'string' ||
      !isRecord(value.metadata)
    ) {
      throw new Error(`not a Kubernetes object: ${JSON.stringify(value).slice(0, 120)}`);
    }
    objects.push(value as KubeObject);
  }
  return objects;
}

/**
 * Throws, naming what to install, when kubectl is not on PATH: `npm test`'s
 * set-up check stops on the same text before anything runs.
 */
export function requireKubectl(): void {
  if (findCommand('kubectl', process.env.PATH) === undefined) throw new Error(KUBECTL_MISSING);
}

/** `kubectl kustomize <dir>` (absolute, or relative to the repository root), parsed. */
export function renderKustomization(dir: string): KubeObject[] {
  requireKubectl();
  const r = spawnSync('kubectl', ['kustomize', path.resolve(repoRoot, dir)], { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return parseManifests(r.stdout);
}

export function findObject(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return found;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---- RBAC ------------------------------------------------------------------

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface GrantedRules {
  /** From ClusterRoles bound by ClusterRoleBindings: apply in every namespace. */
  cluster: PolicyRule[];
  /** From Roles bound by RoleBindings, keyed by namespace. */
  namespaced: Map<string, PolicyRule[]>;
}

/** Every rule the manifests grant to one ServiceAccount, through its bindings. */
export function rulesForServiceAccount(
  objects: readonly KubeObject[],
  namespace: string,
  serviceAccount: string,
): GrantedRules {
  const granted: GrantedRules = { cluster: [], namespaced: new Map() };
  for (const binding of objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
    const subjects = (binding.subjects ?? []) as Array<{ kind: string; name: string; namespace?: string }>;
    const bound = subjects.some(
      (s) => s.kind === 'ServiceAccount' && s.name === serviceAccount && s.namespace === namespace,
    );
    if (!bound) continue;
    const ref = binding.roleRef as { kind: string; name: string };
    const role =
      ref.kind === 'ClusterRole'
        ? findObject(objects, 'ClusterRole', ref.name)
        : findObject(
            objects.filter((o) => o.metadata.namespace === binding.metadata.namespace),
            'Role',
            ref.name,
          );
    const rules = (role.rules ?? []) as PolicyRule[];
    if (binding.kind === 'ClusterRoleBinding') {
      granted.cluster.push(...rules);
    } else {
      const ns = binding.metadata.namespace ?? '';
      granted.namespaced.set(ns, [...(granted.namespaced.get(ns) ?? []), ...rules]);
    }
  }
  return granted;
}

export interface RequestAttributes {
  verb: string;
  apiGroup: string;
  /** With a subresource: `services/status`. */
  resource: string;
  /** Empty for cluster-scoped requests and all-namespace lists. */
  namespace: string;
  name?: string;
}

/** The RBAC authorizer's rule match (no aggregation, no non-resource URLs): the API server double's. */
export function ruleAllows(rule: PolicyRule, request: RequestAttributes): boolean {
  return ruleMatches(rule, request);
}

export function isAllowed(granted: GrantedRules, request: RequestAttributes): boolean {
  if (granted.cluster.some((r) => ruleAllows(r, request))) return true;
  if (request.namespace === '') return false;
  return (granted.namespaced.get(request.namespace) ?? []).some((r) => ruleAllows(r, request));
}

// ---- Workloads ---------------------------------------------------------------

export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  securityContext?: Record<string, unknown>;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

export interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: Record<string, unknown> & { containers: Container[] };
}

export function podTemplateOf(workload: KubeObject): PodTemplate {
  const spec = workload.spec as { template?: PodTemplate } | undefined;
  if (!spec?.template) throw new Error(`${workload.kind} ${workload.metadata.name} has no pod template`);
  return spec.template;
}

/**
 * The container's args as the kubelet hands them to the process: `$(VAR)`
 * expanded from env, with fieldRefs resolved for a pod on `nodeName`.
 */
export function expandedArgs(container: Container, podNamespace: string, nodeName: string): string[] {
  const env = new Map<string, string>();
  for (const e of container.env ?? []) {
    const fieldPath = e.valueFrom?.fieldRef?.fieldPath;
    if (e.value !== undefined) env.set(e.name, e.value);
    else if (fieldPath === 'metadata.namespace') env.set(e.name, podNamespace);
    else if (fieldPath === 'spec.nodeName') env.set(e.name, nodeName);
  }
  return (container.args ?? []).map((arg) =>
    arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env.get(name) ?? whole),
  );
}
