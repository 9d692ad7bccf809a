/**
 * Errors as the API server sends them: a `Status` object whose `reason` and `code` clients switch on.
 * Messages follow kube-apiserver's wording (`configmaps "x" not found`) because kubectl prints them
 * verbatim and clients sometimes match on them.
 */

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

export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Gone'
  | 'Expired'
  | 'MethodNotAllowed'
  | 'Unauthorized'
  | 'Forbidden'
  | 'ServiceUnavailable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'NotAcceptable'
  | 'InternalError';

/** A failed request; {@link statusOf} turns it into the wire `Status`. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The `Status` body of a failure. */
export function statusOf(error: ApiError): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: error.message,
    reason: error.reason,
    ...(error.details === undefined ? {} : { details: error.details }),
    code: error.code,
  };
}

/** The `Status` body of a successful deletion that returns no object. */
export function successStatus(details: StatusDetails): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

/** Identifies a resource in messages: `configmaps`, `deployments.apps`. */
export interface ResourceName {
  readonly group: string;
  readonly plural: string;
}

const qualified = (resource: ResourceName): string => (resource.group === '' ? resource.plural : `${resource.plural}.${resource.group}`);
const detailsOf = (resource: ResourceName, name: string): StatusDetails => ({
  name,
  ...(resource.group === '' ? {} : { group: resource.group }),
  kind: resource.plural,
});

export const notFound = (resource: ResourceName, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${qualified(resource)} "${name}" not found`, detailsOf(resource, name));

/** A path the server does not serve (unknown group, version or resource, or a CRD not yet established). */
export const unknownPath = (): ApiError => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

export const alreadyExists = (resource: ResourceName, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${qualified(resource)} "${name}" already exists`, detailsOf(resource, name));

/** Optimistic concurrency failure of an update (stale `metadata.resourceVersion`) or a precondition. */
export const conflict = (resource: ResourceName, name: string, why: string): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource)} "${name}": ${why}`, detailsOf(resource, name));

export const STALE_RESOURCE_VERSION = 'the object has been modified; please apply your changes to the latest version and try again';

/** One field error of an Invalid (422) answer, as `field.Error` prints it. */
export interface FieldError {
  readonly type: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueNotSupported' | 'FieldValueDuplicate' | 'FieldValueTooLong';
  readonly field: string;
  readonly detail: string;
  /** Shown for FieldValueInvalid and FieldValueNotSupported. */
  readonly value?: unknown;
}

const FIELD_ERROR_TITLES: Record<FieldError['type'], string> = {
  FieldValueInvalid: 'Invalid value',
  FieldValueRequired: 'Required value',
  FieldValueForbidden: 'Forbidden',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueTooLong: 'Too long',
};

function describeFieldError(error: FieldError): string {
  const value = error.value === undefined ? '' : `${JSON.stringify(error.value)}: `;
  return `${FIELD_ERROR_TITLES[error.type]}: ${value}${error.detail}`;
}

/** 422 Invalid: `ConfigMap "x" is invalid: metadata.name: Invalid value: ...`. */
export function invalid(group: string, kind: string, name: string, errors: readonly FieldError[]): ApiError {
  const qualifiedKind = group === '' ? kind : `${kind}.${group}`;
  const listed = errors.map((error) => `${error.field}: ${describeFieldError(error)}`);
  const summary = listed.length === 1 ? listed[0]! : `[${listed.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${summary}`, {
    name,
    ...(group === '' ? {} : { group }),
    kind,
    causes: errors.map((error) => ({ reason: error.type, message: describeFieldError(error), field: error.field })),
  });
}

export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message, {});

export const methodNotAllowed = (): ApiError =>
  new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

export const unauthorized = (): ApiError => new ApiError(401, 'Unauthorized', 'Unauthorized');

export const unavailable = (): ApiError =>
  new ApiError(503, 'ServiceUnavailable', 'the API server is unavailable (simulated outage)', { retryAfterSeconds: 1 });

export const forbidden = (resource: ResourceName, name: string, why: string): ApiError =>
  new ApiError(403, 'Forbidden', `${qualified(resource)} "${name}" is forbidden: ${why}`, detailsOf(resource, name));

export const expired = (message: string): ApiError => new ApiError(410, 'Expired', message);

export const unsupportedMediaType = (contentType: string, accepted: readonly string[]): ApiError =>
  new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format (${contentType || 'no content type'}) - accepted media types include: ${accepted.join(', ')}`,
    {},
  );

export const tooLarge = (limitBytes: number): ApiError =>
  new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limitBytes}`, {});
