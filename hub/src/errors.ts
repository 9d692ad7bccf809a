/** Stable codes of domain errors; mapped once to GraphQL `extensions.code` and to gRPC status. */
export type FlotillaErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'UNAVAILABLE';

/**
 * The one domain error of the hub. Messages are for humans and never contain secret values.
 * `retryAfterMs` marks a transient failure worth retrying.
 */
export class FlotillaError extends Error {
  constructor(
    readonly code: FlotillaErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'FlotillaError';
  }
}
