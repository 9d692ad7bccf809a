import { getIntrospectionQuery, parse, type GraphQLSchema } from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';

/**
 * Limits of the introspection part of a query (`__schema`, `__type`), for a hub that allows
 * introspection. The API's own depth and cost limits do not fit it: the standard introspection query
 * (what GraphiQL and code generators send) is 15 fields deep through its `ofType` chain and, counted
 * with the API's list estimate, costs more than any API query may. What makes an introspection answer
 * large is how many of its lists nest and how long they are, which the schema itself tells: so the
 * introspection part is costed with the schema's real list lengths and allowed up to
 * {@link INTROSPECTION_COST_FACTOR} times what the standard introspection query costs on this schema.
 */

/** Longest path allowed inside the introspection part (the standard query's is 15). */
export const MAX_INTROSPECTION_DEPTH = 20;
/** Most introspection lists nested on one path (the standard query: types → fields → args is 3). */
export const MAX_INTROSPECTION_LISTS = 3;
/** How many times the standard introspection query's cost the introspection part of a query may cost. */
export const INTROSPECTION_COST_FACTOR = 2;

/** The longest each introspection list can be on a schema, by field name. */
type ListLengths = Readonly<Record<string, number>>;

function listLengths(schema: GraphQLSchema): ListLengths {
  const types = Object.values(schema.getTypeMap());
  let fields = 0;
  let args = 0;
  let inputFields = 0;
  let interfaces = 0;
  let enumValues = 0;
  let possibleTypes = 0;
  for (const type of types) {
    if ('getFields' in type) {
      const typeFields = Object.values(type.getFields());
      if ('getInterfaces' in type) {
        fields = Math.max(fields, typeFields.length);
        interfaces = Math.max(interfaces, type.getInterfaces().length);
        for (const field of typeFields) args = Math.max(args, 'args' in field ? field.args.length : 0);
      } else {
        inputFields = Math.max(inputFields, typeFields.length);
      }
    }
    if ('getValues' in type) enumValues = Math.max(enumValues, type.getValues().length);
    if ('getTypes' in type) possibleTypes = Math.max(possibleTypes, type.getTypes().length);
  }
  for (const directive of schema.getDirectives()) args = Math.max(args, directive.args.length);
  return { types: types.length, fields, args, inputFields, interfaces, enumValues, possibleTypes, directives: schema.getDirectives().length };
}

/**
 * Costs the introspection part of a query only: 1 per object of an introspection type, each list
 * counted at its real longest length on the schema; the API's own fields cost nothing here.
 */
export function introspectionEstimator(schema: GraphQLSchema): ComplexityEstimator {
  const known = estimators.get(schema);
  if (known) return known;
  const lengths = listLengths(schema);
  const estimator: ComplexityEstimator = ({ type, field, childComplexity }) => {
    const introspective = field.name === '__schema' || field.name === '__type' || type.name.startsWith('__');
    if (!introspective) return childComplexity;
    if (field.name === '__typename') return 0;
    if (!returnsObjects(field.type)) return 0;
    return (lengths[field.name] ?? 1) * (1 + childComplexity);
  };
  estimators.set(schema, estimator);
  return estimator;
}

const estimators = new WeakMap<GraphQLSchema, ComplexityEstimator>();

/**
 * Whether a field's type, lists and non-null unwrapped, has fields of its own. Read off the type's
 * shape rather than with graphql's predicates, which refuse a schema built by another copy of graphql
 * (see validation-rules.ts).
 */
function returnsObjects(type: unknown): boolean {
  let named = type;
  while (typeof named === 'object' && named !== null && 'ofType' in named && named.ofType) named = named.ofType;
  return typeof named === 'object' && named !== null && 'getFields' in named;
}

const standardCosts = new WeakMap<GraphQLSchema, number>();

/** The most the introspection part of a query may cost on `schema` (see the module comment); memoised per schema. */
export function maxIntrospectionCost(schema: GraphQLSchema): number {
  let cost = standardCosts.get(schema);
  if (cost === undefined) {
    const standard = parse(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }));
    cost = getComplexity({ schema, query: standard, estimators: [introspectionEstimator(schema)] });
    standardCosts.set(schema, cost);
  }
  return INTROSPECTION_COST_FACTOR * cost;
}
