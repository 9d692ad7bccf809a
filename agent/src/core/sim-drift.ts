import { isAppPattern, matchesAppPattern } from './app-pattern.js';
import { AGENT_ENV } from './agent-env.js';
import { quote, type RaiseIssue, type ReadVariable } from './config-reading.js';
import { formatPath, type PathSegment } from './kube/field-diff.js';
import { parseFieldPath } from './kube/field-values.js';

/**
 * Simulated out-of-band edits (FLOTILLA_SIM_DRIFT): after an App settles, the simulated cluster
 * changes one field of one of its live objects, as `kubectl edit` would, so that drift can be seen
 * end to end without a cluster. The text is a comma-separated list of
 * `<app glob>:<Kind>/<name>:<path>=<value>`, e.g. `web-*:ConfigMap/web:data.color=red`:
 * - `<app glob>`: an App name or `*` glob (as FLOTILLA_SIM_FAIL_APPS);
 * - `<Kind>/<name>`: an object the App declares, in whichever namespace;
 * - `<path>`: a field path in the form drift reports use (`spec.replicas`, `data["app.conf"]`,
 *   `spec.template.spec.containers[name=web].image`);
 * - `<value>`: JSON when it reads as JSON (`5`, `true`, `{"a":1}`), otherwise the text itself. A
 *   value cannot hold a comma (the list separator).
 */

/** One simulated edit. */
export interface SimDriftRule {
  /** App name or `*` glob. */
  readonly app: string;
  readonly kind: string;
  readonly name: string;
  /** The path in display form (as reports carry it). */
  readonly path: string;
  readonly segments: readonly PathSegment[];
  /** The value the edit puts at the path. */
  readonly value: unknown;
}

const KIND_SHAPE = /^[A-Z][A-Za-z0-9]{0,62}$/;
const NAME_SHAPE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * Reads the rules of a FLOTILLA_SIM_DRIFT text, or the problems of its entries (each naming the
 * entry). Empty entries are skipped; the rules keep the order of the text.
 */
export function parseSimDrift(text: string): { readonly ok: true; readonly rules: SimDriftRule[] } | { readonly ok: false; readonly problems: string[] } {
  const rules: SimDriftRule[] = [];
  const problems: string[] = [];
  for (const entry of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const rule = parseEntry(entry);
    if (typeof rule === 'string') problems.push(`${quote(entry)}: ${rule}`);
    else rules.push(rule);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, rules };
}

/** The rules of FLOTILLA_SIM_DRIFT (empty when unset), raising one issue per bad entry. */
export function readSimDrift(read: ReadVariable, issue: RaiseIssue): SimDriftRule[] {
  const parsed = parseSimDrift(read(AGENT_ENV.simDrift) ?? '');
  if (parsed.ok) return parsed.rules;
  for (const problem of parsed.problems) {
    issue('invalid', AGENT_ENV.simDrift, `${AGENT_ENV.simDrift} entries must read <app glob>:<Kind>/<name>:<path>=<value>; ${problem}`);
  }
  return [];
}

/** The rules that edit the object `kind`/`name` of the App `appName`, in the order given. */
export function driftRulesFor(rules: readonly SimDriftRule[], appName: string, kind: string, name: string): SimDriftRule[] {
  return rules.filter((rule) => rule.kind === kind && rule.name === name && matchesAppPattern(appName, rule.app));
}

function parseEntry(entry: string): SimDriftRule | string {
  const firstColon = entry.indexOf(':');
  const secondColon = firstColon < 0 ? -1 : entry.indexOf(':', firstColon + 1);
  if (secondColon < 0) return 'expected <app glob>:<Kind>/<name>:<path>=<value>';
  const app = entry.slice(0, firstColon);
  const object = entry.slice(firstColon + 1, secondColon);
  const assignment = entry.slice(secondColon + 1);
  if (!isAppPattern(app)) return `the App pattern ${quote(app)} must be an App name or '*' glob (lowercase letters, digits, '.', '-', '*')`;
  const slash = object.indexOf('/');
  const kind = slash < 0 ? object : object.slice(0, slash);
  const name = slash < 0 ? '' : object.slice(slash + 1);
  if (!KIND_SHAPE.test(kind)) return `the kind ${quote(kind)} must be a Kubernetes kind such as ConfigMap`;
  if (!NAME_SHAPE.test(name)) return `the object name ${quote(name)} must be a Kubernetes object name`;
  const equals = assignmentAt(assignment);
  if (equals < 0) return 'expected <path>=<value> after the object';
  const path = assignment.slice(0, equals);
  const segments = parseFieldPath(path);
  if (segments === undefined) return `the path ${quote(path)} must read like spec.replicas, data["app.conf"] or spec.template.spec.containers[name=web].image`;
  return { app, kind, name, path: formatPath(segments), segments, value: valueOf(assignment.slice(equals + 1)) };
}

// The `=` that ends the path: the first one outside brackets (`[name=web]` holds one).
function assignmentAt(text: string): number {
  let depth = 0;
  for (let at = 0; at < text.length; at += 1) {
    if (text[at] === '[') depth += 1;
    else if (text[at] === ']') depth = Math.max(0, depth - 1);
    else if (text[at] === '=' && depth === 0) return at;
  }
  return -1;
}

function valueOf(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
