import Ajv, { type ErrorObject } from 'ajv';
import { isMap, isSeq, parseAllDocuments, type Document } from 'yaml';
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

const ajv = new Ajv({ allErrors: true, strict: true });
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
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false }) as Document[] | { empty: true };
  if (!Array.isArray(docs) || docs.length === 0) return fail(issue('EMPTY_DOCUMENT', '', 'The document is empty; expected one AppSet.'));
  if (docs.length > 1) return fail(issue('MULTIPLE_DOCUMENTS', '', `Expected one YAML document, found ${docs.length}.`));
  const doc = docs[0]!;
  const syntax = doc.errors.map((e) => issue('YAML_SYNTAX', '', e.message.split('\n')[0] ?? e.message));
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
  if (!validate(value)) return { ok: false, issues: schemaIssues(validate.errors ?? []) };
  return { ok: true, value };
}

function fail(one: Issue): Result<never> {
  return { ok: false, issues: [one] };
}

/** Turns ajv errors into issues with dotted paths, most specific first, without duplicates. */
function schemaIssues(errors: readonly ErrorObject[]): Issue[] {
  const seen = new Set<string>();
  const out: Issue[] = [];
  for (const error of errors) {
    let path = pointerToPath(error.instancePath);
    let message = `${path === '' ? 'The document' : path} ${error.message ?? 'is invalid'}`;
    if (error.keyword === 'additionalProperties') {
      const extra = String((error.params as { additionalProperty: string }).additionalProperty);
      path = childPath(path, extra);
      message = `${path} is not a known field`;
    } else if (error.keyword === 'required') {
      const missing = String((error.params as { missingProperty: string }).missingProperty);
      path = childPath(path, missing);
      message = `${path} is required`;
    } else if (error.keyword === 'enum') {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map(String).join(', ');
      message = `${path} must be one of: ${allowed}`;
    }
    const key = `${path}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue('SCHEMA', path, message));
  }
  return out.sort((a, b) => a.path.localeCompare(b.path) || a.message.localeCompare(b.message));
}

function pointerToPath(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .split('/')
    .slice(1)
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<string>((path, key) => childPath(path, /^\d+$/.test(key) ? Number(key) : key), '');
}
