import type { GraphqlLimitsConfig } from '../../config/graphql-limits-config';
import { scanDocument } from '../../core/limits/document-scan';
import { checkJson, jsonTextDepth } from '../../core/limits/json-shape';
import { documentRefusal, jsonRefusal, type LimitRefusal } from './limit-errors';

/**
 * The checks one GraphQL operation passes before it is parsed (HTTP body or query string, WebSocket
 * `subscribe`): a query that is GraphQL text within the byte, token, alias and nesting limits, and
 * variables within the size and nesting limits. Returns the first refusal, or undefined.
 */
export function checkOperation(operation: { readonly query: unknown; readonly variables: unknown }, limits: GraphqlLimitsConfig): LimitRefusal | undefined {
  const { query, variables } = operation;
  if (query !== undefined && query !== null && typeof query !== 'string') return { code: 'GRAPHQL_PARSE_FAILED', status: 400, message: 'The query must be GraphQL text.' };
  if (typeof query === 'string') {
    const scanned = scanDocument(query, { maxTokens: limits.maxTokens, maxAliases: limits.maxAliases, maxDepth: limits.maxDepth, maxValueDepth: limits.maxJsonDepth });
    if (scanned) return documentRefusal(scanned);
    const bytes = Buffer.byteLength(query);
    if (bytes > limits.maxDocumentBytes) return { code: 'QUERY_TOO_LARGE', status: 400, message: `The document has ${bytes} bytes; at most ${limits.maxDocumentBytes} are allowed.`, details: { bytes, limit: limits.maxDocumentBytes } };
  }
  if (variables !== undefined && variables !== null) {
    const refused = checkJson(variables, { maxDepth: limits.maxJsonDepth, maxBytes: limits.maxVariablesBytes });
    if (refused) return jsonRefusal(refused, 'variables');
  }
  return undefined;
}

/**
 * The checks of variables still in JSON text (a GET query string), before anything parses them:
 * their length and their nesting. Returns the first refusal, or undefined.
 */
export function checkVariablesText(text: string, limits: GraphqlLimitsConfig): LimitRefusal | undefined {
  if (text.length > limits.maxVariablesBytes) return jsonRefusal({ kind: 'too-large', limit: limits.maxVariablesBytes }, 'variables');
  if (jsonTextDepth(text, limits.maxJsonDepth) > limits.maxJsonDepth) return jsonRefusal({ kind: 'too-deep', limit: limits.maxJsonDepth }, 'variables');
  return undefined;
}
