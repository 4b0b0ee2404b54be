// The manifests `kubectl apply -k deploy/` installs, rendered by kubectl's own
// kustomize: what the programs need and must not have. That the API server
// takes them (Kubernetes types, CRD schemas) is test/integration/deploy-apply.test.ts.
import { describe, expect, it } from 'vitest';
import {
  type Container,
  type KubeObject,
  type PolicyRule,
  findObject,
  podTemplateOf,
  renderKustomization,
  rulesForServiceAccount,
} from './deploy-manifests.js';

const NS = 'ironlb-system';
const objects = renderKustomization('deploy');
const names = (list: readonly KubeObject[]) => list.map((o) => `${o.kind}/${o.metadata.name}`).sort();

const controller = findObject(objects, 'Deployment', 'ironlb-controller');
const speaker = findObject(objects, 'DaemonSet', 'ironlb-speaker');
const controllerPod = podTemplateOf(controller);
const speakerPod = podTemplateOf(speaker);
const only = (containers: Container[]) => {
  expect(containers).toHaveLength(1);
  return containers[0];
};

describe('kubectl kustomize deploy/', () => {
  it('renders exactly the install: namespace, CRDs, RBAC, both programs, metrics Services, PDB', () => {
    expect(names(objects)).toEqual([
      'ClusterRole/ironlb-controller',
      'ClusterRole/ironlb-speaker',
      'ClusterRoleBinding/ironlb-controller',
      'ClusterRoleBinding/ironlb-speaker',
      'CustomResourceDefinition/bfdprofiles.ironlb.io',
      'CustomResourceDefinition/bgpadvertisements.ironlb.io',
      'CustomResourceDefinition/bgppeers.ironlb.io',
      'CustomResourceDefinition/communities.ironlb.io',
      'CustomResourceDefinition/ipaddresspools.ironlb.io',
      'CustomResourceDefinition/l2advertisements.ironlb.io',
      'DaemonSet/ironlb-speaker',
      'Deployment/ironlb-controller',
      'Namespace/ironlb-system',
      'PodDisruptionBudget/ironlb-controller',
      'Role/ironlb-controller',
      'Role/ironlb-speaker',
      'RoleBinding/ironlb-controller',
      'RoleBinding/ironlb-speaker',
      'Service/ironlb-controller-metrics',
      'Service/ironlb-speaker-metrics',
      'ServiceAccount/ironlb-controller',
      'ServiceAccount/ironlb-speaker',
    ]);
  });

  it('puts every namespaced object in ironlb-system and none of the cluster-scoped ones', () => {
    const clusterScoped = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);
    for (const o of objects) {
      if (clusterScoped.has(o.kind)) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBeUndefined();
      else expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(NS);
    }
  });

  it('labels the namespace privileged: baseline forbids hostNetwork, which the speaker needs', () => {
    const labels = findObject(objects, 'Namespace', NS).metadata.labels ?? {};
    expect(labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
    expect(speakerPod.spec.hostNetwork).toBe(true);
  });
});

describe('controller Deployment', () => {
  const container = only(controllerPod.spec.containers);
  it('runs 2 replicas under its own ServiceAccount', () => {
    expect((controller.spec as { replicas: number }).replicas).toBe(2);
    expect(controllerPod.spec.serviceAccountName).toBe('ironlb-controller');
  });

  it('is non-root with a read-only root filesystem, no capabilities and RuntimeDefault seccomp', () => {
    expect(controllerPod.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect((controllerPod.spec.securityContext as { runAsUser: number }).runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect((container.securityContext?.capabilities as { add?: string[] } | undefined)?.add).toBeUndefined();
    expect(controllerPod.spec.hostNetwork).toBeUndefined();
  });

  it('a PodDisruptionBudget keeps one replica through voluntary disruptions', () => {
    const pdb = findObject(objects, 'PodDisruptionBudget', 'ironlb-controller').spec as {
      maxUnavailable: number;
      selector: { matchLabels: Record<string, string> };
    };
    expect(pdb.maxUnavailable).toBe(1);
    for (const [key, value] of Object.entries(pdb.selector.matchLabels))
      expect(controllerPod.metadata.labels[key]).toBe(value);
  });

  it('probes /healthz and /readyz on the metrics port 7472 and sets resources', () => {
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: 7472, protocol: 'TCP' }]);
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(container.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources?.limits?.memory).toEqual(expect.any(String));
  });
});

describe('speaker DaemonSet', () => {
  const container = only(speakerPod.spec.containers);
  it('has exactly NET_RAW, every other capability dropped, no escalation, read-only root', () => {
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext?.privileged).not.toBe(true);
    expect(container.securityContext?.capabilities).toEqual({ drop: ['ALL'], add: ['NET_RAW'] });
  });

  it('runs on the host network as its own ServiceAccount with a short grace period', () => {
    expect(speakerPod.spec.hostNetwork).toBe(true);
    expect(speakerPod.spec.serviceAccountName).toBe('ironlb-speaker');
    expect(speakerPod.spec.terminationGracePeriodSeconds).toBeLessThanOrEqual(5);
    expect(speakerPod.spec.terminationGracePeriodSeconds).toBeGreaterThan(0);
  });

  it('gets NODE_NAME from the downward API and passes it to --node-name', () => {
    const nodeName = (container.env ?? []).find((e) => e.name === 'NODE_NAME');
    expect(nodeName?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
    expect(container.args).toContain('--node-name=$(NODE_NAME)');
  });

  it('tolerates control-plane nodes', () => {
    const tolerations = speakerPod.spec.tolerations as Array<{ key?: string; operator?: string; effect?: string }>;
    expect(tolerations).toContainEqual({
      key: 'node-role.kubernetes.io/control-plane',
      operator: 'Exists',
      effect: 'NoSchedule',
    });
  });

  it('probes /healthz and /readyz on port 7472 and sets resources', () => {
    expect(container.ports?.[0]).toMatchObject({ name: 'metrics', containerPort: 7472 });
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(container.resources?.limits?.memory).toEqual(expect.any(String));
  });
});

describe('metrics Services', () => {
  for (const [serviceName, pod] of [
    ['ironlb-controller-metrics', controllerPod],
    ['ironlb-speaker-metrics', speakerPod],
  ] as const) {
    it(`${serviceName} selects its pods and exposes a port named metrics`, () => {
      const spec = findObject(objects, 'Service', serviceName).spec as {
        selector: Record<string, string>;
        ports: Array<{ name: string; port: number; targetPort: string }>;
      };
      for (const [key, value] of Object.entries(spec.selector)) expect(pod.metadata.labels[key]).toBe(value);
      expect(spec.ports).toHaveLength(1);
      expect(spec.ports[0]).toMatchObject({ name: 'metrics', port: 7472 });
      expect(pod.spec.containers[0].ports?.map((p) => p.name)).toContain(spec.ports[0].targetPort);
    });
  }
});

describe('RBAC', () => {
  const rules = objects
    .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
    .flatMap((o) => ((o.rules ?? []) as PolicyRule[]).map((rule) => ({ owner: `${o.kind}/${o.metadata.name}`, rule })));
  const writeVerbs = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
  const writes = (granted: ReturnType<typeof rulesForServiceAccount>) => {
    const all = [...granted.cluster, ...[...granted.namespaced.values()].flat()];
    return new Set(
      all.flatMap((r) =>
        r.verbs
          .filter((v) => writeVerbs.has(v))
          .flatMap((v) =>
            (r.resources ?? []).flatMap((res) => (r.apiGroups ?? []).map((g) => `${v} ${g || 'core'}/${res}`)),
          ),
      ),
    );
  };

  it('has no wildcard anywhere', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const { owner, rule } of rules) {
      for (const field of [rule.apiGroups, rule.resources, rule.verbs, rule.resourceNames]) {
        expect(field ?? [], owner).not.toContain('*');
      }
      expect(rule.nonResourceURLs, owner).toBeUndefined();
    }
  });

  it('grants no access to pods, configmaps or RBAC itself, and to no Secret but the mesh key', () => {
    const forbidden = [
      'pods',
      'configmaps',
      'roles',
      'clusterroles',
      'rolebindings',
      'clusterrolebindings',
      'serviceaccounts',
    ];
    for (const { owner, rule } of rules) {
      for (const resource of forbidden) expect(rule.resources ?? [], owner).not.toContain(resource);
    }
    // Reading Secrets: ironlb-liveness-key by name; only the controller may create (it makes the key).
    // The one exception: the speaker's namespaced Role lists/watches its own namespace's Secrets (BGP passwords).
    const secretRules = rules.filter(({ rule }) => rule.resources?.includes('secrets'));
    for (const { owner, rule } of secretRules) {
      const reads = rule.verbs.filter((v) => ['get', 'list', 'watch'].includes(v));
      const bgpPasswords =
        owner === 'Role/ironlb-speaker' && reads.join() === 'list,watch' && rule.resourceNames === undefined;
      if (reads.length > 0 && !bgpPasswords)
        expect({ owner, reads, names: rule.resourceNames }).toEqual({
          owner,
          reads: ['get'],
          names: ['ironlb-liveness-key'],
        });
      if (rule.verbs.includes('create')) expect(owner).toMatch(/controller/);
      expect(
        rule.verbs.filter((v) => !['get', 'create', 'list', 'watch'].includes(v)),
        owner,
      ).toEqual([]);
    }
    expect(secretRules.length).toBeGreaterThan(0);
  });

  it('lets the speaker write only Leases in ironlb-system and Events', () => {
    const granted = rulesForServiceAccount(objects, NS, 'ironlb-speaker');
    expect([...writes(granted)].sort()).toEqual(
      [
        'create core/events',
        'create coordination.k8s.io/leases',
        'create events.k8s.io/events',
        'delete coordination.k8s.io/leases',
        'patch core/events',
        'patch events.k8s.io/events',
        'update coordination.k8s.io/leases',
      ].sort(),
    );
    // Leases only through the namespaced Role, never cluster-wide.
    expect(granted.cluster.some((r) => r.resources?.includes('leases'))).toBe(false);
    expect([...granted.namespaced.keys()]).toEqual([NS]);
  });

  it('lets the controller write only Service status/annotations, pool status, Events and Leases', () => {
    const granted = rulesForServiceAccount(objects, NS, 'ironlb-controller');
    expect([...writes(granted)].sort()).toEqual(
      [
        'create coordination.k8s.io/leases',
        'create core/events',
        'create events.k8s.io/events',
        'delete coordination.k8s.io/leases',
        'patch coordination.k8s.io/leases',
        'patch core/events',
        'patch core/services',
        'patch core/services/status',
        'patch events.k8s.io/events',
        'patch ironlb.io/ipaddresspools/status',
        'create core/secrets',
        'update coordination.k8s.io/leases',
        'update core/services',
        'update core/services/status',
        'update ironlb.io/ipaddresspools/status',
      ].sort(),
    );
    const leaseUpdate = [...(granted.namespaced.get(NS) ?? [])].find(
      (r) => r.resources?.includes('leases') && r.verbs.includes('update'),
    );
    expect(leaseUpdate?.resourceNames).toEqual(['ironlb-controller']);
  });

  it('binds the ServiceAccounts the workloads run as', () => {
    for (const sa of ['ironlb-controller', 'ironlb-speaker']) {
      findObject(objects, 'ServiceAccount', sa);
      const granted = rulesForServiceAccount(objects, NS, sa);
      expect(granted.cluster.length, sa).toBeGreaterThan(0);
      expect(granted.namespaced.get(NS)?.length, sa).toBeGreaterThan(0);
    }
  });
});
