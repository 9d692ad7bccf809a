import { isMap, parseAllDocuments, type Document } from 'yaml';
import type { KustomizeOutput } from './kustomize-render';

const MAX_ALIAS_COUNT = 100;

/**
 * The objects of kustomize's output (a multi-document YAML stream), in its order; empty documents are
 * skipped. Output that is not a stream of mappings fails as `KUSTOMIZE_OUTPUT_INVALID`, and output
 * with no object as `KUSTOMIZE_OUTPUT_EMPTY`. String values are kept byte for byte (no template
 * language ever runs over them).
 */
export function parseKustomizeOutput(text: string): KustomizeOutput {
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false }) as Document[] | { empty: true };
  if (!Array.isArray(docs)) return { code: 'KUSTOMIZE_OUTPUT_EMPTY', message: 'kustomize rendered no object.' };
  const manifests: Record<string, unknown>[] = [];
  for (const [index, doc] of docs.entries()) {
    const error = doc.errors[0];
    if (error) return { code: 'KUSTOMIZE_OUTPUT_INVALID', message: `kustomize output document ${index} is not valid YAML: ${error.message.split('\n')[0]}` };
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch {
      return { code: 'KUSTOMIZE_OUTPUT_INVALID', message: `kustomize output document ${index} expands too many YAML aliases.` };
    }
    if (value === null || value === undefined) continue;
    if (!isMap(doc.contents)) return { code: 'KUSTOMIZE_OUTPUT_INVALID', message: `kustomize output document ${index} is not a Kubernetes object (a mapping).` };
    manifests.push(value as Record<string, unknown>);
  }
  if (manifests.length === 0) return { code: 'KUSTOMIZE_OUTPUT_EMPTY', message: 'kustomize rendered no object.' };
  return { manifests };
}
