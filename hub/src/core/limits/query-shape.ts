import { Kind, type DocumentNode, type SelectionSetNode } from 'graphql';

/** The shape of a parsed document that its limits look at. */
export interface QueryShape {
  /** Fields on the longest path of any operation, fragments expanded (`{ a { b } }` is 2); Infinity for a fragment cycle. */
  readonly depth: number;
  /** Aliased fields in the document, each fragment counted once per definition. */
  readonly aliases: number;
}

/** What one selection set contains, before its fragment spreads are expanded. */
interface LocalShape {
  /** Fields on the longest path inside this selection set alone. */
  readonly depth: number;
  /** Each fragment spread, with the number of fields above it. */
  readonly spreads: readonly { readonly name: string; readonly above: number }[];
}

/**
 * Measures the depth and alias count of `document` without recursion (the document may be hostile):
 * selection sets are walked with an explicit stack, and fragment depths are resolved by an iterative
 * depth-first search with memoisation, so a chain of thousands of fragments costs linear time and no
 * stack. A cyclic spread (invalid GraphQL, reported by validation) makes the depth Infinity.
 */
export function measureQueryShape(document: DocumentNode): QueryShape {
  let aliases = 0;
  const local = (selectionSet: SelectionSetNode): LocalShape => {
    let depth = 0;
    const spreads: { name: string; above: number }[] = [];
    const pending: { set: SelectionSetNode; above: number }[] = [{ set: selectionSet, above: 0 }];
    while (pending.length > 0) {
      const { set, above } = pending.pop()!;
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD) {
          if (selection.alias) aliases += 1;
          depth = Math.max(depth, above + 1);
          if (selection.selectionSet) pending.push({ set: selection.selectionSet, above: above + 1 });
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          pending.push({ set: selection.selectionSet, above });
        } else {
          spreads.push({ name: selection.name.value, above });
        }
      }
    }
    return { depth, spreads };
  };
  const fragments = new Map<string, LocalShape>();
  const operations: LocalShape[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, local(definition.selectionSet));
    else if (definition.kind === Kind.OPERATION_DEFINITION) operations.push(local(definition.selectionSet));
  }
  const resolved = new Map<string, number>();
  const fragmentDepth = (root: string): number => {
    // Iterative post-order DFS; 'visiting' marks the current path to detect cycles.
    const visiting = new Set<string>();
    const stack: { name: string; expanded: boolean }[] = [{ name: root, expanded: false }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (resolved.has(top.name)) {
        stack.pop();
        continue;
      }
      const shape = fragments.get(top.name);
      if (!shape) {
        resolved.set(top.name, 0);
        stack.pop();
        continue;
      }
      if (!top.expanded) {
        top.expanded = true;
        visiting.add(top.name);
        for (const spread of shape.spreads) {
          if (visiting.has(spread.name)) resolved.set(top.name, Infinity);
          else if (!resolved.has(spread.name)) stack.push({ name: spread.name, expanded: false });
        }
        continue;
      }
      stack.pop();
      visiting.delete(top.name);
      if (resolved.has(top.name)) continue;
      resolved.set(top.name, Math.max(shape.depth, ...shape.spreads.map((s) => s.above + (resolved.get(s.name) ?? 0))));
    }
    return resolved.get(root) ?? 0;
  };
  let depth = 0;
  for (const operation of operations) {
    depth = Math.max(depth, operation.depth, ...operation.spreads.map((s) => s.above + fragmentDepth(s.name)));
  }
  return { depth, aliases };
}
