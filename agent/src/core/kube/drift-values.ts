import { LIMITS, SECRET_REFERENCE_OPENING, truncateText } from '@flotilla/proto';
import { formatPath, type DriftedField, type PathSegment } from './field-diff.js';
import { valueAt } from './field-values.js';
import { isRecord } from './object-ref.js';

/**
 * What a drifted field holds on each side, as the agent reports it, with secret values kept in the
 * cluster. The values are read from the same three objects the drift was found in (see
 * field-diff.ts), so a report says exactly what was compared.
 */

/** The values of one drifted field, as sent in a Report (ResourceStatus.drifted_values). */
export interface DriftedValue {
  /** The path of the field, as in `driftedFields`. */
  readonly path: string;
  /** Compact JSON of the value the applied configuration results in; absent when the field is absent there or redacted. */
  readonly expected?: string;
  /** Compact JSON of the live value; absent when the field is absent from the live object or redacted. */
  readonly live?: string;
  /** The value is secret: both sides are left out. */
  readonly redacted: boolean;
}

/** What {@link describeDriftValues} reads. */
export interface DriftValuesInput {
  /** The object's identity: a core Secret's data is always secret. */
  readonly ref: { readonly apiVersion: string; readonly kind: string };
  /** The drifted fields, from `driftedFields(applied, expected, live)`. */
  readonly fields: readonly DriftedField[];
  /**
   * The object as the App declared it, before secret references were resolved; undefined when it
   * held none (then the applied object is the declared one).
   */
  readonly declared: unknown;
  /** What the server made of the applied configuration (the apply's answer or a dry run). */
  readonly expected: unknown;
  /** The live object. */
  readonly live: unknown;
  /** Values that secret references resolved to for this App; a side that contains one is never sent. */
  readonly secretValues?: readonly string[];
}

/**
 * The values of every drifted field, in the order of `fields`. A field is redacted (no values) when
 * it is secret: under `data` or `stringData` of a core Secret, a field whose declared value holds a
 * secret reference (anywhere inside it, for a map or list), a field the declared object does not have
 * while it holds a reference elsewhere (its path cannot be told apart from a resolved one), or a field
 * whose expected or live text contains a resolved secret value of four or more characters. Each value
 * is cut to `maxChars` characters with a marker. Inputs are never changed.
 */
export function describeDriftValues(input: DriftValuesInput, maxChars: number = LIMITS.maxDriftValueChars): DriftedValue[] {
  const secretValues = (input.secretValues ?? []).filter((value) => value.length >= 4);
  return input.fields.map((field) => {
    if (isSecretField(input.ref, input.declared, field.segments)) return { path: field.path, redacted: true };
    const expected = valueAt(input.expected, field.segments);
    const live = valueAt(input.live, field.segments);
    const expectedText = expected.found ? compactJson(expected.value) : undefined;
    const liveText = live.found ? compactJson(live.value) : undefined;
    if (secretValues.some((secret) => expectedText?.includes(secret) === true || liveText?.includes(secret) === true)) return { path: field.path, redacted: true };
    return {
      path: field.path,
      ...(expectedText !== undefined ? { expected: truncateText(expectedText, maxChars) } : {}),
      ...(liveText !== undefined ? { live: truncateText(liveText, maxChars) } : {}),
      redacted: false,
    };
  });
}

/**
 * True when the field at `segments` may hold a secret: anything under `data` or `stringData` of a
 * core Secret (`v1` `Secret`), or, when `declared` (the object before secret references were
 * resolved) is given, a field whose declared value holds a reference, or that `declared` lacks while
 * it holds a reference elsewhere.
 */
export function isSecretField(ref: { readonly apiVersion: string; readonly kind: string }, declared: unknown, segments: readonly PathSegment[]): boolean {
  const [first] = segments;
  if (ref.kind === 'Secret' && ref.apiVersion === 'v1' && (first === undefined || (first.kind === 'key' && (first.key === 'data' || first.key === 'stringData')))) return true;
  if (declared === undefined || !holdsReference(declared)) return false;
  const at = valueAt(declared, segments);
  return !at.found || holdsReference(at.value);
}

/** The compact JSON text of a value (`undefined` reads as `null`). */
export function compactJson(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

function holdsReference(node: unknown): boolean {
  if (typeof node === 'string') return node.includes(SECRET_REFERENCE_OPENING);
  if (Array.isArray(node)) return node.some(holdsReference);
  if (isRecord(node)) return Object.values(node).some(holdsReference);
  return false;
}

/** What a drifted path shows instead of a list item's name that holds a secret value. */
export const SECRET_ITEM_NAME = '(secret)';

/**
 * The fields with the names of list items that hold a resolved secret value (the value itself, or one
 * of four or more characters inside it) replaced by {@link SECRET_ITEM_NAME}: a path is reported,
 * logged and shown in messages, and an item named from a secret reference would otherwise carry the
 * secret in its `[name=…]`. Other fields are returned as they are; the order is kept.
 */
export function redactSecretPaths(fields: readonly DriftedField[], secretValues: readonly string[] = []): DriftedField[] {
  const secrets = secretValues.filter((value) => value !== '');
  if (secrets.length === 0) return [...fields];
  const holdsSecret = (name: string) => secrets.some((secret) => name === secret || (secret.length >= 4 && name.includes(secret)));
  return fields.map((field) => {
    if (!field.segments.some((segment) => segment.kind === 'item' && holdsSecret(segment.name))) return field;
    const segments = field.segments.map((segment): PathSegment => (segment.kind === 'item' && holdsSecret(segment.name) ? { kind: 'item', name: SECRET_ITEM_NAME } : segment));
    return { segments, path: formatPath(segments) };
  });
}
