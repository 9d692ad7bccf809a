import { describe, expect, it } from 'vitest';
import { fieldCost, type FieldCostInput } from './query-cost';

const field = (overrides: Partial<FieldCostInput>): FieldCostInput => ({ isLeaf: false, isList: false, first: undefined, sizedByParent: false, childCost: 0, ...overrides });

describe('fieldCost', () => {
  it.each([
    { case: 'a scalar is free', input: field({ isLeaf: true }), cost: 0 },
    { case: 'a list of scalars is free', input: field({ isLeaf: true, isList: true }), cost: 0 },
    { case: 'an object costs 1 plus its selection', input: field({ childCost: 4 }), cost: 5 },
    { case: 'a paginated list costs first times (1 + selection)', input: field({ isList: true, first: 100, childCost: 1 }), cost: 200 },
    { case: 'first: 0 costs nothing', input: field({ isList: true, first: 0, childCost: 9 }), cost: 0 },
    { case: 'a negative first counts as 0', input: field({ isList: true, first: -5, childCost: 9 }), cost: 0 },
    { case: 'an unpaginated list takes the default estimate', input: field({ isList: true, childCost: 1 }), cost: 40 },
    { case: 'a list sized by its parent counts once', input: field({ isList: true, sizedByParent: true, childCost: 1 }), cost: 2 },
    { case: 'a connection object with first multiplies its selection', input: field({ first: 50, childCost: 1 }), cost: 100 },
  ])('$case', ({ input, cost }) => {
    expect(fieldCost(input, 20)).toBe(cost);
  });

  it('makes 10 000 aliases of clusters { name apps { name } } cost ten thousand times one', () => {
    const apps = fieldCost(field({ isList: true, first: 100, childCost: 0 }), 20);
    const clusters = fieldCost(field({ isList: true, first: 100, childCost: apps }), 20);
    expect(clusters).toBe(10_100);
    expect(10_000 * clusters).toBe(101_000_000);
  });
});
