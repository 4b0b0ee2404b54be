// metav1.Status bodies shaped exactly like kube-apiserver's, and the error type
// the double throws to produce them.

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): StatusBody {
    const body: StatusBody = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) body.details = this.details;
    return body;
  }
}

/** How the apiserver names a resource in messages: `services`, `ipaddresspools.ironlb.io`. */
export interface ResourceName {
  plural: string;
  group: string;
}

function qualified(r: ResourceName): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

function detailsFor(r: ResourceName, name: string): StatusDetails {
  const details: StatusDetails = { name, kind: r.plural };
  if (r.group) details.group = r.group;
  return details;
}

export function notFound(r: ResourceName, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualified(r)} "${name}" not found`, detailsFor(r, name));
}

export function alreadyExists(r: ResourceName, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, detailsFor(r, name));
}

export function conflict(r: ResourceName, name: string, why?: string): ApiError {
  const reason = why ?? 'the object has been modified; please apply your changes to the latest version and try again';
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${reason}`,
    detailsFor(r, name),
  );
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function methodNotAllowed(message: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', message);
}

export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, ` +
      `application/merge-patch+json, application/apply-patch+yaml (got ${contentType})`,
  );
}

export interface FieldError {
  field: string;
  /** `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`... */
  type: string;
  /** The full `field: Invalid value: ...` text. */
  text: string;
}

/** 422 Invalid, with one cause per field error, as the real server formats it. */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): ApiError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const list = errors.map((e) => e.text);
  const joined = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  const causes = errors.map((e) => ({
    reason: e.type,
    message: e.text.startsWith(`${e.field}: `) ? e.text.slice(e.field.length + 2) : e.text,
    field: e.field,
  }));
  const details: StatusDetails = { name, kind, causes };
  if (group) details.group = group;
  return new ApiError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${joined}`, details);
}

const reasonsByCode: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** A generic error for an injected fault with the given HTTP code. */
export function injected(code: number): ApiError {
  const reason = reasonsByCode[code] ?? 'InternalError';
  const details: StatusDetails | undefined = code === 429 ? { retryAfterSeconds: 1 } : undefined;
  return new ApiError(code, reason, `injected fault: ${reason} (${code})`, details);
}
