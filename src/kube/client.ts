import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  Observable,
  ServerConfiguration,
  createConfiguration,
  type ConfigurationOptions,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import http from 'node:http';
import https from 'node:https';
import { describeRequest } from './request-kind.js';

/** Called once per API request made through this module (the `ironlb_api_requests_total` hook). */
export type OnRequest = (verb: string, resource: string) => void;

export interface KubeClientOptions {
  kubeConfig: KubeConfig;
  onRequest?: OnRequest;
  /**
   * Upper bound for one non-watch request. Without it a request to an API server
   * that accepts the connection but never answers would hang forever.
   */
  requestTimeoutMs?: number;
}

/**
 * Everything the rest of src/kube needs to reach the API server. Built once per
 * process; all requests made through it are counted by `onRequest`.
 */
export interface KubeClient {
  readonly kubeConfig: KubeConfig;
  readonly server: string;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly custom: CustomObjectsApi;
  readonly requestTimeoutMs: number;
  /** Count a request made outside the generated APIs (lists and watches of the informer). */
  countRequest(verb: string, resource: string): void;
  /** The connection pool shared by all requests, or undefined to let client-node choose (proxies). */
  agent(): Promise<http.Agent | undefined>;
}

/**
 * client-node builds a fresh Agent for every request, so each one opens a new
 * TCP (and TLS) connection. One keep-alive agent with the same TLS settings
 * lets requests reuse connections. Proxied clusters keep client-node's agent.
 */
async function createSharedAgent(kubeConfig: KubeConfig): Promise<http.Agent | undefined> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster || cluster.proxyUrl) return undefined;
  if (cluster.server.startsWith('http:')) return new http.Agent({ keepAlive: true });
  const tls: https.RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(tls);
  return new https.Agent({
    keepAlive: true,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    pfx: tls.pfx,
    passphrase: tls.passphrase,
    rejectUnauthorized: cluster.skipTLSVerify ? false : undefined,
    servername: cluster.tlsServerName,
  });
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export function createKubeClient(options: KubeClientOptions): KubeClient {
  const { kubeConfig } = options;
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster (check current-context)');
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const onRequest = options.onRequest;
  const countRequest = (verb: string, resource: string): void => {
    if (!onRequest) return;
    try {
      onRequest(verb, resource);
    } catch {
      // A broken metrics hook must never fail an API call.
    }
  };

  let sharedAgent: Promise<http.Agent | undefined> | undefined;
  const agent = (): Promise<http.Agent | undefined> => (sharedAgent ??= createSharedAgent(kubeConfig));

  const countingAndTimeout = {
    async pre(context: RequestContext): Promise<RequestContext> {
      const { verb, resource } = describeRequest(context.getHttpMethod(), context.getUrl());
      countRequest(verb, resource);
      if (!context.getSignal()) context.setSignal(AbortSignal.timeout(requestTimeoutMs));
      const pooled = await agent();
      if (pooled) context.setAgent(pooled);
      return context;
    },
    post(context: ResponseContext): Promise<ResponseContext> {
      return Promise.resolve(context);
    },
  };
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kubeConfig },
    promiseMiddleware: [countingAndTimeout],
  });
  return {
    kubeConfig,
    server: cluster.server,
    core: new CoreV1Api(configuration),
    coordination: new CoordinationV1Api(configuration),
    custom: new CustomObjectsApi(configuration),
    requestTimeoutMs,
    countRequest,
    agent,
  };
}

export interface CallOptions {
  /** Content-Type of a patch body (merge patch unless said otherwise). */
  contentType?: string;
  /** Aborts the request early, e.g. when a leader's renew deadline passes. */
  signal?: AbortSignal;
}

/**
 * Per-call options for the generated APIs. Appended after the client's own
 * middleware, so counting stays in place; a caller's signal is combined with
 * the default timeout (whichever fires first aborts).
 */
export function callOptions(options: CallOptions): ConfigurationOptions {
  const middleware = {
    pre(context: RequestContext): Observable<RequestContext> {
      if (options.contentType) context.setHeaderParam('Content-Type', options.contentType);
      if (options.signal) {
        const existing = context.getSignal();
        context.setSignal(existing ? AbortSignal.any([existing, options.signal]) : options.signal);
      }
      return new Observable(Promise.resolve(context));
    },
    post(context: ResponseContext): Observable<ResponseContext> {
      return new Observable(Promise.resolve(context));
    },
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}
