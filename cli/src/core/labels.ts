/** One change of `cluster labels NAME key=value key-`: set a label, or remove it. */
export type LabelEdit = { kind: 'set'; key: string; value: string } | { kind: 'remove'; key: string };

// Kubernetes label keys: an optional DNS prefix and a name of at most 63 characters.
const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * Parses `key=value` (set) and `key-` (remove) arguments, as `kubectl label` takes them. Throws an
 * Error naming the argument for anything else, or for a key or value that is not a valid label.
 */
export function parseLabelEdits(args: readonly string[]): LabelEdit[] {
  return args.map((arg) => {
    if (arg.endsWith('-') && !arg.includes('=')) {
      const key = arg.slice(0, -1);
      if (!KEY.test(key)) throw new Error(`"${arg}": "${key}" is not a label key`);
      return { kind: 'remove', key };
    }
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new Error(`"${arg}": expected key=value to set a label or key- to remove one`);
    const key = arg.slice(0, eq);
    const value = arg.slice(eq + 1);
    if (!KEY.test(key)) throw new Error(`"${arg}": "${key}" is not a label key`);
    if (!VALUE.test(value)) throw new Error(`"${arg}": "${value}" is not a label value (at most 63 letters, digits, "-", "_", "." starting and ending alphanumeric)`);
    return { kind: 'set', key, value };
  });
}

/** Applies edits in order to a copy of `labels`; the input is not changed. */
export function applyLabelEdits(labels: Readonly<Record<string, unknown>>, edits: readonly LabelEdit[]): Record<string, string> {
  const next: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) next[key] = String(value);
  for (const edit of edits) {
    if (edit.kind === 'set') next[edit.key] = edit.value;
    else delete next[edit.key];
  }
  return next;
}

/** Parses `key=value` pairs (for --label and --value) into an object; throws on a pair without `=`. */
export function parsePairs(pairs: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--${what} "${pair}": expected key=value`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
