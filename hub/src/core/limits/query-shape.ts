import { Kind, type DocumentNode, type SelectionSetNode } from 'graphql';

/** The shape of a parsed document that its limits look at. */
export interface QueryShape {
  /**
   * Fields on the longest path of any operation, fragments expanded (`{ a { b } }` is 2), not counting
   * what lies below `__schema` and `__type` (measured in `introspection`); Infinity for a fragment cycle.
   */
  readonly depth: number;
  /** Aliased fields in the document, each fragment counted once per definition. */
  readonly aliases: number;
  /** The introspection part of the document: `__schema` and `__type` selections. */
  readonly introspection: {
    /** Fields on the longest path starting at `__schema` or `__type` (the field itself counts); 0 without one. */
    readonly depth: number;
    /** Most list fields of the introspection types (`types`, `fields`, `args`...) nested on one path. */
    readonly lists: number;
  };
}

/** Whether a selection is on the API's own types or on the introspection types (`__Schema`, `__Type`...). */
type Context = 'api' | 'introspection';

/** The fields that open the introspection part of a query (valid on the query root only). */
const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);
/** The list fields of the introspection types: their nesting is what sizes an introspection answer. */
const INTROSPECTION_LISTS = new Set(['types', 'fields', 'args', 'inputFields', 'interfaces', 'possibleTypes', 'enumValues', 'directives']);

/** How much a field adds to a path, given the context it is selected in. */
type Weight = (field: string, context: Context) => number;

const API_LEVELS: Weight = (_field, context) => (context === 'api' ? 1 : 0);
const INTROSPECTION_LEVELS: Weight = (field, context) => (context === 'introspection' || INTROSPECTION_ROOTS.has(field) ? 1 : 0);
const INTROSPECTION_LIST_LEVELS: Weight = (field, context) => (context === 'introspection' && INTROSPECTION_LISTS.has(field) ? 1 : 0);

/** What one selection set contains, before its fragment spreads are expanded. */
interface LocalShape {
  /** The heaviest path inside this selection set alone. */
  readonly depth: number;
  /** Each fragment spread, with the weight of the path above it. */
  readonly spreads: readonly { readonly name: string; readonly above: number }[];
}

/**
 * Measures the depth and alias count of `document` without recursion (the document may be hostile):
 * selection sets are walked with an explicit stack, and fragment depths are resolved by an iterative
 * depth-first search with memoisation, so a chain of thousands of fragments costs linear time and no
 * stack. A cyclic spread (invalid GraphQL, reported by validation) makes the depth Infinity.
 *
 * The introspection part (below `__schema` or `__type`) is measured apart: its depth and how many of
 * its lists nest, so that a hub that allows introspection can bound it by what makes an introspection
 * answer large (nested lists) rather than by the API's depth limit, which the standard introspection
 * query (its `ofType` chain) exceeds.
 */
export function measureQueryShape(document: DocumentNode): QueryShape {
  const counted = { aliases: 0 };
  const depth = weightedDepth(document, API_LEVELS, counted);
  return {
    depth,
    aliases: counted.aliases,
    introspection: { depth: weightedDepth(document, INTROSPECTION_LEVELS), lists: weightedDepth(document, INTROSPECTION_LIST_LEVELS) },
  };
}

/** The heaviest path of any operation under `weight`, fragments expanded; counts aliases into `counted` when given. */
function weightedDepth(document: DocumentNode, weight: Weight, counted?: { aliases: number }): number {
  const local = (selectionSet: SelectionSetNode, context: Context): LocalShape => {
    let depth = 0;
    const spreads: { name: string; above: number }[] = [];
    const pending: { set: SelectionSetNode; above: number; context: Context }[] = [{ set: selectionSet, above: 0, context }];
    while (pending.length > 0) {
      const { set, above, context: here } = pending.pop()!;
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD) {
          if (selection.alias && counted) counted.aliases += 1;
          const name = selection.name.value;
          const level = above + weight(name, here);
          depth = Math.max(depth, level);
          const below: Context = here === 'api' && INTROSPECTION_ROOTS.has(name) ? 'introspection' : here;
          if (selection.selectionSet) pending.push({ set: selection.selectionSet, above: level, context: below });
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          pending.push({ set: selection.selectionSet, above, context: here });
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
    // A fragment on an introspection type (`__Type`) can only be spread inside the introspection part.
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, local(definition.selectionSet, definition.typeCondition.name.value.startsWith('__') ? 'introspection' : 'api'));
    else if (definition.kind === Kind.OPERATION_DEFINITION) operations.push(local(definition.selectionSet, 'api'));
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
  return depth;
}
