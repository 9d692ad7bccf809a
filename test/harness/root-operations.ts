import {
  buildSchema,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  getNamedType,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';

export type RootOperationType = 'query' | 'mutation' | 'subscription';

/** One root field of the API with the smallest document that calls it. */
export interface RootFieldOperation {
  readonly type: RootOperationType;
  readonly field: string;
  /** e.g. `mutation { pauseRollout(id: "00000000-…") { __typename } }`: valid against the schema. */
  readonly document: string;
}

/** What a dummy argument of each scalar is; anything else gets a string. */
const DUMMY_SCALARS: Readonly<Record<string, string>> = {
  ID: '"00000000-0000-4000-8000-000000000000"',
  String: '"x"',
  Int: '1',
  Float: '1.5',
  Boolean: 'false',
  JSONObject: '{}',
  DateTime: '"2000-01-01T00:00:00Z"',
};

/**
 * Every root Query, Mutation and Subscription field of an SDL document, each with a minimal operation:
 * required arguments get dummy literals (input objects their required fields, enums their first value),
 * composite results select `__typename`. Sorted by type, then field name.
 */
export function rootFieldOperations(sdl: string): RootFieldOperation[] {
  const schema = buildSchema(sdl);
  const roots: [RootOperationType, GraphQLObjectType | null | undefined][] = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
    ['subscription', schema.getSubscriptionType()],
  ];
  return roots.flatMap(([type, root]) =>
    Object.values(root?.getFields() ?? {})
      .map((field) => {
        const args = field.args.filter((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined).map((arg) => `${arg.name}: ${dummyLiteral(arg.type)}`);
        const call = args.length > 0 ? `${field.name}(${args.join(', ')})` : field.name;
        const selection = isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '';
        return { type, field: field.name, document: `${type} { ${call}${selection} }` };
      })
      .sort((a, b) => a.field.localeCompare(b.field)),
  );
}

/** The schema itself, for validating generated documents. */
export function schemaOf(sdl: string): GraphQLSchema {
  return buildSchema(sdl);
}

function dummyLiteral(type: GraphQLInputType): string {
  if (isNonNullType(type)) return dummyLiteral(type.ofType);
  if (isListType(type)) return `[${dummyLiteral(type.ofType)}]`;
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type) && f.defaultValue === undefined);
    return `{ ${fields.map((f) => `${f.name}: ${dummyLiteral(f.type)}`).join(', ')} }`;
  }
  return DUMMY_SCALARS[type.name] ?? '"x"';
}
