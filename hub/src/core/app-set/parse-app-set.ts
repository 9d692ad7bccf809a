import Ajv, { type ErrorObject } from 'ajv';
import { LineCounter, isMap, isScalar, isSeq, parseAllDocuments, type Document } from 'yaml';
import { childPath, issue, type Issue, type Result } from '../issues';
import type { AppSetDocument, LabelSelector } from './app-set-spec';
import type { RolloutStrategy } from '../rollout/strategy';
import schema from './app-set.schema.json';

/** Caps on the AppSet document itself, checked before anything else is done with it. */
export interface DocumentLimits {
  /** Largest accepted document, in UTF-16 code units. */
  readonly maxDocumentChars: number;
  /** Most YAML alias expansions (guards against "billion laughs"). */
  readonly maxAliasCount: number;
}

export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = { maxDocumentChars: 512 * 1024, maxAliasCount: 100 };

// verbose: errors carry their schema, so that a `oneOf` of alternative fields can name them.
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
const validate = ajv.compile<AppSetDocument>(schema);
const validateStrategy = ajv.getSchema<RolloutStrategy>(`${schema.$id}#/definitions/strategy`)!;
const validateSelector = ajv.getSchema<LabelSelector>(`${schema.$id}#/definitions/labelSelector`)!;

/**
 * Checks a label selector given on its own (a project's cluster selector) against the schema that
 * generators use. Issue paths start at `path`.
 */
export function parseLabelSelector(value: unknown, path: string): Result<LabelSelector> {
  if (validateSelector(value)) return { ok: true, value: value as LabelSelector };
  return { ok: false, issues: schemaIssues(validateSelector.errors ?? []).map((i) => ({ ...i, path: childPath(path, i.path).replace(/\.$/, '') })) };
}

/**
 * Checks a rollout strategy given on its own (a per-rollout override) against the same schema as
 * `spec.strategy`. Issue paths start at `strategy`.
 */
export function parseStrategy(value: unknown): Result<RolloutStrategy> {
  if (validateStrategy(value)) return { ok: true, value: value as RolloutStrategy };
  return { ok: false, issues: schemaIssues(validateStrategy.errors ?? []).map((i) => ({ ...i, path: childPath('strategy', i.path).replace(/\.$/, ''), message: `strategy${i.message.startsWith('The document') ? i.message.slice('The document'.length) : ` ${i.message}`}` })) };
}

/**
 * Parses one AppSet YAML (or JSON) document and checks it against the published JSON Schema.
 * Returns every problem found as an issue with a path into the document; never throws.
 */
export function parseAppSet(text: string, limits: DocumentLimits = DEFAULT_DOCUMENT_LIMITS): Result<AppSetDocument> {
  if (text.length > limits.maxDocumentChars) {
    return fail(issue('DOCUMENT_TOO_LARGE', '', `The AppSet document is ${text.length} characters; the limit is ${limits.maxDocumentChars}.`));
  }
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false, lineCounter: lines }) as Document[] | { empty: true };
  if (!Array.isArray(docs) || docs.length === 0) return fail(issue('EMPTY_DOCUMENT', '', 'The document is empty; expected one AppSet.'));
  if (docs.length > 1) return fail({ ...issue('MULTIPLE_DOCUMENTS', '', `Expected one YAML document, found ${docs.length}.`), ...position(lines, docs[1]!.range?.[0] ?? 0) });
  const doc = docs[0]!;
  const syntax = doc.errors.map((e) => {
    const at = position(lines, e.pos[0]);
    const message = e.message.split('\n')[0] ?? e.message;
    return { ...issue('YAML_SYNTAX', '', `${message.replace(/ at line \d+, column \d+:?$/, '')} (line ${at.line}, column ${at.column})`), ...at };
  });
  if (syntax.length > 0) return { ok: false, issues: syntax };
  if (!isMap(doc.contents) && !isSeq(doc.contents)) {
    return fail(issue('NOT_AN_OBJECT', '', 'The document must be a YAML mapping (an AppSet object).'));
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
  } catch (error) {
    return fail(issue('YAML_ALIAS_LIMIT', '', error instanceof Error ? error.message : 'Too many YAML alias expansions.'));
  }
  if (!validate(value)) return { ok: false, issues: schemaIssues(validate.errors ?? [], (segments) => position(lines, offsetOf(doc, segments))) };
  return { ok: true, value };
}

/** 1-based line and column of a character offset of the document. */
function position(lines: LineCounter, offset: number): { line: number; column: number } {
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

/**
 * Where the node at `segments` starts in the text: the deepest node on that path that exists (a
 * missing field points at its parent mapping, an unknown field at its key).
 */
function offsetOf(doc: Document, segments: readonly (string | number)[]): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const segment of segments) {
    // A field is located at its key (the line that names it), an item at its start.
    let at: unknown;
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      at = pair?.key;
      next = pair?.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      at = next = node.items[segment];
    }
    const start = rangeStart(at);
    if (start === undefined) break;
    offset = start;
    node = next;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: unknown } | null | undefined)?.range;
  return Array.isArray(range) && typeof range[0] === 'number' ? range[0] : undefined;
}

function fail(one: Issue): Result<never> {
  return { ok: false, issues: [one] };
}

/** Where in the document a path of segments is (line and column), when the caller knows the text. */
type Locate = (segments: readonly (string | number)[]) => { line: number; column: number };

/**
 * Turns ajv errors into issues with dotted paths, most specific first, without duplicates. Messages
 * say what is expected: the value of a `const`, the values of an `enum`.
 */
function schemaIssues(errors: readonly ErrorObject[], locate?: Locate): Issue[] {
  const seen = new Set<string>();
  const out: Issue[] = [];
  const choices = alternativeFields(errors);
  for (const error of errors) {
    // A branch of a `oneOf` of alternative fields: the `oneOf` error itself says it all.
    if ([...choices.keys()].some((at) => error.instancePath === at.instancePath && error.schemaPath.startsWith(`${at.schemaPath}/`))) continue;
    // An `if`/`then` rule: the `then` error names the field and says what is wrong.
    if (error.keyword === 'if') continue;
    const segments = pointerToSegments(error.instancePath);
    let path = segmentsToPath(segments);
    const subject = path === '' ? 'The document' : path;
    let message = `${subject} ${error.message ?? 'is invalid'}`;
    if (error.keyword === 'additionalProperties') {
      const extra = String((error.params as { additionalProperty: string }).additionalProperty);
      segments.push(extra);
      path = childPath(path, extra);
      message = `${path} is not a known field`;
    } else if (error.keyword === 'required') {
      const missing = String((error.params as { missingProperty: string }).missingProperty);
      path = childPath(path, missing);
      message = `${path} is required`;
    } else if (error.keyword === 'enum') {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map(quote).join(', ');
      message = `${subject} must be one of: ${allowed}`;
    } else if (error.keyword === 'const') {
      message = `${subject} must be ${quote((error.params as { allowedValue: unknown }).allowedValue)}`;
    } else if (error.keyword === 'oneOf') {
      const fields = [...choices.entries()].find(([at]) => at.instancePath === error.instancePath && at.schemaPath === error.schemaPath)?.[1];
      if (fields !== undefined) message = `${subject} must have exactly one of: ${fields.join(', ')}`;
    } else if (error.schemaPath.endsWith('/then/properties/values/minItems')) {
      message = `${path} needs at least one value with operator In or NotIn (Kubernetes and Argo CD refuse an empty list)`;
    } else if (error.schemaPath.endsWith('/then/properties/values/maxItems')) {
      message = `${subject} must be empty with operator Exists or DoesNotExist`;
    }
    const key = `${path}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...issue('SCHEMA', path, message), ...locate?.(segments) });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path) || a.message.localeCompare(b.message));
}

/**
 * The `oneOf` errors whose branches each require one field (a generator's kind, a template's source):
 * their location, and those fields in schema order.
 */
function alternativeFields(errors: readonly ErrorObject[]): Map<{ instancePath: string; schemaPath: string }, string[]> {
  const out = new Map<{ instancePath: string; schemaPath: string }, string[]>();
  for (const error of errors) {
    if (error.keyword !== 'oneOf' || !Array.isArray(error.schema)) continue;
    const fields = (error.schema as { required?: unknown }[]).map((branch) => (Array.isArray(branch.required) && branch.required.length === 1 ? String(branch.required[0]) : undefined));
    if (fields.every((field): field is string => field !== undefined)) out.set({ instancePath: error.instancePath, schemaPath: error.schemaPath }, fields);
  }
  return out;
}

/** A value as the user would write it: strings in double quotes, the rest as JSON. */
function quote(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function pointerToSegments(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((key) => (/^\d+$/.test(key) ? Number(key) : key));
}

function segmentsToPath(segments: readonly (string | number)[]): string {
  return segments.reduce<string>((path, key) => childPath(path, key), '');
}
