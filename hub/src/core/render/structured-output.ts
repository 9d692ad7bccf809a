import { isMap, parseAllDocuments, type Document } from 'yaml';
import { issue, type Issue } from '../issues';

/** Most YAML alias expansions in a rendered document. */
const MAX_ALIAS_COUNT = 100;
/** How many placeholder prefixes to try before giving up (each try is one substring search). */
const MAX_NONCE_TRIES = 64;

/**
 * The outputs of one render of a YAML document template (see `TemplateRenderer.renderYaml`): each
 * `{{ }}` output is recorded and replaced in the text by a placeholder `__flotilla_<nonce>_<n>__`. The
 * nonce is chosen so that no placeholder can occur in the template or in the parameters, so a value
 * can neither forge a placeholder nor reach the YAML parser.
 */
export class StructuredCapture {
  private readonly values: unknown[] = [];
  private readonly pattern: RegExp;

  private constructor(private readonly prefix: string | undefined) {
    this.pattern = new RegExp(`${prefix ?? '\u0000never\u0000'}(\\d+)__`, 'g');
  }

  /** A capture for rendering `text` over `params`, or an issue (without path) when no nonce is free. */
  static for(text: string, params: Readonly<Record<string, unknown>>): StructuredCapture | Issue {
    const haystack = `${text}\u0000${JSON.stringify(params)}`;
    for (let nonce = 0; nonce < MAX_NONCE_TRIES; nonce++) {
      const prefix = `__flotilla_${nonce}_`;
      if (!haystack.includes(prefix)) return new StructuredCapture(prefix);
    }
    return issue('TEMPLATE_ERROR', '', 'The template or its parameters spell too many placeholder names (__flotilla_<n>_...).');
  }

  /** A capture that records nothing: outputs outside `renderYaml` never reach it. */
  static none(): StructuredCapture {
    return new StructuredCapture(undefined);
  }

  /** Records one output and returns its placeholder. Text holding earlier placeholders (a `capture`) is resolved first. */
  record(value: unknown): string {
    if (this.prefix === undefined) throw new Error('internal: an output was captured outside renderYaml');
    const stored = typeof value === 'string' ? this.spliceText(value).text : value;
    this.values.push(stored);
    return `${this.prefix}${this.values.length - 1}__`;
  }

  /** Parses the rendered text as one YAML document and puts the recorded values in place of their placeholders. */
  resolve(rendered: string, path: string): { value: unknown; issues: Issue[] } {
    const docs = parseAllDocuments(rendered, { uniqueKeys: true, prettyErrors: false }) as Document[] | { empty: true };
    if (!Array.isArray(docs) || docs.length === 0) return { value: undefined, issues: [] };
    if (docs.length > 1) return fail(path, `the rendered patch holds ${docs.length} YAML documents; expected one mapping`);
    const doc = docs[0]!;
    const error = doc.errors[0];
    if (error) {
      const at = error.linePos?.[0];
      return fail(path, `the rendered patch is not valid YAML${at ? ` (line ${at.line}, column ${at.col})` : ''}: ${this.mask(error.message.split('\n')[0] ?? '')}`);
    }
    if (doc.contents === null) return { value: undefined, issues: [] };
    if (!isMap(doc.contents)) return fail(path, 'the rendered patch must be a YAML mapping');
    let raw: unknown;
    try {
      raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch {
      return fail(path, 'the rendered patch expands too many YAML aliases');
    }
    const problems: string[] = [];
    const value = this.substitute(raw, problems);
    return problems.length > 0 ? fail(path, problems[0]!) : { value, issues: [] };
  }

  private substitute(value: unknown, problems: string[]): unknown {
    if (typeof value === 'string') {
      const whole = this.wholeIndex(value);
      if (whole !== undefined) return structuredClone(this.values[whole]);
      const spliced = this.spliceText(value);
      if (spliced.problem) problems.push(spliced.problem);
      return spliced.text;
    }
    if (Array.isArray(value)) return value.map((item) => this.substitute(item, problems));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(value)) {
        const spliced = this.spliceText(key);
        if (spliced.problem) problems.push(spliced.problem);
        out[spliced.text] = this.substitute(child, problems);
      }
      return out;
    }
    return value;
  }

  /** The index of the value when `text` is exactly one placeholder. */
  private wholeIndex(text: string): number | undefined {
    if (this.prefix === undefined || !text.startsWith(this.prefix) || !text.endsWith('__')) return undefined;
    const digits = text.slice(this.prefix.length, -2);
    return /^\d+$/.test(digits) && Number(digits) < this.values.length ? Number(digits) : undefined;
  }

  /** `text` with every placeholder replaced by its value as text; a list or an object cannot be spliced into text. */
  private spliceText(text: string): { text: string; problem?: string } {
    let problem: string | undefined;
    const out = text.replace(this.pattern, (_match, digits: string) => {
      const value = this.values[Number(digits)];
      if (value === undefined || value === null) return '';
      if (typeof value === 'object') {
        problem ??= `an output inside longer text is ${Array.isArray(value) ? 'a list' : 'an object'}: output it alone as the whole value, or use | toJson`;
        return '';
      }
      return String(value);
    });
    return problem ? { text: out, problem } : { text: out };
  }

  /** A parser message may quote the rendered text: show placeholders, never the values behind them. */
  private mask(message: string): string {
    return message.replace(this.pattern, '{{…}}');
  }
}

function fail(path: string, message: string): { value: undefined; issues: Issue[] } {
  return { value: undefined, issues: [issue('TEMPLATE_PATCH_INVALID', path, `${message.charAt(0).toUpperCase()}${message.slice(1)}.`)] };
}
