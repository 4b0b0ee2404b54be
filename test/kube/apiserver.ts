// An in-process HTTP server that behaves like kube-apiserver for the
// resources ironlb uses. Start it with `startApiServer()`; see README.md.
import { KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCrdDir } from './crd-dir.js';
import { discovery } from './discovery.js';
import { Counters, Faults, seededRandom, type Verb } from './faults.js';
import { Objects, defaultWrite, patchTypeOf, type WriteRequest } from './objects.js';
import type { Json, JsonObject } from './patch.js';
import { authorize, type RbacOptions } from './rbac.js';
import { apiVersionOf, builtinResources, fieldSelectorsOf, readCrdDocs, type ResourceType } from './resources.js';
import { CrdController, ResourceRegistry, crdResource, typeFromCrdBody } from './crds.js';
import { parseFieldSelector, parseLabelSelector, matchesFields, matchesLabels } from './selectors.js';
import { ApiError, badRequest, injected, methodNotAllowed, notFound } from './status.js';
import { Store, metadataOf } from './store.js';
import { Watches } from './watch.js';
import { toTable, wantsTable } from './table.js';
import { requestVerb } from '../../src/kube/request-kind.js';

export interface ApiServerOptions {
  /** Folder of CRD YAML to serve; default: the repository's deploy/crds. */
  crdDir?: string;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Watch history kept, in events; a watch from before it gets 410. Default 10000. */
  historySize?: number;
  /** Interval of BOOKMARK events on watches that allow them. Default 1000 ms. */
  bookmarkIntervalMs?: number;
  /** Namespaces created at start, besides default, kube-system, kube-public, kube-node-lease. */
  namespaces?: string[];
  /** Service IP families of the simulated cluster, primary first. Default IPv4 then IPv6. */
  clusterFamilies?: Array<'IPv4' | 'IPv6'>;
  /** Seed of the error-rate fault's random numbers. */
  seed?: number;
  /** Bearer tokens and their rules; without it every request is allowed. */
  rbac?: RbacOptions;
  /** Folder the kubeconfig's own ironlb-apiserver-* folder goes in; default the OS temp dir. */
  tempDir?: string;
}

export interface ApiServer {
  url: string;
  port: number;
  /** A client-node KubeConfig pointing at the double (no credentials). */
  kubeConfig: KubeConfig;
  /** The same as a kubeconfig file, for programs started as processes. */
  kubeconfigPath: string;
  /** A KubeConfig that sends `token` as its bearer token (for RBAC). */
  kubeConfigFor(token: string): KubeConfig;
  counters: Counters;
  faults: Faults;
  /** Forgets watch history: every older resourceVersion becomes too old to watch from. */
  compactHistory(): void;
  /** Number of open watch connections. */
  readonly openWatches: number;
  close(): Promise<void>;
}

interface Route {
  resource: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function parseJson(text: string): Json {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
}

/** The request's `fieldValidation` (Warn when absent, as since 1.27); a bad value is a 400. */
function writeRequest(url: URL): WriteRequest {
  const given = url.searchParams.get('fieldValidation');
  if (given === null || given === '') return defaultWrite();
  if (given !== 'Strict' && given !== 'Warn' && given !== 'Ignore') {
    const supported = '"Ignore", "Strict", "Warn"';
    throw badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(given)}: supported values: ${supported}`);
  }
  return { fieldValidation: given, warnings: [] };
}

/** Sends JSON, with the write's warnings as `Warning: 299 - "..."` headers. */
function sendJson(response: ServerResponse, code: number, body: unknown, write?: WriteRequest): void {
  if (write && write.warnings.length > 0) {
    response.setHeader(
      'Warning',
      write.warnings.map((w) => `299 - ${JSON.stringify(w)}`),
    );
  }
  const text = JSON.stringify(body);
  response.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

function sendError(response: ServerResponse, error: ApiError): void {
  if (error.code === 429) response.setHeader('Retry-After', '1');
  sendJson(response, error.code, error.toStatus());
}

export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const store = new Store(options.historySize ?? 10_000);
  const registry = new ResourceRegistry([...builtinResources(), crdResource]);
  const namespaces = registry.lookup('v1', 'namespaces') as ResourceType;
  const clusterFamilies = options.clusterFamilies ?? ['IPv4', 'IPv6'];
  let nextClusterIP = 1;
  let nextNodePort = 30000;
  const objects = new Objects(store, {
    clusterFamilies,
    allocateClusterIP: (family) => {
      const n = nextClusterIP++;
      return family === 'IPv4' ? `10.96.${(n >> 8) & 255}.${n & 255}` : `fd00:10:96::${n.toString(16)}`;
    },
    allocateNodePort: () => nextNodePort++,
  });
  const present = (resource: ResourceType, object: JsonObject): JsonObject => ({
    apiVersion: apiVersionOf(resource),
    kind: resource.kind,
    ...object,
  });
  const watches = new Watches(store, { bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000, present });
  const counters = new Counters();
  const sockets = new Set<Socket>();
  let server: Server;
  let port = options.port ?? 0;
  let outage = false;

  const crds = new CrdController(registry, store, objects);

  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease', ...(options.namespaces ?? [])]) {
    objects.create(namespaces, undefined, { metadata: { name } }, namespaces);
  }
  for (const doc of readCrdDocs(options.crdDir ?? findCrdDir())) {
    typeFromCrdBody(doc);
    crds.establish(objects.create(crdResource, undefined, doc, namespaces));
  }

  function route(url: URL): Route | 'discovery' {
    const parts = url.pathname.split('/').filter((p) => p !== '');
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts.length >= 2) {
      version = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 3) {
      version = `${parts[1]}/${parts[2]}`;
      rest = parts.slice(3);
    } else {
      return 'discovery';
    }
    if (rest.length === 0) return 'discovery';
    let namespace: string | undefined;
    if (
      rest[0] === 'namespaces' &&
      rest.length >= 3 &&
      !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))
    ) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const resource = registry.lookup(version, rest[0]);
    if (!resource) throw notFound({ plural: rest[0], group: '' }, rest[1] ?? '');
    if (namespace !== undefined && !resource.namespaced) throw notFound(resource, rest[1] ?? '');
    return { resource, namespace, name: rest[1], subresource: rest[2] };
  }

  function verbOf(method: string, route: Route, url: URL): Verb {
    const watch = url.searchParams.get('watch');
    const verb = requestVerb(
      method,
      route.name !== undefined,
      route.name === undefined && (watch === 'true' || watch === '1'),
    );
    if (verb === undefined)
      throw methodNotAllowed(`the server does not allow this method on the requested resource: ${method}`);
    return verb;
  }

  function list(r: Route, url: URL): JsonObject {
    const labels = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
    const fields = parseFieldSelector(url.searchParams.get('fieldSelector') ?? '', fieldSelectorsOf(r.resource));
    const items = store
      .list(r.resource, r.namespace)
      .filter(
        (o) =>
          matchesLabels(labels, metadataOf(o).labels as Record<string, string> | undefined) && matchesFields(fields, o),
      )
      // Typed lists carry kind/apiVersion on the list only; custom resource lists on every item.
      .map((o) => (r.resource.schema ? present(r.resource, o) : o));
    return {
      kind: `${r.resource.kind}List`,
      apiVersion: apiVersionOf(r.resource),
      metadata: { resourceVersion: String(store.currentRevision) },
      items,
    };
  }

  function deleted(r: Route, object: JsonObject): JsonObject {
    if (r.resource.deleteReturnsObject) return present(r.resource, object);
    const meta = metadataOf(object);
    const details: JsonObject = { name: meta.name as string, kind: r.resource.plural, uid: meta.uid as string };
    if (r.resource.group) details.group = r.resource.group;
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
  }

  function removeNamespaceContents(namespace: string): void {
    for (const resource of registry.all().filter((r) => r.namespaced)) {
      for (const object of store.list(resource, namespace)) {
        store.remove(resource, namespace, metadataOf(object).name as string);
      }
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', `http://${host}`);
    const method = request.method ?? 'GET';
    const found = route(url);
    if (found === 'discovery') {
      const answer = discovery(url.pathname, registry.all(), `${host}:${port}`);
      if (answer === undefined) throw notFound({ plural: '', group: '' }, url.pathname);
      return sendJson(response, 200, answer);
    }
    const r = found;
    if (r.subresource !== undefined && !(r.subresource === 'status' && r.resource.hasStatus)) {
      throw notFound(r.resource, r.name ?? '');
    }
    const verb = verbOf(method, r, url);
    const counted = r.subresource ? `${r.resource.plural}/${r.subresource}` : r.resource.plural;
    counters.record(verb, counted);
    if (options.rbac) authorize(options.rbac, request.headers.authorization, verb, r);
    const delay = faults.delayMs;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const failure = faults.failureFor(verb, counted);
    if (failure !== undefined) throw injected(failure);
    const body = method === 'GET' ? null : parseJson(await readBody(request));
    const name = r.name ?? '';
    const isCrd = r.resource === crdResource && r.subresource === undefined;
    if (isCrd && (verb === 'create' || verb === 'update')) typeFromCrdBody(body);
    switch (verb) {
      case 'get': {
        const found = objects.get(r.resource, r.namespace, name);
        const table = wantsTable(request.headers.accept);
        return sendJson(
          response,
          200,
          table ? toTable(r.resource, [found], String(store.currentRevision)) : present(r.resource, found),
        );
      }
      case 'list': {
        const answer = list(r, url);
        const table = wantsTable(request.headers.accept);
        return sendJson(
          response,
          200,
          table ? toTable(r.resource, answer.items as JsonObject[], String(store.currentRevision)) : answer,
        );
      }
      case 'watch': {
        const timeout = url.searchParams.get('timeoutSeconds');
        watches.start(
          {
            resource: r.resource,
            namespace: r.namespace,
            labels: parseLabelSelector(url.searchParams.get('labelSelector') ?? ''),
            fields: parseFieldSelector(url.searchParams.get('fieldSelector') ?? '', fieldSelectorsOf(r.resource)),
            resourceVersion: url.searchParams.get('resourceVersion') ?? undefined,
            allowBookmarks: url.searchParams.get('allowWatchBookmarks') === 'true',
            timeoutSeconds: timeout === null ? undefined : Number(timeout),
          },
          response,
        );
        return;
      }
      case 'create': {
        if (r.subresource) throw methodNotAllowed('create is not allowed on a subresource');
        const write = writeRequest(url);
        const created = objects.create(r.resource, r.namespace, body, namespaces, write);
        return sendJson(response, 201, present(r.resource, isCrd ? crds.establish(created) : created), write);
      }
      case 'update': {
        const write = writeRequest(url);
        const updated = objects.update(r.resource, r.namespace, name, body, r.subresource, write);
        return sendJson(response, 200, present(r.resource, isCrd ? crds.establish(updated) : updated), write);
      }
      case 'patch': {
        const type = patchTypeOf(request.headers['content-type'] ?? '');
        const write = writeRequest(url);
        const patched = objects.patch(r.resource, r.namespace, name, body, type, r.subresource, write);
        return sendJson(response, 200, present(r.resource, isCrd ? crds.establish(patched) : patched), write);
      }
      case 'delete': {
        const gone = objects.delete(r.resource, r.namespace, name, body);
        if (r.resource === namespaces) removeNamespaceContents(name);
        if (isCrd && !store.get(crdResource, undefined, name)) crds.forget(gone);
        return sendJson(response, 200, deleted(r, gone));
      }
      case 'deletecollection': {
        const victims = list(r, url).items as JsonObject[];
        for (const v of victims)
          objects.delete(r.resource, metadataOf(v).namespace as string | undefined, metadataOf(v).name as string, body);
        return sendJson(response, 200, { ...list(r, url), items: victims.map((v) => present(r.resource, v)) });
      }
    }
  }

  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    handle(request, response).catch((error: unknown) => {
      const apiError =
        error instanceof ApiError
          ? error
          : new ApiError(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`);
      if (!response.headersSent) sendError(response, apiError);
      else response.end();
    });
  };

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server = createServer(listener);
      server.on('connection', (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      server.once('error', reject);
      server.listen(port, host, () => {
        const address = server.address();
        if (address && typeof address === 'object') port = address.port;
        resolve();
      });
    });

  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    });

  const faults = new Faults(
    {
      dropWatches: () => watches.dropAll(),
      setOutage: async (on) => {
        if (on === outage) return;
        outage = on;
        if (on) await stopListening();
        else await listen();
      },
    },
    seededRandom(options.seed ?? 1),
  );

  await listen();
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const kubeConfigFor = (token?: string): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'ironlb-double', server: url, skipTLSVerify: true }],
      users: [token === undefined ? { name: 'ironlb-double' } : { name: 'ironlb-double', token }],
      contexts: [{ name: 'ironlb-double', cluster: 'ironlb-double', user: 'ironlb-double' }],
      currentContext: 'ironlb-double',
    });
    return kc;
  };
  const kubeConfig = kubeConfigFor();
  const configDir = mkdtempSync(join(options.tempDir ?? tmpdir(), 'ironlb-apiserver-'));
  const kubeconfigPath = join(configDir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeConfig.exportConfig());

  return {
    url,
    port,
    kubeConfig,
    kubeconfigPath,
    kubeConfigFor,
    counters,
    faults,
    compactHistory: () => store.compact(),
    get openWatches() {
      return watches.count;
    },
    close: async () => {
      watches.endAll();
      if (!outage) await stopListening();
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}
