import { Kind, type ValueNode } from 'graphql';
import { CustomScalar, Scalar } from '@nestjs/graphql';

type JsonObject = Record<string, unknown>;

/** A JSON object (labels, values). Arrays, strings and numbers at the top level are refused. */
@Scalar('JSONObject')
export class JsonObjectScalar implements CustomScalar<JsonObject, JsonObject> {
  description = 'A JSON object, such as a map of labels.';

  parseValue(value: unknown): JsonObject {
    return asObject(value);
  }

  serialize(value: unknown): JsonObject {
    return asObject(value);
  }

  parseLiteral(ast: ValueNode): JsonObject {
    return asObject(literal(ast));
  }
}

function asObject(value: unknown): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError('JSONObject must be an object.');
  return value as JsonObject;
}

function literal(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value)]));
    case Kind.LIST:
      return ast.values.map(literal);
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
