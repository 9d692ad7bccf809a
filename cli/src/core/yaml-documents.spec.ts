import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatPositionedIssue, placeHubIssue, splitYamlDocuments } from './yaml-documents.js';

const THREE = `# two AppSets and an empty document
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: web }
---
---
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata:
  name: api
  project: team-a
spec:
  template: {}
`;

describe('splitYamlDocuments', () => {
  it('returns each non-empty document with its name, project and the lines before it in the file (a leading comment is not part of it)', () => {
    const { documents, issues } = splitYamlDocuments('sets.yaml', THREE);
    expect(issues).toEqual([]);
    expect(documents.map((d) => [d.name, d.project, d.lineOffset])).toEqual([
      ['web', undefined, 1],
      ['api', 'team-a', 5],
    ]);
  });

  it('keeps each document parseable on its own, with the same content', () => {
    const { documents } = splitYamlDocuments('sets.yaml', THREE);
    expect(parse(documents[1]!.text)).toEqual({ apiVersion: 'flotilla.dev/v1alpha1', kind: 'AppSet', metadata: { name: 'api', project: 'team-a' }, spec: { template: {} } });
  });

  it('keeps lines where they are, so a line in a document plus its offset is the line in the file', () => {
    const { documents } = splitYamlDocuments('sets.yaml', THREE);
    const api = documents[1]!;
    const lineInDocument = api.text.split('\n').findIndex((l) => l.includes('project: team-a')) + 1;
    const lineInFile = THREE.split('\n').findIndex((l) => l.includes('project: team-a')) + 1;
    expect(lineInDocument + api.lineOffset).toBe(lineInFile);
  });

  it('reports a syntax error at its line and column in the file, and returns no document of that file', () => {
    const text = 'apiVersion: v1\n---\nmetadata:\n  name: [web\nspec: {}\n';
    const { documents, issues } = splitYamlDocuments('bad.yaml', text);
    expect(documents).toEqual([]);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatchObject({ file: 'bad.yaml', code: 'YAML_SYNTAX' });
    expect(issues[0]!.line).toBeGreaterThanOrEqual(4);
    expect(formatPositionedIssue(issues[0]!)).toMatch(/^bad\.yaml:\d+:\d+: YAML_SYNTAX \S/);
  });

  it('returns nothing for a file of comments only', () => {
    expect(splitYamlDocuments('empty.yaml', '# nothing\n---\n')).toEqual({ documents: [], issues: [] });
  });
});

describe('placeHubIssue', () => {
  const issue = { code: 'TEMPLATE_ERROR', message: 'undefined variable: nope', path: 'spec.template.name', line: 3, column: 9 };

  it("moves the hub's line by the document's offset and keeps the column", () => {
    expect(formatPositionedIssue(placeHubIssue('sets.yaml', { lineOffset: 5 }, issue))).toBe('sets.yaml:8:9: TEMPLATE_ERROR undefined variable: nope');
  });

  it('names the path when the hub gave no line', () => {
    const placed = placeHubIssue('sets.yaml', { lineOffset: 5 }, { ...issue, line: null, column: null });
    expect(formatPositionedIssue(placed)).toBe('sets.yaml: TEMPLATE_ERROR undefined variable: nope (at spec.template.name)');
  });

  it('does not repeat a path the message names already', () => {
    const message = 'undefined variable: nope (3 times: at 1 path (spec.template.name))';
    const placed = placeHubIssue('sets.yaml', { lineOffset: 0 }, { ...issue, message, line: null, column: null });
    expect(formatPositionedIssue(placed)).toBe(`sets.yaml: TEMPLATE_ERROR ${message}`);
  });
});
