import { GraphQLError, Kind, visit, type DocumentNode, type GraphQLOutputType, type GraphQLSchema, type OperationDefinitionNode, type ValidationRule } from 'graphql';
import { createComplexityRule, getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import type { GraphqlLimitsConfig } from '../../config/graphql-limits-config';
import { fieldCost } from '../../core/limits/query-cost';
import { measureQueryShape } from '../../core/limits/query-shape';
import { introspectionEstimator, MAX_INTROSPECTION_DEPTH, MAX_INTROSPECTION_LISTS, maxIntrospectionCost } from './introspection-limits';
import { limitError, type LimitRefusal } from './limit-errors';

/** The most fields the cost estimate walks, fragments expanded, before it calls the query too complex. */
const MAX_QUERY_NODES = 20_000;

/**
 * List fields whose length is set by an argument of the field above them (a connection's `nodes`
 * follows the `first` of the connection field), as `Type.field`.
 */
const SIZED_BY_PARENT = new Set(['AuditEventConnection.nodes', 'ClusterPage.nodes']);

/** The graphql-query-complexity estimator of the hub: see {@link fieldCost}. */
export function costEstimator(defaultListSize: number): ComplexityEstimator {
  return ({ type, field, args, childComplexity }) => {
    // The introspection part is costed apart, with the schema's own list lengths (introspection-limits.ts).
    if (field.name === '__schema' || field.name === '__type') return 0;
    const first: unknown = args['first'];
    return fieldCost(
      {
        isLeaf: isLeaf(field.type),
        isList: isList(field.type),
        first: typeof first === 'number' ? first : undefined,
        sizedByParent: SIZED_BY_PARENT.has(`${type.name}.${field.name}`),
        childCost: childComplexity,
      },
      defaultListSize,
    );
  };
}

// Types are told apart by their `Symbol.toStringTag` rather than graphql's `is…Type` predicates:
// those check `instanceof`, which fails (and throws in development) when the schema was built by
// another copy of graphql than this file's, as under the test runner's ESM/CommonJS split.
const tagOf = (type: unknown): string => Object.prototype.toString.call(type).slice(8, -1);
const unwrapNonNull = (type: GraphQLOutputType): GraphQLOutputType => (tagOf(type) === 'GraphQLNonNull' ? (type as { ofType: GraphQLOutputType }).ofType : type);

function isList(type: GraphQLOutputType): boolean {
  return tagOf(unwrapNonNull(type)) === 'GraphQLList';
}

function isLeaf(type: GraphQLOutputType): boolean {
  let named: GraphQLOutputType = type;
  while (tagOf(named) === 'GraphQLNonNull' || tagOf(named) === 'GraphQLList') named = (named as { ofType: GraphQLOutputType }).ofType;
  return tagOf(named) === 'GraphQLScalarType' || tagOf(named) === 'GraphQLEnumType';
}

/**
 * The validation rules the hub adds to GraphQL's own for one request (its variables make `first: $n`
 * count): depth and aliases of the parsed document (fragments expanded), the estimated cost, and,
 * when introspection is off, a refusal of `__schema` and `__type`. Each refusal carries its code.
 */
export function limitRules(limits: GraphqlLimitsConfig, variables: Record<string, unknown> | undefined, operationName: string | undefined): ValidationRule[] {
  const shapeRule: ValidationRule = (context) => ({
    Document(document) {
      const shape = measureQueryShape(document);
      if (shape.depth > limits.maxDepth) {
        const depth = Number.isFinite(shape.depth) ? shape.depth : -1;
        context.reportError(limitError({ code: 'QUERY_TOO_DEEP', status: 400, message: `The query is ${Number.isFinite(shape.depth) ? shape.depth : 'infinitely many'} levels deep; at most ${limits.maxDepth} are allowed.`, details: { depth, limit: limits.maxDepth } }));
      }
      if (shape.aliases > limits.maxAliases) {
        context.reportError(limitError({ code: 'TOO_MANY_ALIASES', status: 400, message: `The document has ${shape.aliases} aliases; at most ${limits.maxAliases} are allowed.`, details: { aliases: shape.aliases, limit: limits.maxAliases } }));
      }
      if (limits.introspection && shape.introspection.depth > MAX_INTROSPECTION_DEPTH) {
        const depth = Number.isFinite(shape.introspection.depth) ? shape.introspection.depth : -1;
        context.reportError(limitError({ code: 'QUERY_TOO_DEEP', status: 400, message: `The introspection part of the query is ${depth < 0 ? 'infinitely many' : depth} levels deep; at most ${MAX_INTROSPECTION_DEPTH} are allowed.`, details: { depth, limit: MAX_INTROSPECTION_DEPTH } }));
      }
      if (limits.introspection && shape.introspection.lists > MAX_INTROSPECTION_LISTS) {
        context.reportError(limitError({ code: 'QUERY_TOO_COMPLEX', status: 400, message: `The introspection part of the query nests ${shape.introspection.lists} lists; at most ${MAX_INTROSPECTION_LISTS} are allowed.`, details: { lists: shape.introspection.lists, limit: MAX_INTROSPECTION_LISTS } }));
      }
    },
  });
  const costRule = createComplexityRule({
    maximumComplexity: limits.maxCost,
    variables: variables ?? {},
    ...(operationName ? { operationName } : {}),
    estimators: [costEstimator(limits.defaultListSize)],
    maxQueryNodes: MAX_QUERY_NODES,
    createError: (max, actual) =>
      limitError({ code: 'QUERY_TOO_COMPLEX', status: 400, message: `The query's estimated cost is ${actual}; at most ${max} is allowed.`, details: { cost: actual, limit: max } }),
  });
  // Mercurius validates with these rules what comes over HTTP only (graphql-ws subscriptions go through
  // checkDocument): a subscription sent over HTTP would otherwise fail with a null-field error.
  const subscriptionRule: ValidationRule = (context) => ({
    OperationDefinition(node) {
      if (node.operation !== 'subscription' || (operationName && node.name?.value !== operationName)) return;
      context.reportError(new GraphQLError('A subscription runs over WebSocket (graphql-ws) at /graphql, not over an HTTP request.', { nodes: node, extensions: { code: 'SUBSCRIPTION_NEEDS_WEBSOCKET' } }));
    },
  });
  const rules: ValidationRule[] = [shapeRule, guarded(costRule), subscriptionRule];
  if (limits.introspection) {
    rules.push((context) => {
      const schema = context.getSchema();
      const introspectionRule = createComplexityRule({
        maximumComplexity: maxIntrospectionCost(schema),
        variables: variables ?? {},
        ...(operationName ? { operationName } : {}),
        estimators: [introspectionEstimator(schema)],
        maxQueryNodes: MAX_QUERY_NODES,
        createError: (max, actual) =>
          limitError({ code: 'QUERY_TOO_COMPLEX', status: 400, message: `The introspection part of the query has an estimated cost of ${actual}; at most ${max} (twice the standard introspection query) is allowed.`, details: { cost: actual, limit: max } }),
      });
      return guarded(introspectionRule)(context);
    });
  }
  if (!limits.introspection) {
    rules.push((context) => ({
      Field(node) {
        if (node.name.value === '__schema' || node.name.value === '__type') {
          context.reportError(
            new GraphQLError('Introspection is disabled on this hub (FLOTILLA_GRAPHQL_INTROSPECTION=true turns it on).', { nodes: node, extensions: { code: 'INTROSPECTION_DISABLED' } }),
          );
        }
      },
    }));
  }
  return rules;
}

/**
 * A cost rule that reports, instead of throwing, when a document expands to too many nodes (the
 * library throws then, e.g. for a fragment spread many times over): a refusal for cost too, not an
 * internal error.
 */
function guarded(costRule: ValidationRule): ValidationRule {
  return (context) => {
    type Visit = (this: unknown, node: OperationDefinitionNode) => unknown;
    const visitor = costRule(context) as unknown as { OperationDefinition: { enter: Visit; leave: Visit } };
    let failed = false;
    return {
      OperationDefinition: {
        enter(node) {
          try {
            visitor.OperationDefinition.enter.call(visitor, node);
          } catch (error) {
            if (!(error instanceof GraphQLError)) throw error;
            failed = true;
            context.reportError(limitError({ code: 'QUERY_TOO_COMPLEX', status: 400, message: `The query expands to more than ${MAX_QUERY_NODES} fields.`, details: { limit: MAX_QUERY_NODES } }));
          }
        },
        leave(node) {
          if (!failed) visitor.OperationDefinition.leave.call(visitor, node);
        },
      },
    };
  };
}

/** A ` Did you mean "x"?` suggestion at the end of a validation or coercion message. */
const SUGGESTION = /\s*Did you mean [^?]*\?\s*$/;

/** `message` without the schema hint GraphQL appends ("Did you mean …?"). */
export function withoutSuggestion(message: string): string {
  return message.replace(SUGGESTION, '');
}

/**
 * The limits of {@link limitRules} for a document that no validation pass will see (a graphql-ws
 * `subscribe`, which mercurius executes unvalidated): depth and aliases, introspection, then the
 * estimated cost with the operation's variables. Returns the first refusal, or undefined.
 */
export function checkDocument(
  document: DocumentNode,
  schema: GraphQLSchema,
  limits: GraphqlLimitsConfig,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
): LimitRefusal | undefined {
  const shape = measureQueryShape(document);
  if (shape.depth > limits.maxDepth) return { code: 'QUERY_TOO_DEEP', status: 400, message: `The query is more than ${limits.maxDepth} levels deep.`, details: { limit: limits.maxDepth } };
  if (shape.aliases > limits.maxAliases) return { code: 'TOO_MANY_ALIASES', status: 400, message: `The document has ${shape.aliases} aliases; at most ${limits.maxAliases} are allowed.`, details: { aliases: shape.aliases, limit: limits.maxAliases } };
  if (!limits.introspection) {
    let introspects = false;
    visit(document, {
      [Kind.FIELD](node) {
        if (node.name.value === '__schema' || node.name.value === '__type') introspects = true;
      },
    });
    if (introspects) return { code: 'INTROSPECTION_DISABLED', status: 400, message: 'Introspection is disabled on this hub (FLOTILLA_GRAPHQL_INTROSPECTION=true turns it on).' };
  }
  let cost: number;
  try {
    cost = getComplexity({ schema, query: document, variables: variables ?? {}, ...(operationName ? { operationName } : {}), estimators: [costEstimator(limits.defaultListSize)], maxQueryNodes: MAX_QUERY_NODES });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/maximum allowed number of nodes/.test(message)) return { code: 'QUERY_TOO_COMPLEX', status: 400, message: `The query expands to more than ${MAX_QUERY_NODES} fields.`, details: { limit: MAX_QUERY_NODES } };
    return { code: 'GRAPHQL_VALIDATION_FAILED', status: 400, message: limits.introspection ? message : withoutSuggestion(message) };
  }
  if (cost > limits.maxCost) return { code: 'QUERY_TOO_COMPLEX', status: 400, message: `The query's estimated cost is ${cost}; at most ${limits.maxCost} is allowed.`, details: { cost, limit: limits.maxCost } };
  return undefined;
}
