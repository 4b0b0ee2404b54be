// `npm run lab -- --kubeconfig FILE` path: the system lab given a kubeconfig
// of an API server it did not start (here a double on 127.0.0.1, as a kind
// cluster would be) reaches it from the node namespaces through the relay,
// and the whole chain works: IP assigned, owner answers on the wire.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { LAB_POOL, startSystem, type LabSystem } from '../lab/system.js';

let external: ApiServer;
let system: LabSystem | undefined;

beforeAll(async () => {
  external = await startApiServer({ namespaces: ['ironlb-system'] });
}, 60_000);

afterAll(async () => {
  await system?.teardown();
  await external?.close();
}, 60_000);

it('runs controller and speakers against a given kubeconfig through the relay', async () => {
  system = await startSystem({ nodes: 2, kubeconfig: external.kubeconfigPath });
  expect(system.api).toBeUndefined();
  await system.applyPool('lab', LAB_POOL);
  await system.applyAdvertisement('lab', { ipAddressPools: ['lab'] });
  const [ip] = await system.waitForIngress(await system.createService({ name: 'web' }));
  await system.serveOnAllNodes(ip!);
  const owner = await system.waitForOwner(ip!);
  // The objects live on the server we were given, written by the programs in the lab.
  expect(
    external.counters.get('update', 'services/status') + external.counters.get('patch', 'services/status'),
  ).toBeGreaterThan(0);
  expect(external.counters.get('create', 'leases')).toBeGreaterThan(0);
  const arping = await system.lab.arping(ip!, { count: 2 });
  expect(new Set(arping.macs)).toEqual(new Set([system.node(owner).mac]));
}, 180_000);
