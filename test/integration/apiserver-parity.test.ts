// Where the double once was kinder than kube-apiserver (found by running the
// integration layer against a real v1.36 server): Service load-balancer status
// rules, updates of deleted objects, and the watch cache. Same tests on the
// double and, when IRONLB_TEST_KUBECONFIG is set, a real server.
import { CoreV1Api, Watch, type KubeConfig, type V1ConfigMap, type V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { apiTargets, failure, type ApiTarget } from '../kube/targets.js';
import { useApiTarget } from '../kube/target-suite.js';
import { waitFor } from '../wait.js';

function service(name: string, type = 'LoadBalancer'): V1Service {
  return { metadata: { name }, spec: { type, ports: [{ port: 80, protocol: 'TCP' }], selector: { app: name } } };
}

interface Seen {
  type: string;
  object: { metadata?: { name?: string }; code?: number; reason?: string };
}

async function watchFrom(kubeConfig: KubeConfig, path: string, resourceVersion: string) {
  const events: Seen[] = [];
  let done = false;
  const request = await new Watch(kubeConfig).watch(
    path,
    { resourceVersion },
    (type, object) => events.push({ type, object: object as Seen['object'] }),
    () => {
      done = true;
    },
  );
  return { events, isDone: () => done, stop: () => request.abort() };
}

/** A real cluster that is not dual-stack keeps PreferDualStack Services single: nothing to check there. */
function realSingleStack(target: ApiTarget, svc: V1Service): boolean {
  return target.name === 'real' && (svc.spec?.ipFamilies?.length ?? 0) < 2;
}

// A small watch cache on the double (3 events per resource) shows that only a
// resource's own events age it out; the real server's cache is larger still.
for (const factory of apiTargets({ historySize: 3 })) {
  describe(`API server parity (${factory.name})`, () => {
    let target: ApiTarget;
    let namespace: string;
    let core: CoreV1Api;

    useApiTarget(factory, {
      started: (up) => {
        target = up;
        core = target.kubeConfig.makeApiClient(CoreV1Api);
      },
      namespace: (name) => {
        namespace = name;
      },
    });

    it('refuses status.loadBalancer.ingress on a non-LoadBalancer Service (422 FieldValueForbidden)', async () => {
      const created = await core.createNamespacedService({ namespace, body: service('plain', 'ClusterIP') });
      const status = await failure(
        core.replaceNamespacedServiceStatus({
          namespace,
          name: 'plain',
          body: { ...created, status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } },
        }),
      );
      expect(status).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422 });
      expect(status.message).toBe(
        'Service "plain" is invalid: status.loadBalancer.ingress: ' +
          "Forbidden: may only be used when `spec.type` is 'LoadBalancer'",
      );
      expect(status.details?.causes).toEqual([
        {
          reason: 'FieldValueForbidden',
          message: "Forbidden: may only be used when `spec.type` is 'LoadBalancer'",
          field: 'status.loadBalancer.ingress',
        },
      ]);
      // An empty ingress list is not refused.
      const empty = await core.replaceNamespacedServiceStatus({
        namespace,
        name: 'plain',
        body: { ...created, status: { loadBalancer: { ingress: [] } } },
      });
      expect(empty.status?.loadBalancer?.ingress ?? []).toEqual([]);
    });

    it('fills ipMode VIP into each ingress entry that has an ip, and keeps one that is set', async () => {
      const created = await core.createNamespacedService({ namespace, body: service('web') });
      const stored = await core.replaceNamespacedServiceStatus({
        namespace,
        name: 'web',
        body: {
          ...created,
          status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }, { ip: '2001:db8::10', ipMode: 'Proxy' }] } },
        },
      });
      expect(stored.status?.loadBalancer?.ingress).toEqual([
        { ip: '192.0.2.10', ipMode: 'VIP' },
        { ip: '2001:db8::10', ipMode: 'Proxy' },
      ]);
    });

    it('clears status.loadBalancer itself when the type changes away from LoadBalancer', async () => {
      const created = await core.createNamespacedService({ namespace, body: service('web') });
      const withIP = await core.replaceNamespacedServiceStatus({
        namespace,
        name: 'web',
        body: { ...created, status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } },
      });
      const ports = (withIP.spec?.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol }));
      const changed = await core.replaceNamespacedService({
        namespace,
        name: 'web',
        body: { ...withIP, spec: { ...withIP.spec, type: 'ClusterIP', ports } },
      });
      expect(changed.spec?.type).toBe('ClusterIP');
      expect(changed.status?.loadBalancer?.ingress ?? []).toEqual([]);
    });

    it('answers an update of an object deleted since read with 409 Conflict (its uid is a precondition)', async () => {
      const created = await core.createNamespacedService({ namespace, body: service('gone') });
      await core.deleteNamespacedService({ namespace, name: 'gone' });
      const onStatus = await failure(
        core.replaceNamespacedServiceStatus({
          namespace,
          name: 'gone',
          body: { ...created, status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } },
        }),
      );
      expect(onStatus).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 });
      expect(onStatus.message).toBe(
        `Operation cannot be fulfilled on services "gone": Precondition failed: ` +
          `UID in precondition: ${created.metadata?.uid}, UID in object meta: `,
      );
      const onObject = await failure(core.replaceNamespacedService({ namespace, name: 'gone', body: created }));
      expect(onObject).toMatchObject({ reason: 'Conflict', code: 409 });
      // Without a uid there is no precondition: the object is simply not found.
      const withoutUid = { ...created, metadata: { ...created.metadata, uid: undefined } };
      expect(await failure(core.replaceNamespacedService({ namespace, name: 'gone', body: withoutUid }))).toMatchObject(
        { reason: 'NotFound', code: 404 },
      );
    });

    it('moves a Service from SingleStack to dual stack on a policy change, and back to SingleStack', async () => {
      const created = await core.createNamespacedService({ namespace, body: service('web') });
      expect(created.spec?.ipFamilies).toHaveLength(1);
      const primary = created.spec?.ipFamilies?.[0];
      const dual = await core.replaceNamespacedService({
        namespace,
        name: 'web',
        body: { ...created, spec: { ...created.spec, ipFamilyPolicy: 'PreferDualStack' } },
      });
      if (realSingleStack(target, dual)) return;
      expect(dual.spec?.ipFamilies).toEqual([primary, primary === 'IPv4' ? 'IPv6' : 'IPv4']);
      expect(dual.spec?.clusterIPs?.[0]).toBe(created.spec?.clusterIP);
      expect(dual.spec?.clusterIPs).toHaveLength(2);
      const single = await core.replaceNamespacedService({
        namespace,
        name: 'web',
        body: { ...dual, spec: { ...dual.spec, ipFamilyPolicy: 'SingleStack' } },
      });
      expect(single.spec?.ipFamilies).toEqual([primary]);
      expect(single.spec?.clusterIPs).toEqual([created.spec?.clusterIP]);
    });

    it('serves a watch from an old resourceVersion that only other resources moved past', async () => {
      const first = await core.createNamespacedService({ namespace, body: service('first') });
      const from = first.metadata?.resourceVersion as string;
      const notes = (i: number): V1ConfigMap => ({ metadata: { name: `note-${i}` }, data: { i: String(i) } });
      for (let i = 0; i < 6; i++) await core.createNamespacedConfigMap({ namespace, body: notes(i) });
      await core.createNamespacedService({ namespace, body: service('second') });
      const watch = await watchFrom(target.kubeConfig, `/api/v1/namespaces/${namespace}/services`, from);
      try {
        await waitFor('the watch to answer', () => watch.events.length > 0 || watch.isDone());
        expect(watch.events.map((e) => `${e.type} ${e.object.metadata?.name ?? e.object.code}`)).toEqual([
          'ADDED second',
        ]);
      } finally {
        watch.stop();
      }
    });
  });
}
