import { Liquid, type FS, type Template } from 'liquidjs';
import { childPath, issue, type Issue } from '../issues';

/** Caps on template work. */
export interface RenderLimits {
  /** Longest template string (one leaf), in characters. */
  readonly maxTemplateChars: number;
  /** Longest render of one leaf, in milliseconds. */
  readonly maxRenderMs: number;
  /** Most memory LiquidJS may allocate for one render (its own accounting, in string length units). */
  readonly maxRenderMemory: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = { maxTemplateChars: 64 * 1024, maxRenderMs: 100, maxRenderMemory: 1_000_000 };

/** Templates may not read files: include, render and layout all fail through this. */
const NO_FILES: FS = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async (file) => Promise.reject(new Error(`templates cannot read files (${file})`)),
  readFileSync: (file) => {
    throw new Error(`templates cannot read files (${file})`);
  },
  resolve: (_dir, file) => file,
  contains: async () => false,
  containsSync: () => false,
};

const OUTPUT_ONLY = /^\{\{-?\s*([^{}]+?)\s*-?\}\}$/;

/**
 * Renders the one template language of Flotilla (LiquidJS: no code execution, strict variables and
 * filters, no file access, bounded parse and render work) on the **string leaves** of a parsed tree.
 * Keys, structure and non-string values are never templated, so a parameter value cannot inject
 * YAML keys, anchors or documents. A leaf that is exactly one `{{ expression }}` whose value is a number
 * or boolean keeps that type (so `replicas: "{{ replicas }}"` yields a number when the parameter is one).
 *
 * Parsed templates are cached per instance: make one renderer per expansion.
 */
export class TemplateRenderer {
  private readonly liquid: Liquid;
  private readonly parsed = new Map<string, Template[] | Error>();

  constructor(private readonly limits: RenderLimits = DEFAULT_RENDER_LIMITS) {
    this.liquid = new Liquid({
      strictVariables: true,
      strictFilters: true,
      ownPropertyOnly: true,
      fs: NO_FILES,
      root: [],
      partials: [],
      layouts: [],
      relativeReference: false,
      parseLimit: limits.maxTemplateChars,
      renderLimit: limits.maxRenderMs,
      memoryLimit: limits.maxRenderMemory,
      outputEscape: refuseStructures,
    });
  }

  /** Renders every string leaf of `value`; returns a new tree and the issues found (paths from `path`). */
  renderTree(value: unknown, params: Readonly<Record<string, unknown>>, path: string): { value: unknown; issues: Issue[] } {
    const issues: Issue[] = [];
    const out = this.walk(value, params, path, issues);
    return { value: out, issues };
  }

  private walk(value: unknown, params: Readonly<Record<string, unknown>>, path: string, issues: Issue[]): unknown {
    if (typeof value === 'string') return this.renderLeaf(value, params, path, issues);
    if (Array.isArray(value)) return value.map((item, i) => this.walk(item, params, childPath(path, i), issues));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(value)) out[key] = this.walk(child, params, childPath(path, key), issues);
      return out;
    }
    return value;
  }

  private renderLeaf(text: string, params: Readonly<Record<string, unknown>>, path: string, issues: Issue[]): unknown {
    if (!text.includes('{{') && !text.includes('{%')) return text;
    if (text.length > this.limits.maxTemplateChars) {
      issues.push(issue('TEMPLATE_TOO_LARGE', path, `The template is ${text.length} characters; the limit is ${this.limits.maxTemplateChars}.`));
      return text;
    }
    try {
      const single = OUTPUT_ONLY.exec(text);
      if (single && !single[1]!.includes('|')) {
        const raw: unknown = this.liquid.evalValueSync(single[1]!, params);
        if (typeof raw === 'number' || typeof raw === 'boolean') return raw;
      }
      const templates = this.parse(text);
      return this.liquid.renderSync(templates, params) as string;
    } catch (error) {
      const message = describe(error);
      issues.push(issue(errorCode(message), path, message));
      return text;
    }
  }

  private parse(text: string): Template[] {
    let cached = this.parsed.get(text);
    if (cached === undefined) {
      try {
        cached = this.liquid.parse(text);
      } catch (error) {
        cached = error instanceof Error ? error : new Error(String(error));
      }
      this.parsed.set(text, cached);
    }
    if (cached instanceof Error) throw cached;
    return cached;
  }
}

/**
 * Output filter of every `{{ }}`: an object or a list would print as `[object Object]` or its items run
 * together, silently. Refusing it points the author at a field (`path.path`) or at the `json` filter.
 */
function refuseStructures(value: unknown): string {
  if (value !== null && typeof value === 'object') {
    const what = Array.isArray(value) ? 'a list' : 'an object';
    throw new Error(`the expression is ${what}: output one of its fields, or use | json or | join`);
  }
  return value === undefined || value === null ? '' : String(value);
}

/** The issue code for a LiquidJS error: its own limits get codes of their own. */
function errorCode(message: string): string {
  if (message.startsWith('template render limit exceeded')) return 'RENDER_TIME_LIMIT';
  if (message.startsWith('memory alloc limit exceeded')) return 'RENDER_MEMORY_LIMIT';
  if (message.startsWith('parse length limit exceeded')) return 'TEMPLATE_TOO_LARGE';
  return 'TEMPLATE_ERROR';
}

/** First line of a template error, without the echoed source (which may hold parameter values). */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? message).slice(0, 300);
}
