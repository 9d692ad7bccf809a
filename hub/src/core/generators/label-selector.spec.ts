import { describe, expect, it } from 'vitest';
import type { LabelSelector } from '../app-set/app-set-spec';
import { matchesSelector } from './label-selector';

const labels = { region: 'eu', env: 'prod' };

describe('matchesSelector', () => {
  it.each<{ name: string; selector: LabelSelector | undefined; want: boolean }>([
    { name: 'an absent selector matches every cluster', selector: undefined, want: true },
    { name: 'an empty selector matches every cluster', selector: {}, want: true },
    { name: 'matchLabels matches when every label is equal', selector: { matchLabels: { region: 'eu', env: 'prod' } }, want: true },
    { name: 'matchLabels fails when one label differs', selector: { matchLabels: { region: 'us' } }, want: false },
    { name: 'matchLabels fails when the label is missing', selector: { matchLabels: { tier: 'gold' } }, want: false },
    { name: 'In matches a listed value', selector: { matchExpressions: [{ key: 'region', operator: 'In', values: ['us', 'eu'] }] }, want: true },
    { name: 'In fails on a missing label', selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold'] }] }, want: false },
    { name: 'NotIn fails on a listed value', selector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, want: false },
    { name: 'NotIn matches a missing label', selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gold'] }] }, want: true },
    { name: 'Exists matches a present label', selector: { matchExpressions: [{ key: 'env', operator: 'Exists' }] }, want: true },
    { name: 'DoesNotExist fails on a present label', selector: { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, want: false },
    {
      name: 'labels and expressions are ANDed',
      selector: { matchLabels: { region: 'eu' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] },
      want: false,
    },
  ])('$name', ({ selector, want }) => {
    expect(matchesSelector(labels, selector)).toBe(want);
  });
});
