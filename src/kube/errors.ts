import { ApiException } from '@kubernetes/client-node';

/** An API error from our own list/watch requests (the generated APIs throw ApiException). */
export class KubeHttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeHttpError';
  }
}

/** The HTTP status of a failed API call, or undefined for network errors and timeouts. */
export function statusCodeOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (err instanceof KubeHttpError) return err.statusCode;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => statusCodeOf(err) === 404;
export const isConflict = (err: unknown): boolean => statusCodeOf(err) === 409;
export const isGone = (err: unknown): boolean => statusCodeOf(err) === 410;

/** One line for logs: status code and the server's message when there is one. */
export function describeError(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    const message = typeof body === 'string' ? safeStatusMessage(body) : undefined;
    return `HTTP ${err.code}${message ? `: ${message}` : ''}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

function safeStatusMessage(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'message' in parsed && typeof parsed.message === 'string')
      return parsed.message;
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return body.length > 200 ? `${body.slice(0, 200)}...` : body || undefined;
}
