import { Kind, type ValueNode } from 'graphql';
import { CustomScalar, Scalar } from '@nestjs/graphql';
import { GRAPHQL_LIMIT_DEFAULTS } from '../config/graphql-limits-config';
import { checkJson } from '../core/limits/json-shape';

type JsonObject = Record<string, unknown>;

/**
 * The deepest nesting of objects and arrays a JSONObject may have (labels and values are shallow); the
 * same as the default FLOTILLA_GRAPHQL_MAX_JSON_DEPTH, which the HTTP edge applies to every request.
 */
export const MAX_JSON_OBJECT_DEPTH = GRAPHQL_LIMIT_DEFAULTS.maxJsonDepth;
const TOO_DEEP = `JSONObject values may nest objects and arrays at most ${MAX_JSON_OBJECT_DEPTH} levels deep.`;

/** A JSON object (labels, values). Arrays, strings and numbers at the top level are refused. */
@Scalar('JSONObject')
export class JsonObjectScalar implements CustomScalar<JsonObject, JsonObject> {
  description = 'A JSON object, such as a map of labels.';

  parseValue(value: unknown): JsonObject {
    if (checkJson(value, { maxDepth: MAX_JSON_OBJECT_DEPTH, maxBytes: Number.MAX_SAFE_INTEGER })) throw new TypeError(TOO_DEEP);
    return asObject(value);
  }

  serialize(value: unknown): JsonObject {
    return asObject(value);
  }

  parseLiteral(ast: ValueNode): JsonObject {
    return asObject(literal(ast, 1));
  }
}

function asObject(value: unknown): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError('JSONObject must be an object.');
  return value as JsonObject;
}

/**
 * The value of a literal `depth` levels down. Recursive, but bounded: a literal nested deeper than
 * {@link MAX_JSON_OBJECT_DEPTH} is refused (the HTTP edge refuses deeper documents before parsing; this
 * holds wherever a document comes from).
 */
function literal(ast: ValueNode, depth: number): unknown {
  if ((ast.kind === Kind.OBJECT || ast.kind === Kind.LIST) && depth > MAX_JSON_OBJECT_DEPTH) throw new TypeError(TOO_DEEP);
  switch (ast.kind) {
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value, depth + 1)]));
    case Kind.LIST:
      return ast.values.map((value) => literal(value, depth + 1));
    case Kind.STRING:
    case Kind.ENUM:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.NULL:
      return null;
    default:
      throw new TypeError('Variables are not supported inside JSONObject literals.');
  }
}
