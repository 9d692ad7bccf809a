import { GraphQLError } from 'graphql';
import type { DocumentScanRefusal } from '../../core/limits/document-scan';
import type { JsonRefusal } from '../../core/limits/json-shape';

/** `extensions.code` of the refusals made by the GraphQL limits; each is answered before any resolver runs. */
export type LimitCode =
  | 'QUERY_TOO_COMPLEX'
  | 'TOO_MANY_ALIASES'
  | 'QUERY_TOO_DEEP'
  | 'QUERY_TOO_LARGE'
  | 'VARIABLES_TOO_LARGE'
  | 'INVALID_ARGUMENT'
  | 'BATCHED_QUERIES_REFUSED'
  | 'INTROSPECTION_DISABLED'
  | 'GRAPHQL_PARSE_FAILED'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'RATE_LIMITED';

/** A refusal as data: what the HTTP edge sends and what the WebSocket screen turns into an `error` message. */
export interface LimitRefusal {
  readonly code: LimitCode;
  readonly message: string;
  /** HTTP status: 400 for a request that is refused whatever the load, 429 for RATE_LIMITED. */
  readonly status: 400 | 429;
  /** Extra `extensions` fields (the limit, the measured value, retryAfterMs). */
  readonly details?: Readonly<Record<string, number>>;
}

/** The GraphQL error of a refusal; mercurius answers it with `status` (read from `originalError.statusCode`). */
export function limitError(refusal: LimitRefusal): GraphQLError {
  const originalError = Object.assign(new Error(refusal.message), { statusCode: refusal.status });
  return new GraphQLError(refusal.message, { originalError, extensions: { code: refusal.code, ...refusal.details } });
}

/** The JSON body of an HTTP answer to a refusal (the GraphQL response format). */
export function refusalBody(refusal: LimitRefusal): { data: null; errors: { message: string; extensions: Record<string, unknown> }[] } {
  return { data: null, errors: [{ message: refusal.message, extensions: { code: refusal.code, ...refusal.details } }] };
}

/** The refusal of a document that failed the lexical scan. */
export function documentRefusal(refusal: DocumentScanRefusal): LimitRefusal {
  switch (refusal.kind) {
    case 'too-many-tokens':
      return { code: 'QUERY_TOO_LARGE', status: 400, message: `The document has more than ${refusal.limit} tokens.`, details: { limit: refusal.limit } };
    case 'too-many-aliases':
      return { code: 'TOO_MANY_ALIASES', status: 400, message: `The document has more than ${refusal.limit} aliases.`, details: { limit: refusal.limit } };
    case 'too-deep':
      return { code: 'QUERY_TOO_DEEP', status: 400, message: `The document nests selections more than ${refusal.limit} levels deep.`, details: { limit: refusal.limit } };
    case 'value-too-deep':
      return { code: 'INVALID_ARGUMENT', status: 400, message: `An argument value nests objects or lists more than ${refusal.limit} levels deep.`, details: { limit: refusal.limit } };
    case 'not-graphql-text':
      return { code: 'GRAPHQL_PARSE_FAILED', status: 400, message: 'The query must be GraphQL text.' };
  }
}

/** The refusal of variables or a body that failed the JSON checks; `what` names it ("variables", "the request body"). */
export function jsonRefusal(refusal: JsonRefusal, what: string): LimitRefusal {
  return refusal.kind === 'too-deep'
    ? { code: 'INVALID_ARGUMENT', status: 400, message: `${capitalize(what)}: objects or arrays nested more than ${refusal.limit} levels deep.`, details: { limit: refusal.limit } }
    : { code: 'VARIABLES_TOO_LARGE', status: 400, message: `${capitalize(what)}: more than ${refusal.limit} bytes.`, details: { limit: refusal.limit } };
}

/** The refusal of a request over its rate. */
export function rateRefusal(retryAfterMs: number, by: 'principal' | 'address'): LimitRefusal {
  return {
    code: 'RATE_LIMITED',
    status: 429,
    message: `Too many requests from this ${by === 'principal' ? 'caller' : 'address'}; retry after ${Math.ceil(retryAfterMs / 1000)} s.`,
    details: { retryAfterMs },
  };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
