import http from 'node:http';
import https from 'node:https';
import type { KubeClient } from './client.js';
import { KubeHttpError } from './errors.js';
import { describeRequest } from './request-kind.js';

// Lists and watches go through node:http directly (with client-node's
// KubeConfig doing TLS and auth): client-node's Watch cannot be aborted while
// it waits for response headers and has no idle timeout, so a half-open
// connection would stall an informer for minutes.

export type Query = Record<string, string | number | boolean | undefined>;

export interface WatchEvent {
  type: string;
  object: unknown;
}

/** The watch stream was silent for longer than the idle timeout: treated as a dropped connection. */
export class WatchIdleError extends Error {
  constructor(idleMs: number) {
    super(`watch stream silent for ${idleMs} ms`);
    this.name = 'WatchIdleError';
  }
}

function buildUrl(client: KubeClient, path: string, query: Query): URL {
  const url = new URL(client.server.replace(/\/+$/, '') + path);
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
  return url;
}

async function openRequest(client: KubeClient, url: URL, signal: AbortSignal): Promise<http.IncomingMessage> {
  const options: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  await client.kubeConfig.applyToHTTPSOptions(options);
  const pooled = await client.agent();
  if (pooled) options.agent = pooled;
  const transport = url.protocol === 'https:' ? https : http;
  const { verb, resource } = describeRequest('GET', url.toString());
  client.countRequest(verb, resource);
  return new Promise((resolve, reject) => {
    const request = transport.request(url, { ...options, signal }, resolve);
    request.on('error', reject);
    request.end();
  });
}

async function readBody(response: http.IncomingMessage): Promise<string> {
  // setEncoding decodes across chunk boundaries (a character may be split between two chunks).
  response.setEncoding('utf8');
  let body = '';
  for await (const chunk of response) body += String(chunk);
  return body;
}

function errorFromStatusBody(statusCode: number, body: string): KubeHttpError {
  try {
    const status: unknown = JSON.parse(body);
    if (status && typeof status === 'object') {
      const message = 'message' in status && typeof status.message === 'string' ? status.message : body;
      const reason = 'reason' in status && typeof status.reason === 'string' ? status.reason : undefined;
      return new KubeHttpError(statusCode, `HTTP ${statusCode}: ${message}`, reason);
    }
  } catch {
    // Not a Status object: report the raw text.
  }
  return new KubeHttpError(statusCode, `HTTP ${statusCode}: ${body.slice(0, 200)}`);
}

/** GET a path and parse the JSON answer; non-2xx answers throw KubeHttpError. */
export async function getJson(
  client: KubeClient,
  path: string,
  query: Query = {},
  abort?: AbortSignal,
): Promise<unknown> {
  const timeout = AbortSignal.timeout(client.requestTimeoutMs);
  const signal = abort ? AbortSignal.any([abort, timeout]) : timeout;
  const response = await openRequest(client, buildUrl(client, path, query), signal);
  const body = await readBody(response);
  const statusCode = response.statusCode ?? 0;
  if (statusCode < 200 || statusCode >= 300) throw errorFromStatusBody(statusCode, body);
  return JSON.parse(body);
}

/**
 * Streams one watch request. Resolves when the server ends the stream cleanly
 * (its timeoutSeconds elapsed); rejects on an HTTP error, a network error, an
 * abort, or when nothing (not even a bookmark) arrives for idleTimeoutMs.
 */
export async function streamWatch(
  client: KubeClient,
  path: string,
  query: Query,
  onEvent: (event: WatchEvent) => void,
  options: { signal: AbortSignal; idleTimeoutMs: number },
): Promise<void> {
  const local = new AbortController();
  const signal = AbortSignal.any([options.signal, local.signal]);
  let idleTimer: NodeJS.Timeout | undefined;
  let idleError: WatchIdleError | undefined;
  const armIdleTimer = (): void => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      idleError = new WatchIdleError(options.idleTimeoutMs);
      local.abort(idleError);
    }, options.idleTimeoutMs);
  };
  armIdleTimer();
  try {
    const response = await openRequest(client, buildUrl(client, path, { ...query, watch: true }), signal);
    const statusCode = response.statusCode ?? 0;
    if (statusCode !== 200) throw errorFromStatusBody(statusCode, await readBody(response));
    response.setEncoding('utf8');
    let pending = '';
    for await (const chunk of response) {
      armIdleTimer();
      pending += String(chunk);
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line) onEvent(parseWatchLine(line));
        newline = pending.indexOf('\n');
      }
    }
    const last = pending.trim();
    if (last) onEvent(parseWatchLine(last));
    // A stream cut mid-way ends without error on some paths; Node marks it aborted.
    if (!response.complete) throw new Error('watch stream ended before the server finished it');
  } catch (err) {
    throw idleError ?? err;
  } finally {
    if (idleTimer) clearTimeout(idleTimer);
    local.abort();
  }
}

function parseWatchLine(line: string): WatchEvent {
  const parsed: unknown = JSON.parse(line);
  if (!parsed || typeof parsed !== 'object' || !('type' in parsed) || typeof parsed.type !== 'string') {
    throw new Error(`malformed watch event: ${line.slice(0, 200)}`);
  }
  return { type: parsed.type, object: 'object' in parsed ? parsed.object : undefined };
}
