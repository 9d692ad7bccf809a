import { describe, expect, it } from 'vitest';
import { boundedIntegerReader } from './env-reading';

/** Reads FLOTILLA_SAMPLE bounded to [1, 100] with fallback 7. */
const read = (value: string | undefined) => {
  const problems: string[] = [];
  const result = boundedIntegerReader({ FLOTILLA_SAMPLE: value }, problems)('FLOTILLA_SAMPLE', 7, 1, 100);
  return { result, problems };
};

describe('boundedIntegerReader', () => {
  it.each([
    { case: 'unset', value: undefined, result: 7 },
    { case: 'blank', value: '   ', result: 7 },
    { case: 'the lower bound', value: '1', result: 1 },
    { case: 'the upper bound, with spaces around', value: ' 100 ', result: 100 },
  ])('gives $result for $case, with no problem', ({ value, result }) => {
    expect(read(value)).toEqual({ result, problems: [] });
  });

  it.each([
    { case: 'below the bounds', value: '0', shown: '0' },
    { case: 'above the bounds', value: '101', shown: '101' },
    { case: 'a fraction', value: '2.5', shown: '2.5' },
    { case: 'not a number', value: 'lots', shown: 'lots' },
    { case: 'a long value, shown by its first 20 characters', value: '123456789012345678901234567890', shown: '12345678901234567890' },
  ])('gives the fallback for $case and names the variable and its bounds in one problem', ({ value, shown }) => {
    expect(read(value)).toEqual({ result: 7, problems: [`FLOTILLA_SAMPLE must be an integer from 1 to 100 (got "${shown}")`] });
  });
});
