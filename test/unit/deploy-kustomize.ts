// Rendering of the kustomizations in deploy/. kubectl's own kustomize is the
// reference and is used when kubectl is on the machine. Without it (a fresh
// machine has Node but no kubectl) the tests use this small renderer, which
// implements only the kustomize features deploy/ uses: `resources` (files
// and folders), `namespace`, `labels[].pairs` (metadata only) and `images`.
// When both exist, deploy-kustomize.test.ts checks they give the same objects.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { type KubeObject, isRecord, parseManifests } from './deploy-manifests.js';

export const kubectlAvailable = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

export function kubectlKustomize(dir: string): KubeObject[] {
  return parseManifests(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
}

const CLUSTER_SCOPED = new Set([
  'Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass',
  'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'Node', 'PersistentVolume', 'StorageClass',
]);

interface Kustomization {
  resources?: string[];
  namespace?: string;
  labels?: Array<{ pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }>;
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
  [field: string]: unknown;
}

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels', 'images']);

function readKustomization(dir: string): Kustomization {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((f) => path.join(dir, f)).find(existsSync);
  if (!file) throw new Error(`${dir}: no kustomization.yaml`);
  const k: unknown = parse(readFileSync(file, 'utf8'));
  if (!isRecord(k)) throw new Error(`${file}: not a mapping`);
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length > 0) throw new Error(`${file}: this renderer does not implement ${unsupported.join(', ')}; use kubectl kustomize`);
  for (const label of (k.labels ?? []) as Kustomization['labels'] & object) {
    if (label.includeSelectors || label.includeTemplates) throw new Error(`${file}: labels with includeSelectors/includeTemplates are not implemented`);
  }
  return k as Kustomization;
}

function podContainers(object: KubeObject): Array<{ image?: string }> {
  const spec = object.spec as { template?: { spec?: { containers?: Array<{ image?: string }>; initContainers?: Array<{ image?: string }> } } } | undefined;
  return [...(spec?.template?.spec?.containers ?? []), ...(spec?.template?.spec?.initContainers ?? [])];
}

/** Renders one kustomization folder the way kustomize does for these features. */
export function miniKustomize(dir: string): KubeObject[] {
  const k = readKustomization(dir);
  const objects: KubeObject[] = [];
  for (const entry of k.resources ?? []) {
    const target = path.join(dir, entry);
    if (!existsSync(target)) throw new Error(`${dir}: resource ${entry} does not exist`);
    objects.push(...(statSync(target).isDirectory() ? miniKustomize(target) : parseManifests(readFileSync(target, 'utf8'))));
  }
  for (const object of objects) {
    if (k.namespace && !CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = k.namespace;
    if (k.namespace && (object.kind === 'RoleBinding' || object.kind === 'ClusterRoleBinding')) {
      for (const subject of (object.subjects ?? []) as Array<{ kind: string; namespace?: string }>) {
        if (subject.kind === 'ServiceAccount') subject.namespace = k.namespace;
      }
    }
    for (const label of k.labels ?? []) object.metadata.labels = { ...(object.metadata.labels ?? {}), ...label.pairs };
    for (const container of podContainers(object)) {
      const [name, tag] = (container.image ?? '').split(':');
      const rule = (k.images ?? []).find((i) => i.name === name);
      if (rule) container.image = `${rule.newName ?? name}${rule.newTag ?? tag ? `:${rule.newTag ?? tag}` : ''}`;
    }
  }
  const names = new Set<string>();
  for (const o of objects) {
    const id = `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (names.has(id)) throw new Error(`${dir}: ${id} is defined twice`);
    names.add(id);
  }
  return objects;
}
