/**
 * What the HTTP edge refuses before authentication, parsing or any resolver: a foreign `Host`, a
 * foreign `Origin`, and GraphQL POSTs a browser could send cross-site without a preflight. A decision
 * function: the caller answers the refusal and nothing else runs.
 */
import { Kind, OperationTypeNode, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { isHostAllowed, parseHost, type HostPattern } from './hosts';
import { isSameOrigin, parseOrigin, serializeOrigin } from './origins';

/** Where GraphQL is served over HTTP (and graphql-ws over the WebSocket upgrade). */
export const GRAPHQL_ROUTE = '/graphql';

/** The media types a GraphQL POST may carry: neither is one a form or a simple `fetch` can send cross-site. */
export const GRAPHQL_MEDIA_TYPES: readonly string[] = ['application/json', 'application/graphql-response+json'];

/** The stable `extensions.code` of each refusal. */
export type EdgeRefusalCode = 'HOST_NOT_ALLOWED' | 'ORIGIN_NOT_ALLOWED' | 'UNSUPPORTED_MEDIA_TYPE' | 'METHOD_NOT_ALLOWED';

/** A refused request: the HTTP status, the code and a message that says what to do. */
export interface EdgeRefusal {
  readonly status: 403 | 405 | 415 | 421;
  readonly code: EdgeRefusalCode;
  readonly message: string;
}

/** Which hosts and origins the hub answers (see config/cross-site-config.ts). */
export interface CrossSitePolicy {
  /** Names besides IP literals and `localhost` that requests may address the hub by. */
  readonly allowedHosts: readonly HostPattern[];
  /** Canonical origins (`scheme://host[:port]`) allowed besides the hub's own. */
  readonly allowedOrigins: readonly string[];
}

/** The parts of a request the edge decides on; header values as received (undefined when absent). */
export interface EdgeRequest {
  /** Upper case. */
  readonly method: string;
  /** The pattern of the route the request matched (`/graphql`), undefined when none did: not the raw, possibly encoded, path. */
  readonly route: string | undefined;
  readonly host: string | undefined;
  readonly origin: string | undefined;
  readonly contentType: string | undefined;
}

/** How much of a refused header value a message quotes. */
const QUOTE_LIMIT = 100;

/**
 * The first reason to refuse `request`, checked in this order: `Host` (every path, 421), `Origin`
 * (every path, 403; a request without one is not a browser's cross-site request and passes),
 * then a POST to {@link GRAPHQL_ROUTE} whose media type is not one of {@link GRAPHQL_MEDIA_TYPES} (415).
 * Undefined: nothing to refuse here.
 */
export function refuseCrossSite(request: EdgeRequest, policy: CrossSitePolicy): EdgeRefusal | undefined {
  const host = request.host === undefined ? undefined : parseHost(request.host);
  if (!host || !isHostAllowed(host, policy.allowedHosts)) {
    const shown = request.host === undefined ? 'no Host header' : `Host ${quote(request.host)}`;
    return {
      status: 421,
      code: 'HOST_NOT_ALLOWED',
      message: `The hub does not answer to ${shown}: address it by a name in FLOTILLA_ALLOWED_HOSTS, localhost or an IP address.`,
    };
  }
  if (request.origin !== undefined) {
    const origin = parseOrigin(request.origin);
    if (!origin || !(isSameOrigin(origin, host) || policy.allowedOrigins.includes(serializeOrigin(origin)))) {
      return {
        status: 403,
        code: 'ORIGIN_NOT_ALLOWED',
        message: `Cross-origin requests from Origin ${quote(request.origin)} are refused: only the hub's own origin and those in FLOTILLA_ALLOWED_ORIGINS may call it.`,
      };
    }
  }
  if (request.route === GRAPHQL_ROUTE && request.method === 'POST' && !GRAPHQL_MEDIA_TYPES.includes(mediaTypeOf(request.contentType) ?? '')) {
    const shown = request.contentType === undefined ? 'no Content-Type' : `Content-Type ${quote(request.contentType)}`;
    return {
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: `A GraphQL POST must be sent as ${GRAPHQL_MEDIA_TYPES.join(' or ')} (got ${shown}).`,
    };
  }
  return undefined;
}

/**
 * A GET (or HEAD) of {@link GRAPHQL_ROUTE} may only read: refused (405) when the operation `query`
 * would run is a mutation or subscription, or, when `operationName` names none of its operations, when
 * any of them is. A `query` that is not a string or does not parse is left to GraphQL to report.
 */
export function refuseGetOperation(query: unknown, operationName: unknown): EdgeRefusal | undefined {
  if (typeof query !== 'string') return undefined;
  let document: DocumentNode;
  try {
    document = parse(query, { noLocation: true });
  } catch {
    return undefined;
  }
  const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  const named = typeof operationName === 'string' ? operations.filter((operation) => operation.name?.value === operationName) : [];
  const writing = (named.length > 0 ? named : operations).find((operation) => operation.operation !== OperationTypeNode.QUERY);
  if (!writing) return undefined;
  return {
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    message: `A ${writing.operation} cannot be sent with GET: POST it as application/json${writing.operation === OperationTypeNode.SUBSCRIPTION ? ', or subscribe over graphql-ws' : ''}.`,
  };
}

/** `type/subtype` of a Content-Type value, lowercased, parameters dropped. */
function mediaTypeOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const semicolon = contentType.indexOf(';');
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

function quote(value: string): string {
  return JSON.stringify(value.length > QUOTE_LIMIT ? `${value.slice(0, QUOTE_LIMIT)}…` : value);
}
