import { Liquid, type FS, type LiquidOptions, type Template } from 'liquidjs';
import { childPath, issue, type Issue } from '../issues';
import { ARGO_FILTERS } from './filters';
import { StructuredCapture } from './structured-output';

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
 * An undefined variable is an error except where a fallback is written: `{% if x %}`, `{% unless x %}`
 * and `{{ x | default: '' }}` (see `makeLiquid`). Argo CD's Sprig-named filters are available (filters.ts).
 *
 * Parsed templates are cached per instance: make one renderer per expansion.
 */
export class TemplateRenderer {
  private readonly liquid: Liquid;
  private readonly parsed = new Map<string, Template[] | Error>();
  /** A second engine whose outputs become placeholders (see `renderYaml`), with its own parse cache. */
  private readonly structuredLiquid: Liquid;
  private readonly structuredParsed = new Map<string, Template[] | Error>();
  private capture: StructuredCapture = NO_CAPTURE;

  /**
   * `onLeaf`, when given, is called with a template string's path just before it is rendered (only for
   * strings that hold `{{` or `{%`): a watchdog outside can then name what was being rendered when it
   * stopped a render. It must be cheap and must not throw.
   */
  constructor(
    private readonly limits: RenderLimits = DEFAULT_RENDER_LIMITS,
    private readonly onLeaf?: (path: string) => void,
  ) {
    this.liquid = makeLiquid(limits, refuseStructures);
    this.structuredLiquid = makeLiquid(limits, (value) => this.capture.record(value));
  }

  /**
   * Renders a whole YAML document template (`spec.templatePatch`) into a value. Parameters never pass
   * through the YAML parser: every `{{ }}` output becomes a placeholder, the rendered text is parsed,
   * then each placeholder is replaced by its value — a scalar that is exactly one output keeps the
   * value's type (a list, an object, a number, a boolean), an output inside longer text is spliced in as
   * text. So a parameter can never add keys or documents, whatever it holds. Issues are at `path`.
   */
  renderYaml(text: string, params: Readonly<Record<string, unknown>>, path: string): { value: unknown; issues: Issue[] } {
    this.onLeaf?.(path);
    if (text.length > this.limits.maxTemplateChars) {
      return { value: undefined, issues: [issue('TEMPLATE_TOO_LARGE', path, `The template is ${text.length} characters; the limit is ${this.limits.maxTemplateChars}.`)] };
    }
    const capture = StructuredCapture.for(text, params);
    if ('code' in capture) return { value: undefined, issues: [{ ...capture, path }] };
    let rendered: string;
    this.capture = capture;
    try {
      rendered = this.structuredLiquid.renderSync(this.parse(text, this.structuredParsed, this.structuredLiquid), params) as string;
    } catch (error) {
      const message = describe(error);
      return { value: undefined, issues: [issue(errorCode(message), path, message)] };
    } finally {
      this.capture = NO_CAPTURE;
    }
    return capture.resolve(rendered, path);
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
    this.onLeaf?.(path);
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
      const templates = this.parse(text, this.parsed, this.liquid);
      return this.liquid.renderSync(templates, params) as string;
    } catch (error) {
      const message = describe(error);
      issues.push(issue(errorCode(message), path, message));
      return text;
    }
  }

  private parse(text: string, cache: Map<string, Template[] | Error>, liquid: Liquid): Template[] {
    let cached = cache.get(text);
    if (cached === undefined) {
      try {
        cached = liquid.parse(text);
      } catch (error) {
        cached = error instanceof Error ? error : new Error(String(error));
      }
      cache.set(text, cached);
    }
    if (cached instanceof Error) throw cached;
    return cached;
  }
}

/** Outside `renderYaml`, no output is captured: reaching it would be a bug. */
const NO_CAPTURE = StructuredCapture.none();

/**
 * One LiquidJS engine with Flotilla's settings: strict variables and filters, except that `if`,
 * `unless` and a leading `| default` may test an undefined variable (`lenientIf`), so a fallback can be
 * written while a typo still fails; no file access; bounded parse, render time and memory; Argo CD's
 * Sprig-named filters added; `raw` is an ordinary filter, so it cannot skip the output check.
 */
function makeLiquid(limits: RenderLimits, outputEscape: (value: unknown) => string): Liquid {
  const options: LiquidOptions = {
    strictVariables: true,
    strictFilters: true,
    lenientIf: true,
    ownPropertyOnly: true,
    fs: NO_FILES,
    root: [],
    partials: [],
    layouts: [],
    relativeReference: false,
    parseLimit: limits.maxTemplateChars,
    renderLimit: limits.maxRenderMs,
    memoryLimit: limits.maxRenderMemory,
    outputEscape,
  };
  const liquid = new Liquid(options);
  for (const [name, filter] of Object.entries(ARGO_FILTERS)) liquid.registerFilter(name, filter);
  liquid.registerFilter('raw', (value: unknown) => value);
  return liquid;
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
