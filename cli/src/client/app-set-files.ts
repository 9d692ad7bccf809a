import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { splitYamlDocuments, type PositionedIssue, type YamlDocument } from '../core/yaml-documents.js';
import { CliError } from '../errors.js';

/** The YAML documents of the files `-f` names (a folder: its *.yaml and *.yml files, sorted), and their syntax errors. */
export function readAppSetFiles(paths: readonly string[]): { files: { file: string; documents: YamlDocument[] }[]; issues: PositionedIssue[] } {
  if (paths.length === 0) throw new CliError('name the AppSet documents with -f FILE or -f DIR');
  const files: { file: string; documents: YamlDocument[] }[] = [];
  const issues: PositionedIssue[] = [];
  for (const path of paths) {
    for (const file of expand(path)) {
      const text = read(file);
      const split = splitYamlDocuments(file, text);
      issues.push(...split.issues);
      files.push({ file, documents: split.documents });
    }
  }
  return { files, issues };
}

function expand(path: string): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new CliError(`${path}: no such file or folder`);
  }
  if (!stat.isDirectory()) return [path];
  const files = readdirSync(path)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(path, name));
  if (files.length === 0) throw new CliError(`${path}: no .yaml or .yml files in this folder`);
  return files;
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`${file}: ${(error as NodeJS.ErrnoException).code === 'EISDIR' ? 'is a folder' : (error as Error).message}`);
  }
}
