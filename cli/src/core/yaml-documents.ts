import { LineCounter, parseAllDocuments } from 'yaml';

/** One YAML document of a file, as sent to the hub, and where it starts in the file. */
export interface YamlDocument {
  /** The document's text; line 1 of it is line `lineOffset + 1` of the file, columns unchanged. */
  readonly text: string;
  readonly lineOffset: number;
  /** `metadata.name` and `metadata.project` when the document has them (for messages and lookups). */
  readonly name: string | undefined;
  readonly project: string | undefined;
}

/** A problem with a position in a file: printed as `file:line:column: code message`. */
export interface PositionedIssue {
  readonly file: string;
  readonly line: number | null;
  readonly column: number | null;
  readonly code: string;
  readonly message: string;
}

/**
 * Splits the text of a file into its YAML documents (`---`), dropping empty ones. Syntax errors come
 * back as YAML_SYNTAX issues with their line and column in the file, and then no document is returned
 * (nothing of a file with a syntax error is sent). Each document's text starts at the beginning of its
 * first line, its `---` blanked out, so that lines and columns the hub reports map back to the file by
 * adding `lineOffset` to the line.
 */
export function splitYamlDocuments(file: string, text: string): { documents: YamlDocument[]; issues: PositionedIssue[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const all = Array.isArray(parsed) ? parsed : [];
  const issues: PositionedIssue[] = [];
  for (const doc of all) {
    for (const error of doc.errors) {
      const pos = lineCounter.linePos(error.pos[0]);
      issues.push({ file, line: pos.line, column: pos.col, code: 'YAML_SYNTAX', message: firstLine(error.message) });
    }
  }
  if (issues.length > 0) return { documents: [], issues };
  const documents: YamlDocument[] = [];
  for (const doc of all) {
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    const [start, , end] = doc.range;
    const lineStart = text.lastIndexOf('\n', start - 1) + 1;
    let body = text.slice(lineStart, end);
    if (body.startsWith('---')) body = `   ${body.slice(3)}`;
    const metadata = isRecord(value) && isRecord(value['metadata']) ? value['metadata'] : {};
    documents.push({
      text: body,
      lineOffset: lineCounter.linePos(lineStart).line - 1,
      name: typeof metadata['name'] === 'string' ? metadata['name'] : undefined,
      project: typeof metadata['project'] === 'string' ? metadata['project'] : undefined,
    });
  }
  return { documents, issues };
}

/** `file:line:col: code message` (`file: code message` without a position). */
export function formatPositionedIssue(issue: PositionedIssue): string {
  const where = issue.line === null ? issue.file : issue.column === null ? `${issue.file}:${issue.line}` : `${issue.file}:${issue.line}:${issue.column}`;
  return `${where}: ${issue.code} ${issue.message}`;
}

/**
 * Places an issue the hub reported for one document in the file: its line moves by the document's
 * offset; an issue without a line names its path (unless its message does already) so it can still
 * be found. A grouped issue's message says how often it occurred.
 */
export function placeHubIssue(
  file: string,
  document: Pick<YamlDocument, 'lineOffset'>,
  issue: { code: string; message: string; path: string; line: number | null; column: number | null },
): PositionedIssue {
  const path = issue.line === null && issue.path && !issue.message.includes(issue.path) ? ` (at ${issue.path})` : '';
  return {
    file,
    line: issue.line === null ? null : issue.line + document.lineOffset,
    column: issue.line === null ? null : issue.column,
    code: issue.code,
    message: `${issue.message}${path}`,
  };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').trim();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
