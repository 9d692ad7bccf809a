/**
 * A label selector typed as kubectl's `-l` takes it, turned into the hub's selector object
 * ({ matchLabels, matchExpressions }, the form AppSets and projects use):
 *
 *   region=eu            matchLabels (also `region==eu`)
 *   env!=prod            NotIn [prod]: clusters without `env` match too
 *   tier in (web,api)    In
 *   tier notin (batch)   NotIn
 *   gpu                  Exists
 *   !gpu                 DoesNotExist
 *
 * Requirements are separated by commas (outside parentheses) and all must hold.
 */

export interface SelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: string[];
}

export interface Selector {
  readonly matchLabels?: Record<string, string>;
  readonly matchExpressions?: SelectorRequirement[];
}

export type ParsedSelector = { readonly ok: true; readonly selector: Selector | null } | { readonly ok: false; readonly message: string };

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Parses selector text; blank text is no selector (null). Never throws: a mistake comes back as a message. */
export function parseSelector(text: string): ParsedSelector {
  const parts = splitTopLevel(text.trim());
  if (parts === null) return { ok: false, message: 'A parenthesis is not closed.' };
  if (parts.length === 0) return { ok: true, selector: null };
  const matchLabels: Record<string, string> = {};
  const matchExpressions: SelectorRequirement[] = [];
  for (const part of parts) {
    const parsed = parseRequirement(part);
    if (typeof parsed === 'string') return { ok: false, message: parsed };
    if ('equals' in parsed) matchLabels[parsed.key] = parsed.equals;
    else matchExpressions.push(parsed);
  }
  return {
    ok: true,
    selector: {
      ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
      ...(matchExpressions.length > 0 ? { matchExpressions } : {}),
    },
  };
}

function parseRequirement(part: string): SelectorRequirement | { key: string; equals: string } | string {
  if (part === '') return 'An empty requirement: remove the extra comma.';
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
  if (set) {
    const values = set[3]!.split(',').map((v) => v.trim());
    if (values.some((v) => v === '' || !VALUE.test(v))) return `"${part}": list label values inside the parentheses, separated by commas.`;
    return checkKey(set[1]!) ?? { key: set[1]!, operator: set[2] === 'in' ? 'In' : 'NotIn', values };
  }
  const compare = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
  if (compare) {
    const [, key, operator, value] = compare;
    if (!VALUE.test(value!)) return `"${value}" is not a label value.`;
    return checkKey(key!) ?? (operator === '!=' ? { key: key!, operator: 'NotIn', values: [value!] } : { key: key!, equals: value! });
  }
  if (part.startsWith('!')) {
    const key = part.slice(1).trim();
    return checkKey(key) ?? { key, operator: 'DoesNotExist' };
  }
  return checkKey(part) ?? { key: part, operator: 'Exists' };
}

function checkKey(key: string): string | undefined {
  return KEY.test(key) ? undefined : `"${key}" is not a label key; write key=value, key!=value, key in (a,b), key notin (a,b), key or !key.`;
}

/** Splits at commas outside parentheses; null when parentheses do not balance. */
function splitTopLevel(text: string): string[] | null {
  if (text === '') return [];
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) return null;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (depth !== 0) return null;
  parts.push(current.trim());
  return parts;
}
