/** What the cost of one field depends on. */
export interface FieldCostInput {
  /** The field returns a scalar or an enum (possibly a list of them). */
  readonly isLeaf: boolean;
  /** The field returns a list. */
  readonly isList: boolean;
  /** The value of the field's `first` argument (defaults applied), when it has one. */
  readonly first: number | undefined;
  /** The list's length is set by an argument of the field above (e.g. a connection's `nodes`). */
  readonly sizedByParent: boolean;
  /** The summed cost of the field's selection. */
  readonly childCost: number;
}

/**
 * The estimated cost of one field: leaves (scalars, enums, and lists of them) cost nothing, since
 * they come with the row that holds them; an object costs 1 plus its selection; a list costs its
 * estimated length times that, the length being `first` when the field takes it, else
 * `defaultListSize` (a documented estimate for unpaginated lists), else 1 for a list sized by its
 * parent. A negative or non-finite `first` counts as 0 or as itself: the resolver refuses it anyway,
 * and a huge one makes the query too complex, which is right.
 */
export function fieldCost(field: FieldCostInput, defaultListSize: number): number {
  if (field.isLeaf) return 0;
  const items = field.first !== undefined ? Math.max(0, field.first) : field.isList && !field.sizedByParent ? defaultListSize : 1;
  return items * (1 + field.childCost);
}
